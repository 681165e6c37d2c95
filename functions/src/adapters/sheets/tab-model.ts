/**
 * The shapes SheetTab reads a tab into and writes it from, and small pure helpers on them.
 * Position is never identity: a row is named by its sync id (the `_sheetsync_id` column); its
 * 1-based row is where it was at the read.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { chunkBySize } from '../../core/chunk-by-size.ts';
import type { SheetValue, TabSnapshot, TabWrite } from '../../ports/sheet.ts';

export const ID_HEADER = '_sheetsync_id';
/** Google recommends payloads under 2 MB; stay well below. */
export const MAX_PAYLOAD_BYTES = 1_800_000;

export type { SheetValue, TabSnapshot, TabWrite, WriteStats } from '../../ports/sheet.ts';

/** A TabWrite with its inserts placed: rows within the tab, ascending, distinct. */
export type PlacedWrite = Omit<TabWrite, 'inserts'> & {
  inserts: Array<{ rowId: string; row: number; cells: Record<string, SheetValue> }>;
};

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
