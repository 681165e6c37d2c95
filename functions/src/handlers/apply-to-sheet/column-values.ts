/**
 * applyToSheet's view of values: a DB change's values in the canonical form of their column's
 * type (the message carries the types), and a sheet row's values in that form, found under the
 * header that shows each column.
 */

import type { Cells } from '../../core/cell-value.ts';
import { fromDb, fromSheet } from '../../core/coercion.ts';
import { type ColumnType, parseColumnType } from '../../core/column-type.ts';
import type { SheetValue, TabSnapshot } from '../../ports/sheet.ts';
import type { DbChangeMessage } from '../../wire/db-change.ts';

/** Column types of one flush, parsed once each from the first message that names them. */
export class ColumnTypes {
  private readonly types = new Map<string, ColumnType>();

  typeOf(column: string, message: DbChangeMessage): ColumnType {
    let type = this.types.get(column);
    if (!type) {
      type = parseColumnType(message.types[column] ?? 'text');
      this.types.set(column, type);
    }
    return type;
  }

  /** A change's values, canonical per column type (a value that does not parse stays as it is). */
  canonical(cells: Record<string, unknown>, message: DbChangeMessage): Cells {
    const out: Cells = {};
    for (const [column, value] of Object.entries(cells)) {
      const coerced = fromDb(value as Cells[string], this.typeOf(column, message));
      out[column] = coerced.ok ? coerced.value : (value as Cells[string]);
    }
    return out;
  }
}

/** Column name → the sheet header that shows it (exact match first, then ignoring case and spaces). */
export function headerResolver(headers: readonly string[]): (column: string) => string | undefined {
  const loose = (s: string) =>
    s
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, '_');
  const exact = new Set(headers);
  const byLoose = new Map<string, string>();
  for (const h of headers) if (h && !byLoose.has(loose(h))) byLoose.set(loose(h), h);
  return (column) => (exact.has(column) ? column : byLoose.get(loose(column)));
}

/** The sheet's current values of a row, canonical per column type; null when no row has the id. */
export function sheetRow(
  snapshot: TabSnapshot,
  rowId: string,
  headerOf: (column: string) => string | undefined,
  message: DbChangeMessage,
  types: ColumnTypes,
): Cells | null {
  const row = snapshot.rows.get(rowId);
  if (!row) return null;
  const cells: Cells = {};
  for (const column of Object.keys(message.types)) {
    const h = headerOf(column);
    if (h === undefined) continue;
    const raw: SheetValue = row.values[snapshot.headers.indexOf(h)] ?? null;
    const coerced = fromSheet(raw === '' ? null : raw, types.typeOf(column, message));
    cells[column] = coerced.ok ? coerced.value : raw;
  }
  return cells;
}
