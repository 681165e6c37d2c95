/**
 * Re-identifying rows after a sort that left out the hidden id column.
 *
 * Row identity on the sheet is the hidden `_sheetsync_id` column. A person who selects the
 * visible columns and sorts them ("Data → Sort range", a filter's sort) moves the values but not
 * the ids: the script then reports each sorted row as an edit of the row whose id stayed at that
 * position. Applied as edits, that would rewrite every sorted row of the table with another
 * row's values (and turn key columns into rekeys and unique violations).
 *
 * The webhook recognises such an event: every row already had its id, the event carries every
 * synced column of each row, and the rows whose values differ from what sheetsync knows the
 * sheet shows (the row documents' `sheetValue`) hold, between them, exactly those rows' known
 * values in another order. Nothing is published for it; the answer tells the script which id
 * each moved row should have, and the script writes them into the id column (apps-script/).
 * A paste that happens to be such a permutation is treated the same, which is harmless: the
 * rows then show what they showed before, only at other positions.
 *
 * Values are compared loosely (cellKey), because the event holds the sheet's raw values and the
 * documents canonical ones: numbers by their decimal text, timestamps by their instant, JSON by
 * its structure. Two different values that compare equal could only swap the ids of two rows
 * that look alike. A row's values match its document's as the sheet is known to show them or as
 * decided (a database change on its way to the sheet, or written there and not yet recorded);
 * a value that matches neither makes the event not a permutation, and it is applied as edits.
 */

import { looseColumnName } from '../../adapters/table/table-schema.ts';
import { type Cells, type CellValue, stableText } from '../../core/cell-value.ts';
import { decimalText, normaliseDecimal } from '../../core/coercion.ts';
import type { RowDocument } from '../../core/row-document.ts';
import type { WebhookRow } from '../../wire/webhook.ts';

/** The row at sheet row `row` carried id `from` in the event and holds the values of row `to`. */
export interface RowMove {
  row: number;
  from: string;
  to: string;
}

/**
 * The moves that explain `rows` as a permutation of their own known values, or null when the
 * event is not one (then it is an edit). `docs` holds the row documents of the rows' ids.
 *
 * `others` are documents of rows outside the event, for one part of a sort whose event was split
 * (the script checks that the parts' moves together are a permutation before it writes any):
 * moved rows may then hold their values too, and one moved row is enough.
 */
export function findRowPermutation(
  rows: readonly WebhookRow[],
  docs: ReadonlyMap<string, RowDocument>,
  others: ReadonlyMap<string, RowDocument> = new Map(),
): RowMove[] | null {
  const shape = rowShapes(rows, docs);
  if (!shape) return null;
  const { known, now, columns } = shape;
  // The rows whose values are not their own known ones must hold each other's (or others').
  const available = new Map<string, string[]>();
  const offer = (rowId: string, forms: readonly string[]) => {
    for (const form of forms) {
      const list = available.get(form);
      if (list) list.push(rowId);
      else available.set(form, [rowId]);
    }
  };
  const moved: number[] = [];
  rows.forEach((row, i) => {
    if (known[i]!.includes(now[i]!)) return;
    moved.push(i);
    offer(row.rowId, known[i]!);
  });
  let outside = 0;
  for (const [rowId, doc] of others) {
    if (shape.ids.has(rowId) || doc.tombstone) continue;
    const forms = knownForms(doc, columns);
    if (!forms) continue;
    offer(rowId, forms);
    outside++;
  }
  if (moved.length < (outside > 0 ? 1 : 2)) return null;
  const taken = new Set<string>();
  const moves: RowMove[] = [];
  for (const i of moved) {
    const list = available.get(now[i]!) ?? [];
    let to = list.pop();
    while (to !== undefined && taken.has(to)) to = list.pop();
    if (to === undefined) return null;
    taken.add(to);
    moves.push({ row: rows[i]!.row, from: rows[i]!.rowId, to });
  }
  return moves;
}

/** How many rows' documents `mayBeSorted` reads before all of them are read. */
export const SORT_SAMPLE = 16;

/**
 * The rows whose documents tell cheaply whether `rows` may be a sort: up to SORT_SAMPLE of them,
 * spread over the event.
 */
export function sortSample(rows: readonly WebhookRow[]): WebhookRow[] {
  if (rows.length <= SORT_SAMPLE) return [...rows];
  return Array.from({ length: SORT_SAMPLE }, (_, i) => rows[Math.floor((i * rows.length) / SORT_SAMPLE)]!);
}

/**
 * Whether `rows` may be a sort, from the documents of a sample of them (sortSample): in a sort,
 * a sampled row that does not hold its own known values has moved, so its known values are held
 * by some row of the event. An edit of new values fails this at the first moved sampled row, so
 * an ordinary bulk edit reads SORT_SAMPLE documents instead of all of them.
 */
export function mayBeSorted(rows: readonly WebhookRow[], sample: ReadonlyMap<string, RowDocument>): boolean {
  const sampled = rows.filter((row) => sample.has(row.rowId));
  const shape = rowShapes(sampled, sample);
  if (!shape) return false;
  const held = new Set(rows.map((row) => valuesKey(row, shape.columns)));
  if (held.has(undefined)) return false;
  return sampled.every(
    (_, i) => shape.known[i]!.includes(shape.now[i]!) || shape.known[i]!.some((form) => held.has(form)),
  );
}

/** A row's values over `columns` as one comparison key, or undefined when one is missing. */
function valuesKey(row: WebhookRow, columns: readonly string[]): string | undefined {
  const headers = headerFor(row.cells);
  const values: string[] = [];
  for (const column of columns) {
    const header = headers(column);
    if (header === undefined) return undefined;
    values.push(cellKey(row.cells[header] ?? null));
  }
  return values.join('\u0000');
}

/**
 * The primary keys named by the values of the rows that do not hold their own known values, for
 * finding the rows whose values they hold when those are outside the event. A key value is put in
 * the canonical form of the row's own document's key (a number, or text), so it names the same
 * key document. Undefined when the event cannot be part of a sort or a key is not among the values.
 */
export function keysOfMovedRows(
  rows: readonly WebhookRow[],
  docs: ReadonlyMap<string, RowDocument>,
): Cells[] | undefined {
  const shape = rowShapes(rows, docs);
  if (!shape) return undefined;
  const keys: Cells[] = [];
  for (const [i, row] of rows.entries()) {
    if (shape.known[i]!.includes(shape.now[i]!)) continue;
    const own = docs.get(row.rowId)!.key;
    if (!own) return undefined;
    const headers = headerFor(row.cells);
    const key: Cells = {};
    for (const [column, ownValue] of Object.entries(own)) {
      const header = headers(column);
      const raw = header === undefined ? null : (row.cells[header] ?? null);
      if (raw === null || raw === '') return undefined;
      if (typeof ownValue === 'number') {
        const number = typeof raw === 'number' ? raw : Number(raw);
        if (typeof raw === 'boolean' || !Number.isFinite(number)) return undefined;
        key[column] = number;
      } else if (typeof ownValue === 'string') {
        const text =
          typeof raw === 'number' ? (normaliseDecimal(decimalText(raw)) ?? String(raw)) : String(raw);
        key[column] = uuidText.test(ownValue) ? text.toLowerCase() : text;
      } else {
        key[column] = raw;
      }
    }
    keys.push(key);
  }
  return keys;
}

const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Each row's values now and its known values (as the sheet is known to show them, and as
 * decided: they differ while a change is on its way to the sheet, or just written there and not
 * yet recorded), as comparison keys over the synced columns; null when the event cannot be a sort
 * (a new, unknown, deleted or repeated row, rows with different columns, a synced column missing:
 * a sort of some of the columns really moves values between rows).
 */
function rowShapes(rows: readonly WebhookRow[], docs: ReadonlyMap<string, RowDocument>) {
  if (rows.length === 0) return null;
  const ids = new Set<string>();
  let columns: string[] | undefined;
  const known: Array<readonly string[]> = [];
  const now: string[] = [];
  for (const row of rows) {
    if (row.isNew || ids.has(row.rowId)) return null;
    ids.add(row.rowId);
    const doc = docs.get(row.rowId);
    if (!doc || doc.tombstone) return null;
    const docColumns = Object.keys(doc.cells).sort();
    if (docColumns.length === 0) return null;
    if (!columns) columns = docColumns;
    else if (docColumns.join('\u0000') !== columns.join('\u0000')) return null;
    const values = valuesKey(row, columns);
    if (values === undefined) return null;
    now.push(values);
    known.push(knownForms(doc, columns)!);
  }
  return { ids, columns: columns!, known, now };
}

/** A document's known values over `columns` (one or two forms), or null if it lacks one. */
function knownForms(doc: RowDocument, columns: readonly string[]): readonly string[] | null {
  const cells = columns.map((column) => doc.cells[column]);
  if (cells.some((cell) => cell === undefined) || Object.keys(doc.cells).length !== columns.length)
    return null;
  const shown = cells.map((cell) => cellKey(cell!.sheetValue)).join('\u0000');
  const decided = cells.map((cell) => cellKey(cell!.value)).join('\u0000');
  return shown === decided ? [shown] : [shown, decided];
}

/** The event header of a column: the same name, or the same loosely (as matchHeaders does). */
function headerFor(cells: Readonly<Record<string, unknown>>): (column: string) => string | undefined {
  const byLoose = new Map<string, string>();
  for (const header of Object.keys(cells))
    if (!byLoose.has(looseColumnName(header))) byLoose.set(looseColumnName(header), header);
  return (column) => (Object.hasOwn(cells, column) ? column : byLoose.get(looseColumnName(column)));
}

const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/**
 * A value's comparison key, the same for a raw sheet value and the canonical value it stands for:
 * empty and NULL alike, numbers (and decimal text) by their normalised decimal text, ISO
 * timestamps by their instant, JSON text by its structure.
 */
export function cellKey(value: CellValue): string {
  if (value === null || value === '') return '';
  if (typeof value === 'boolean') return value ? 'b:true' : 'b:false';
  if (typeof value === 'number') return `n:${normaliseDecimal(decimalText(value)) ?? String(value)}`;
  if (typeof value === 'string') {
    const number = normaliseDecimal(value);
    if (number !== undefined) return `n:${number}`;
    if (isoTimestamp.test(value)) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms)) return `t:${ms}`;
    }
    const first = value.trimStart()[0];
    if (first === '{' || first === '[') {
      try {
        return `j:${stableText(JSON.parse(value) as CellValue)}`;
      } catch {
        // not JSON: plain text
      }
    }
    if (value.toLowerCase() === 'true' || value.toLowerCase() === 'false') return `b:${value.toLowerCase()}`;
    return `s:${value}`;
  }
  return `j:${stableText(value)}`;
}
