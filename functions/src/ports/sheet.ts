/**
 * The Sheet port: what applyToSheet needs from a synced tab (read, verify, write), whatever
 * serves it. Adapter: adapters/sheets/sheet-tab.ts (the Sheets API, Google's or the local
 * sheet's). Position is never identity: a row is named by its sync id (the `_sheetsync_id`
 * column); its 1-based row is where it was at the read.
 */

export type SheetValue = string | number | boolean | null;

export interface TabSnapshot {
  sheetId: number;
  title: string;
  columnCount: number;
  rowCount: number;
  headers: string[];
  /** Zero-based column of `_sheetsync_id`, or null when the tab has none yet. */
  idColumn: number | null;
  /** rowId → its 1-based row and the row's values (as wide as the headers). */
  rows: Map<string, { row: number; values: SheetValue[] }>;
  /** Rows (1-based) whose id cell holds an id seen above it: pasted copies. */
  duplicateRows: number[];
  /** The last row (1-based) holding any value; 1 when only headers. */
  lastRow: number;
}

export interface TabWrite {
  /** Existing rows: header → value of the cells to change. */
  updates: Array<{ rowId: string; cells: Record<string, SheetValue> }>;
  /** New rows, appended at the end with their sync ids. */
  appends: Array<{ rowId: string; cells: Record<string, SheetValue> }>;
  /**
   * Rows put back at a row (1-based, as the tab stands after `deletes`) with their sync ids:
   * rows the database would not delete. A row past the last row is appended instead.
   */
  inserts?: Array<{ rowId: string; row: number; cells: Record<string, SheetValue> }>;
  /** Rows to delete, by sync id. */
  deletes: string[];
  /** Headers to add after the last header (table columns the sheet lacks). */
  addHeaders: string[];
  /**
   * Headers to rename (table columns renamed), each in turn, before any cell is placed: a
   * rename whose `from` is not a header, or whose `to` already is, is left out.
   */
  renameHeaders?: Array<{ from: string; to: string }>;
}

export interface WriteStats {
  writeRequests: number;
  cellsWritten: number;
  rowsAppended: number;
  rowsDeleted: number;
}

/** A write budget several tabs may share (one per API client): waits until a write may go. */
export interface WriteBudget {
  writeReady(): Promise<void>;
}

/** One synced tab. */
export interface Sheet {
  /** The budget its writes spend (tabs of one client share it). */
  readonly api: WriteBudget;
  /** The change token the last read() took (VersionStore.sheetEpochs, with its write hold). */
  readonly lastToken: unknown;
  /** The tab as it is now; the snapshot is the tab's to keep up to date: callers must not change it. */
  read(): Promise<TabSnapshot>;
  /**
   * Makes the values of rows `rowIds` current and proves every row's place by its id (rows in
   * `positionOnly`: the place only); returns the snapshot to use (`snapshot`, or a fresh read).
   */
  verify(
    snapshot: TabSnapshot,
    rowIds: Iterable<string>,
    positionOnly?: Iterable<string>,
  ): Promise<TabSnapshot>;
  /** Applies `write` to the tab as read in `snapshot`; the kept snapshot follows. */
  write(snapshot: TabSnapshot, write: TabWrite): Promise<WriteStats>;
  /**
   * Where a row deleted in the sheet goes back (a row of the tab after `deletes`), when the tab
   * saw it vanish; undefined otherwise.
   */
  returnRow(rowId: string, snapshot: TabSnapshot, deletes: readonly string[]): number | undefined;
}
