/**
 * The main-thread side of the Apps Script services: answers each call a script worker makes
 * (see protocol.ts) against the spreadsheet model, the network, the lock table and the
 * script's saved state.
 */
import { randomInt } from 'node:crypto';
import type { ScriptSpreadsheetBackend, ScriptState } from './backend.ts';
import { FETCH_TIMEOUT_MS, fetchOverHttp } from './http-fetch.ts';
import type { QuotaLedger } from './limits.ts';
import type { LockTable } from './locks.ts';
import type {
  FetchRequest,
  FetchResponse,
  ServiceCall,
  ServiceOps,
  ServiceReply,
  TriggerShape,
} from './protocol.ts';

/** Google allows 20 triggers per user per script. */
const MAX_TRIGGERS = 20;

/** How the host spends time for an execution: real time, or the model clock's (model-time.ts). */
export interface HostTime {
  now(): number;
  /** Utilities.sleep of execution `runId`. */
  sleep(runId: number, ms: number): Promise<void>;
  /** Execution `runId` waits for `waiting` (a lock). */
  suspend<T>(runId: number, waiting: Promise<T>): Promise<T>;
  /** UrlFetchApp's exchange for execution `runId`. */
  fetch(request: FetchRequest, runId: number): Promise<FetchResponse>;
}

export const REAL_TIME: HostTime = {
  now: () => Date.now(),
  sleep: (_, ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  suspend: (_, waiting) => waiting,
  fetch: (request) => fetchOverHttp(request, AbortSignal.timeout(FETCH_TIMEOUT_MS)),
};

export interface ScriptHostOptions {
  /**
   * The limits model's counters: URL Fetch calls count against the day's quota, property
   * stores against their sizes.
   */
  ledger?: QuotaLedger;
  /** Default: real time. */
  time?: HostTime;
}

export interface ScriptHostHooks {
  /** A script line for the execution's log. */
  log(runId: number, level: 'info' | 'warn' | 'error', message: string): void;
  /** Called after the set of triggers of a spreadsheet changed (to (re)arm clocks). */
  triggersChanged(spreadsheetId: string): void;
}

/** Operations whose result is null may return nothing. */
type Reply<R> = [R] extends [null] ? unknown : R | Promise<R>;

type Handlers = {
  [K in keyof ServiceOps]: (runId: number, ...args: ServiceOps[K]['args']) => Reply<ServiceOps[K]['result']>;
};

export function createScriptHost(
  backend: ScriptSpreadsheetBackend,
  locks: LockTable,
  hooks: ScriptHostHooks,
  { ledger, time = REAL_TIME }: ScriptHostOptions = {},
): (call: ServiceCall, runId: number) => Promise<ServiceReply> {
  const cache = new Map<string, { value: string; expiresAt: number }>();
  const updateState = (spreadsheetId: string, change: (state: ScriptState) => void) => {
    const state = backend.loadScriptState(spreadsheetId);
    change(state);
    backend.saveScriptState(spreadsheetId, state);
  };
  const handlers: Handlers = {
    'spreadsheet.describe': (_, id) => backend.describe(id),
    'range.read': (_, id, box, render) => backend.read(id, box, render),
    'range.write': (_, id, box, values) => backend.write(id, box, values),
    'range.clear': (_, id, box) => backend.clear(id, box),
    'range.decorate': (_, id, box, change) => backend.decorate(id, box, change),
    'sheet.appendRow': (_, id, sheetId, values) => backend.appendRow(id, sheetId, values),
    'sheet.extent': (_, id, sheetId) => backend.extent(id, sheetId),
    'sheet.setHidden': (_, id, sheetId, hidden) => backend.setSheetHidden(id, sheetId, hidden),
    'sheet.insert': (_, id, title, index) => backend.insertSheet(id, title, index),
    'sheet.dimension': (_, id, sheetId, change, dim, start, count) =>
      backend.dimension(id, sheetId, change, dim, start, count),
    'sheet.protect': (_, id, target, description, warningOnly) =>
      backend.protect(id, target, description, warningOnly),
    'protection.update': (_, id, protectedRangeId, change) =>
      backend.updateProtection(id, protectedRangeId, change),
    'protection.remove': (_, id, protectedRangeId) => backend.removeProtection(id, protectedRangeId),
    'url.fetch': (runId, request) => {
      ledger?.urlFetch();
      return time.fetch(request, runId);
    },
    'properties.read': (_, id, store) => ({ ...backend.loadScriptState(id).properties[store] }),
    'properties.write': (_, id, store, set, remove) => {
      updateState(id, (state) => {
        const current = remove === 'all' ? {} : { ...state.properties[store] };
        if (remove !== 'all') for (const key of remove) delete current[key];
        const next = { ...current, ...set };
        ledger?.checkProperties(next, Object.keys(set));
        state.properties[store] = next;
      });
      return null;
    },
    'lock.acquire': (runId, key, timeoutMs) => time.suspend(runId, locks.acquire(key, runId, timeoutMs)),
    'lock.release': (runId, key) => locks.release(key, runId),
    'cache.get': (_, id, keys) => {
      const found: Record<string, string> = {};
      for (const key of keys) {
        const entry = cache.get(`${id}/${key}`);
        if (entry && entry.expiresAt > time.now()) found[key] = entry.value;
      }
      return found;
    },
    'cache.put': (_, id, entries, ttlSeconds) => {
      for (const [key, value] of Object.entries(entries)) {
        cache.set(`${id}/${key}`, { value, expiresAt: time.now() + ttlSeconds * 1000 });
      }
      return null;
    },
    'cache.remove': (_, id, keys) => {
      for (const key of keys) cache.delete(`${id}/${key}`);
      return null;
    },
    'trigger.create': (_, id, spec) => {
      const trigger: TriggerShape = { ...spec, triggerUid: newTriggerUid() };
      updateState(id, (state) => {
        if (state.triggers.length >= MAX_TRIGGERS) {
          throw new Error(
            'This script has too many triggers. Triggers must be deleted from the script before more can be added.',
          );
        }
        state.triggers.push(trigger);
      });
      hooks.triggersChanged(id);
      return trigger;
    },
    'trigger.list': (_, id) => backend.loadScriptState(id).triggers,
    'trigger.delete': (_, id, triggerUid) => {
      updateState(id, (state) => {
        state.triggers = state.triggers.filter((t) => t.triggerUid !== triggerUid);
      });
      hooks.triggersChanged(id);
      return null;
    },
    'clock.sleep': (runId, ms) => time.sleep(runId, ms),
    log: (runId, level, message) => hooks.log(runId, level, message),
  };
  return async (call, runId) => {
    try {
      const handler = handlers[call.op] as (runId: number, ...args: unknown[]) => unknown;
      if (!handler) return { ok: false, message: `Unknown service call ${call.op}` };
      return { ok: true, result: (await handler(runId, ...call.args)) ?? null };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  };
}

/** Trigger ids on Google are decimal strings of about 19 digits. */
function newTriggerUid(): string {
  return `${randomInt(1, 9)}${String(randomInt(0, 2 ** 47)).padStart(15, '0')}${randomInt(100, 999)}`;
}
