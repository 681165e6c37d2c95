/**
 * The shapes SheetTab reads a tab into and writes it from, and small pure helpers on them.
 * Position is never identity: a row is named by its sync id (the `_sheetsync_id` column); its
 * 1-based row is where it was at the read.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { chunkBySize } from '../../core/chunk-by-size.ts';

export const ID_HEADER = '_sheetsync_id';
/** Google recommends payloads under 2 MB; stay well below. */
export const MAX_PAYLOAD_BYTES = 1_800_000;

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
}

/** A TabWrite with its inserts placed: rows within the tab, ascending, distinct. */
export type PlacedWrite = Omit<TabWrite, 'inserts'> & {
  inserts: Array<{ rowId: string; row: number; cells: Record<string, SheetValue> }>;
};

export interface WriteStats {
  writeRequests: number;
  cellsWritten: number;
  rowsAppended: number;
  rowsDeleted: number;
}

/** A snapshot's row ids by row (index = 1-based row; rows without an id are holes). */
export function idsByRow(snapshot: TabSnapshot): (string | undefined)[] {
  const byRow = new Array<string | undefined>(snapshot.lastRow + 1);
  for (const [id, { row }] of snapshot.rows) byRow[row] = id;
  return byRow;
}

/** A row with no value in any cell. */
export function isBlankRow(values: readonly (SheetValue | undefined)[]): boolean {
  return values.every((v) => v === '' || v === null || v === undefined);
}

/** RAW cell data: a string stays a string even when it starts with "=". */
export function cellData(value: SheetValue): sheets_v4.Schema$CellData {
  if (value === null || value === '') return {};
  if (typeof value === 'number') return { userEnteredValue: { numberValue: value } };
  if (typeof value === 'boolean') return { userEnteredValue: { boolValue: value } };
  return { userEnteredValue: { stringValue: value } };
}

/**
 * Splits items into chunks whose JSON (each item's, plus a comma) stays within `limit` bytes; an
 * item larger than that alone gets a chunk of its own.
 */
export function chunksUnder<T>(items: T[], limit: number): T[][] {
  return chunkBySize(items, {
    sizeOf: (item) => Buffer.byteLength(JSON.stringify(item)) + 1,
    maxSize: limit,
  });
}
