/**
 * Messages between the Apps Script host (main thread) and a script worker.
 *
 * Apps Script services are synchronous, but the spreadsheet model, the HTTP client and the
 * locks live on the main thread, which must keep serving HTTP (the webhook a script calls
 * may be served by this same process). So a worker sends a {@link ServiceCall} over its
 * parent port, then blocks in `Atomics.wait` on a shared flag; the host answers on a
 * dedicated MessagePort and flips the flag; the worker wakes and reads the answer
 * synchronously with `receiveMessageOnPort` (the technique `synckit` uses).
 */

/** A value the spreadsheet model holds in a cell, as the script sees it before realm conversion. */
export type CellValue = string | number | boolean | { date: number };

/** What a script writes: strings are parsed as typed input; a Date keeps its instant. */
export type WritableCellValue = string | number | boolean | { epochMs: number };

/** A rectangle of one sheet, 1-based like Apps Script's Range. */
export interface GridBox {
  sheetId: number;
  row: number;
  column: number;
  numRows: number;
  numColumns: number;
}

/** A note (null: none) or a fill (an API Color; null: none) for every cell of a range. */
export type CellDecoration =
  | { note: string | null }
  | { background: { red: number; green: number; blue: number } | null };

/** Every call a script worker can make to its host, by operation name: arguments and result. */
export interface ServiceOps {
  'spreadsheet.describe': { args: [spreadsheetId: string]; result: SpreadsheetShape };
  'range.read': {
    args: [spreadsheetId: string, box: GridBox, render: 'value' | 'display' | 'formula'];
    result: CellValue[][];
  };
  'range.write': { args: [spreadsheetId: string, box: GridBox, values: WritableCellValue[][]]; result: null };
  'range.clear': { args: [spreadsheetId: string, box: GridBox]; result: null };
  /** Range.setNote / setBackground: every cell's note, or fill (null clears it). */
  'range.decorate': {
    args: [spreadsheetId: string, box: GridBox, change: CellDecoration];
    result: null;
  };
  'sheet.appendRow': {
    args: [spreadsheetId: string, sheetId: number, values: WritableCellValue[]];
    result: null;
  };
  'sheet.extent': {
    args: [spreadsheetId: string, sheetId: number];
    result: { lastRow: number; lastColumn: number };
  };
  'sheet.setHidden': { args: [spreadsheetId: string, sheetId: number, hidden: boolean]; result: null };
  'sheet.insert': { args: [spreadsheetId: string, title: string, index: number | null]; result: SheetShape };
  'sheet.dimension': {
    args: [
      spreadsheetId: string,
      sheetId: number,
      change: 'insert' | 'delete' | 'hide' | 'show',
      dimension: 'ROWS' | 'COLUMNS',
      startIndex: number,
      count: number,
    ];
    result: null;
  };
  'sheet.protect': {
    args: [
      spreadsheetId: string,
      box: GridBox | { sheetId: number },
      description: string,
      warningOnly: boolean,
    ];
    result: { protectedRangeId: number };
  };
  'protection.update': {
    args: [
      spreadsheetId: string,
      protectedRangeId: number,
      change: { description?: string; warningOnly?: boolean },
    ];
    result: null;
  };
  'protection.remove': { args: [spreadsheetId: string, protectedRangeId: number]; result: null };
  'url.fetch': { args: [request: FetchRequest]; result: FetchResponse };
  'properties.read': { args: [spreadsheetId: string, store: PropertyStore]; result: Record<string, string> };
  'properties.write': {
    args: [
      spreadsheetId: string,
      store: PropertyStore,
      set: Record<string, string>,
      remove: string[] | 'all',
    ];
    result: null;
  };
  'lock.acquire': { args: [lockKey: string, timeoutMs: number]; result: boolean };
  'lock.release': { args: [lockKey: string]; result: null };
  'cache.get': { args: [spreadsheetId: string, keys: string[]]; result: Record<string, string> };
  'cache.put': {
    args: [spreadsheetId: string, entries: Record<string, string>, ttlSeconds: number];
    result: null;
  };
  'cache.remove': { args: [spreadsheetId: string, keys: string[]]; result: null };
  'trigger.create': { args: [spreadsheetId: string, trigger: TriggerSpec]; result: TriggerShape };
  'trigger.list': { args: [spreadsheetId: string]; result: TriggerShape[] };
  'trigger.delete': { args: [spreadsheetId: string, triggerUid: string]; result: null };
  /** Utilities.sleep on the model clock (limits.ts); without it a worker sleeps by itself. */
  'clock.sleep': { args: [ms: number]; result: null };
  log: { args: [level: 'info' | 'warn' | 'error', message: string]; result: null };
}

export type ServiceOp = keyof ServiceOps;

export type PropertyStore = 'script' | 'document' | 'user';

export interface SheetShape {
  sheetId: number;
  title: string;
  index: number;
  rowCount: number;
  columnCount: number;
  hiddenColumns: number[];
  hidden: boolean;
}

export interface SpreadsheetShape {
  spreadsheetId: string;
  title: string;
  timeZone: string;
  url: string;
  sheets: SheetShape[];
}

export interface FetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Bytes of the body, if any. */
  body: Uint8Array | null;
  followRedirects: boolean;
}

export interface FetchResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What a script asks ScriptApp to install. */
export type TriggerSpec =
  | { handlerFunction: string; eventType: 'ON_EDIT' | 'ON_CHANGE' | 'ON_OPEN'; sourceId: string }
  | { handlerFunction: string; eventType: 'CLOCK'; everyMs: number };

export type TriggerShape = TriggerSpec & { triggerUid: string };

export interface ServiceCall {
  kind: 'call';
  op: ServiceOp;
  args: unknown[];
}

/** A call's answer; `now` is the model time it came back at, on the model clock (limits.ts). */
export type ServiceReply = ({ ok: true; result: unknown } | { ok: false; message: string }) & {
  now?: number;
};

/** The event a trigger run receives, in a form that crosses threads; the worker builds the real objects. */
export type TriggerEventSpec =
  | {
      type: 'edit';
      triggerUid: string;
      box: GridBox;
      user: string;
      value?: string;
      oldValue?: string;
    }
  | {
      type: 'change';
      triggerUid: string;
      changeType: ChangeType;
      user: string;
    }
  | { type: 'clock'; triggerUid: string; at: number; timeZone: string };

/** Google's `e.changeType` values for installable change triggers. */
export type ChangeType =
  | 'EDIT'
  | 'INSERT_ROW'
  | 'INSERT_COLUMN'
  | 'REMOVE_ROW'
  | 'REMOVE_COLUMN'
  | 'INSERT_GRID'
  | 'REMOVE_GRID'
  | 'FORMAT'
  | 'OTHER';

/** Host to worker: run one function of the script in a fresh global scope. */
export interface RunOrder {
  kind: 'run';
  runId: number;
  spreadsheetId: string;
  /** Script files in load order: name and source. */
  files: Array<{ name: string; source: string }>;
  functionName: string;
  event: TriggerEventSpec | null;
  args: unknown[];
  activeUser: string;
  timeZone: string;
  /** Set when the runtime models Google's limits (limits.ts). */
  limits?: RunLimits;
}

/** What a script worker needs of the limits model. */
export interface RunLimits {
  /**
   * The model time the execution starts at. The script's Date reads it, then the `now` of each
   * service call's answer: model time stands still while a script computes (virtual-clock.ts).
   */
  now: number;
  /** A person is present (a menu or editor run): without one, SpreadsheetApp.getUi() throws. */
  hasUi: boolean;
}

/** Worker to host, once, when it has loaded and listens for run orders. */
export interface WorkerReady {
  kind: 'ready';
}

/** Worker to host, when a run ends. */
export interface RunOutcome {
  kind: 'done';
  runId: number;
  ok: boolean;
  /** JSON-safe return value of the function, when it returned one. */
  result?: unknown;
  error?: { name: string; message: string; stack?: string };
}
