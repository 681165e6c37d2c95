/**
 * The real apps-script/ in the local sheet's Apps Script runtime (optionally under the model of
 * Google's limits), bound to one spreadsheet with a tab `Rows` (headers id, name) and set up
 * against a switchable webhook (apps-script-webhook.ts), with test helpers beside the script.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { sheets } from '@googleapis/sheets';
import { expect } from 'vitest';
import type { AppsScriptLimits } from '../../emulator/src/apps-script/limits.ts';
import type { Execution } from '../../emulator/src/apps-script/runtime.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { applyUserAction } from '../../emulator/src/user-actions/apply-action.ts';
import type { UserAction } from '../../emulator/src/user-actions/schema.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { scriptCopy } from '../support/sheet-sync-harness.ts';
import { userActions } from '../support/webhook-server.ts';
import { type SwitchableWebhook, startSwitchableWebhook } from './apps-script-webhook.ts';

export const TAB = 'Rows';
export const QUEUE = '_sheetsync_queue';

/** Test helpers run through the runtime next to the shipped script. */
const HELPERS = `
function removeClock() {
  ScriptApp.getProjectTriggers()
    .filter((trigger) => trigger.getHandlerFunction() === 'flushQueue')
    .forEach((trigger) => ScriptApp.deleteTrigger(trigger));
}
function setTestProperties(json) { PropertiesService.getScriptProperties().setProperties(JSON.parse(json)); }
function holdLock(ms) {
  const lock = LockService.getScriptLock();
  lock.waitLock(600000);
  Utilities.sleep(ms);
  lock.releaseLock();
}
/** Writes rows first..first+count-1 and sends each as its own edit event, as its trigger would. */
function editRows(first, count) {
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName('${TAB}');
  const last = first + count - 1;
  if (last > sheet.getMaxRows()) sheet.insertRowsAfter(sheet.getMaxRows(), last - sheet.getMaxRows());
  for (let r = first; r <= last; r++) {
    const range = sheet.getRange(r, 1, 1, 2);
    range.setValues([['k' + r, 'name ' + r]]);
    handleEdit({ range: range });
  }
}
/** Fills the Script Properties until the store refuses even one more character. */
function fillProperties() {
  const store = PropertiesService.getScriptProperties();
  let n = 0;
  [9000, 1000, 100, 10, 1].forEach((size) => {
    try { for (;; n++) store.setProperty('FILLER_' + n, 'x'.repeat(size)); } catch (error) {}
  });
  return n;
}
function clearFiller() {
  const store = PropertiesService.getScriptProperties();
  store.getKeys().filter((key) => key.indexOf('FILLER_') === 0).forEach((key) => store.deleteProperty(key));
}
`;

export interface ScriptHarness {
  emulator: Emulator;
  webhook: SwitchableWebhook;
  spreadsheetId: string;
  run(fn: string, args?: unknown[]): Promise<Execution>;
  act(actions: unknown[]): Promise<Array<{ triggers: Array<{ status: string; error?: string }> }>>;
  /** Rows with content in a tab, 0 when it does not exist. */
  rowsOf(title: string): number;
  /** The `name` cells of the rows published, in order. */
  names(): unknown[];
  /** Lets model time pass (the limits model only): the minute trigger fires on the way. */
  advance(ms: number): Promise<void>;
  /**
   * A person's action once `ms` of model time from now have passed (the limits model only), in
   * the midst of the executions running then: the statuses of the triggers it fired.
   */
  actAfter(ms: number, action: UserAction): Promise<string[]>;
  /**
   * Lets model time pass a second at a time until `condition` holds; false when it still does
   * not after `withinMs` of model time.
   */
  advanceUntil(condition: () => boolean, withinMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startScriptHarness(
  options: {
    /** Without limits, the trigger periods' scale; with them, the model clock's pacing (0: none). */
    timeScale?: number;
    limits?: Partial<AppsScriptLimits>;
    /** Script Properties set after setup (the script's settings: SHEETSYNC_LOCK_WAIT_MS, …). */
    properties?: Record<string, string>;
    /** Keep the minute trigger (flushQueue); by default it goes and tests flush themselves. */
    clock?: boolean;
  } = {},
): Promise<ScriptHarness> {
  const spreadsheetId = `script-${randomUUID()}`;
  const secret = `secret-${randomUUID()}`;
  const scriptDir = scriptCopy({ 'test-helpers.js': HELPERS });
  let emulator: Emulator | undefined;
  const webhook = await startSwitchableWebhook({
    spreadsheetId,
    sheet: TAB,
    secret,
    now: () => emulator?.appsScript?.now() ?? Date.now(),
  });
  emulator = await createEmulator({
    port: 0,
    quotas: { enabled: false },
    appsScript: {
      scriptDir,
      timeScale: options.timeScale ?? 1,
      ...(options.limits
        ? { limits: options.limits, costs: { serverLatencyMs: (url: string) => webhook.modelLatencyMs(url) } }
        : {}),
    },
  });
  emulator.model.create({ spreadsheetId, sheets: [{ title: TAB, sheetId: 0 }] }, 'api');
  await sheets({ version: 'v4', rootUrl: `${emulator.url}/` }).spreadsheets.values.update({
    spreadsheetId,
    range: `${TAB}!A1`,
    valueInputOption: 'RAW',
    requestBody: { values: [['id', 'name']] },
  });
  const runtime = emulator.appsScript!;
  const run = (fn: string, args: unknown[] = []) => runtime.run(spreadsheetId, fn, args);
  for (const [fn, args] of [
    ['setup', [webhook.url, spreadsheetSecret(secret, spreadsheetId), TAB]],
    ['setTestProperties', [JSON.stringify(options.properties ?? {})]],
  ] as const) {
    const execution = await run(fn, [...args]);
    expect(execution.status, execution.error).toBe('COMPLETED');
  }
  if (!options.clock) {
    const unclocked = await run('removeClock');
    expect(unclocked.status, unclocked.error).toBe('COMPLETED');
  }
  // Every worker of the pool started, so an execution starts when asked (the lock tests time it).
  await Promise.all(Array.from({ length: 4 }, () => run('setTestProperties', ['{}'])));
  const model = emulator.model;
  return {
    emulator,
    webhook,
    spreadsheetId,
    run,
    async act(actions) {
      const response = await userActions(emulator!.url, spreadsheetId, actions);
      expect(response.status).toBe(200);
      return ((await response.json()) as { results: Awaited<ReturnType<ScriptHarness['act']>> }).results;
    },
    rowsOf: (title) =>
      model
        .get(spreadsheetId)
        .sheets.find((s) => s.title === title)
        ?.dataExtent().rows ?? 0,
    names: () => webhook.published.map((change) => change.cells.name),
    advance: (ms) => runtime.advance(ms),
    actAfter: (ms, action) =>
      new Promise((resolve, reject) => {
        runtime.after(ms, () => {
          try {
            const { firing } = applyUserAction(model, spreadsheetId, action);
            runtime
              .fireUserAction(spreadsheetId, firing)
              .then((runs) => resolve(runs.map((e) => e.status)), reject);
          } catch (error) {
            reject(error);
          }
        });
      }),
    async advanceUntil(condition, withinMs) {
      const deadline = runtime.now() + withinMs;
      while (!condition()) {
        if (runtime.now() >= deadline) return false;
        await runtime.advance(1_000);
      }
      return true;
    },
    async close() {
      await emulator?.close();
      await webhook.close();
      rmSync(scriptDir, { recursive: true, force: true });
    },
  };
}
