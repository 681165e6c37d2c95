/**
 * A script worker thread: runs one Apps Script execution at a time. Each execution gets a fresh
 * `vm` context with the script files loaded in order and the services installed, as each
 * Google execution starts from a fresh global scope. The worker blocks while the host serves a
 * service call (see protocol.ts), which is what makes the services synchronous.
 */
import { inspect } from 'node:util';
import vm from 'node:vm';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createHostCall, type HostCall } from './host-call.ts';
import type { RunOrder, RunOutcome, TriggerEventSpec, WorkerReady } from './protocol.ts';
import { createScriptRealm, installModelClock } from './script-realm.ts';
import { createCacheService } from './services/cache-service.ts';
import { createLockService } from './services/lock-service.ts';
import { createPropertiesService } from './services/properties-service.ts';
import { createScriptApp } from './services/script-app.ts';
import { createSpreadsheetApp, type Spreadsheet } from './services/spreadsheet-app.ts';
import { createUrlFetchApp } from './services/url-fetch-app.ts';
import { createUtilities } from './services/utilities.ts';

const { replyPort, flag } = workerData as { replyPort: MessagePort; flag: SharedArrayBuffer };
/** The model time of the execution running, when it runs on the model clock (limits.ts). */
let modelNow = 0;
const call = createHostCall(replyPort, new Int32Array(flag), (reply) => {
  if (reply.now !== undefined) modelNow = reply.now;
});

parentPort!.on('message', (order: RunOrder) => {
  if (order.kind !== 'run') return;
  parentPort!.postMessage(execute(order));
});
parentPort!.postMessage({ kind: 'ready' } satisfies WorkerReady);

function execute(order: RunOrder): RunOutcome {
  try {
    const { context, toScript, spreadsheetApp } = buildGlobals(call, order);
    for (const file of order.files) vm.runInContext(file.source, context, { filename: file.name });
    const handler = context[order.functionName];
    if (typeof handler !== 'function') {
      throw new Error(`Script function not found: ${order.functionName}`);
    }
    const args = order.event
      ? [buildEvent(order.event, spreadsheetApp.getActive(), toScript)]
      : order.args.map(toScript);
    const result = handler(...args);
    return { kind: 'done', runId: order.runId, ok: true, result: jsonSafe(result) };
  } catch (error) {
    const e = error as { name?: string; message?: string; stack?: string };
    const name = typeof e?.name === 'string' ? e.name : 'Error';
    const message = typeof e?.message === 'string' ? e.message : String(error);
    return { kind: 'done', runId: order.runId, ok: false, error: { name, message, stack: e?.stack } };
  }
}

function buildGlobals(call: HostCall, order: RunOrder) {
  const log =
    (level: 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) =>
      call('log', level, parts.map((p) => (typeof p === 'string' ? p : inspect(p, { depth: 4 }))).join(' '));
  const logLines: string[] = [];
  const Logger = {
    log(format: unknown, ...values: unknown[]) {
      let i = 0;
      const text =
        typeof format === 'string' && values.length > 0
          ? format.replace(/%s/g, () => String(values[i++]))
          : typeof format === 'string'
            ? format
            : inspect(format, { depth: 4 });
      logLines.push(text);
      log('info')(text);
      return Logger;
    },
    getLog: () => logLines.join('\n'),
    clear: () => {
      logLines.length = 0;
    },
  };
  const realm = createScriptRealm({});
  const { toScript } = realm;
  const limits = order.limits;
  if (limits) {
    modelNow = limits.now;
    installModelClock(realm.context, () => modelNow);
  }
  const strictCharsets = limits !== undefined;
  const spreadsheetApp = createSpreadsheetApp({
    call,
    spreadsheetId: order.spreadsheetId,
    activeSheetId: order.event?.type === 'edit' ? order.event.box.sheetId : null,
    timeZone: order.timeZone,
    hasUi: limits?.hasUi ?? true,
    toScript,
    log: log('info'),
  });
  const user = {
    getEmail: () => order.activeUser,
    getUsername: () => order.activeUser.split('@')[0],
    toString: () => order.activeUser,
  };
  const globals: Record<string, unknown> = {
    SpreadsheetApp: spreadsheetApp,
    UrlFetchApp: createUrlFetchApp(call, toScript, strictCharsets),
    PropertiesService: createPropertiesService(call, order.spreadsheetId, toScript),
    LockService: createLockService(call, order.spreadsheetId, order.activeUser),
    CacheService: createCacheService(call, order.spreadsheetId, toScript),
    ScriptApp: createScriptApp(call, order.spreadsheetId, toScript),
    Utilities: createUtilities(toScript, {
      ...(limits ? { sleep: (ms: number) => call('clock.sleep', ms) } : {}),
      strictCharsets,
    }),
    Session: {
      getActiveUser: () => user,
      getEffectiveUser: () => user,
      getScriptTimeZone: () => order.timeZone,
      getActiveUserLocale: () => 'en',
      getTemporaryActiveUserKey: () => Buffer.from(order.activeUser).toString('base64url'),
    },
    Logger,
    console: {
      log: log('info'),
      info: log('info'),
      debug: log('info'),
      warn: log('warn'),
      error: log('error'),
    },
  };
  for (const [name, value] of Object.entries(globals)) realm.context[name] = value;
  return { context: realm.context, toScript, spreadsheetApp };
}

/**
 * Builds `e` as Google does (https://developers.google.com/apps-script/guides/triggers/events):
 * edit: authMode, range, source, triggerUid, user, and value/oldValue only when the host set them
 * (single-cell edits); change: authMode, changeType, source, triggerUid, user; clock: the date fields.
 */
function buildEvent(
  spec: TriggerEventSpec,
  source: Spreadsheet,
  toScript: (value: unknown) => unknown,
): unknown {
  const user = (email: string) => ({
    email,
    nickname: email.split('@')[0],
    getEmail: () => email,
    getNickname: () => email.split('@')[0],
    toString: () => email,
  });
  if (spec.type === 'edit') {
    const sheet = source.getSheetById(spec.box.sheetId);
    const event: Record<string, unknown> = {
      authMode: 'FULL',
      range: sheet?.eventRange(spec.box),
      source,
      triggerUid: spec.triggerUid,
      user: user(spec.user),
    };
    if (spec.value !== undefined) event.value = spec.value;
    if (spec.oldValue !== undefined) event.oldValue = spec.oldValue;
    return toScript(event);
  }
  if (spec.type === 'change') {
    return toScript({
      authMode: 'FULL',
      changeType: spec.changeType,
      source,
      triggerUid: spec.triggerUid,
      user: user(spec.user),
    });
  }
  const at = new Date(spec.at);
  const startOfYear = Date.UTC(at.getUTCFullYear(), 0, 1);
  return toScript({
    authMode: 'FULL',
    'day-of-month': at.getUTCDate(),
    'day-of-week': at.getUTCDay() === 0 ? 7 : at.getUTCDay(),
    hour: at.getUTCHours(),
    minute: at.getUTCMinutes(),
    month: at.getUTCMonth() + 1,
    second: at.getUTCSeconds(),
    timezone: 'UTC',
    triggerUid: spec.triggerUid,
    'week-of-year': Math.ceil(
      ((spec.at - startOfYear) / 86_400_000 + new Date(startOfYear).getUTCDay() + 1) / 7,
    ),
    year: at.getUTCFullYear(),
  });
}

function jsonSafe(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    return String(value);
  }
}
