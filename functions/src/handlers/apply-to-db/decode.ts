/**
 * applyToDb, step 1 (decode): a sheet change's headers → the link's columns, its values → the
 * canonical form of each column's type. Bad cells are left out and become problems (E407, E408,
 * E415), reported only if the flush applies the change.
 */
import {
  type CellError,
  coerceSheetCells,
  isSheetPreviewOf,
  SHEET_CELL_MAX_CHARS,
  type SheetValue,
} from '../../core/coercion.ts';
import { type ColumnType, parseColumnType } from '../../core/column-type.ts';
import { looseColumnName, matchHeaders } from '../../core/header-match.ts';
import { allowedColumns } from '../../core/link-columns.ts';
import type { RowDocument } from '../../core/row-document.ts';
import type { Table, TableSchema } from '../../ports/table.ts';
import type { RowChange } from '../../wire/row-change.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';
import type { DbLink, RowProblem } from './types.ts';

export interface LinkTable {
  /** The table as the link sees it: only the columns it syncs (`columns` and the key). */
  schema: TableSchema;
  types: Record<string, ColumnType>;
  /** Loose names of the table's columns outside the link's `columns`. */
  excluded: Set<string>;
  /** The column each sheet change writes its editor's email to (links[].attribution), if synced. */
  attribution?: string;
}

/**
 * How long a link's table description is used before it is read again: an ALTER TABLE (a column
 * added, renamed or retyped) reaches the sheet → database path within this without a restart
 * (issue 19). Describing costs a few catalog queries, once per link per period.
 */
export const TABLE_DESCRIPTION_MS = 5_000;

export interface LinkTables {
  (link: string): Promise<LinkTable>;
  /** Drops a link's description: the table changed under it (postgres-errors.ts TABLE_CHANGED). */
  forget(link: string): void;
  /**
   * Describes the link's table again if its description is older than `minAgeMs`: a header the
   * table does not seem to have may be a column just added. Returns whether it did.
   */
  refresh(link: string, minAgeMs: number): boolean;
}

/**
 * Each link's table, described and kept for TABLE_DESCRIPTION_MS (a failed description is tried
 * again next time).
 */
export function linkTables(
  database: Table,
  links: ReadonlyMap<string, DbLink>,
  now: () => number = Date.now,
): LinkTables {
  const tables = new Map<string, { table: Promise<LinkTable>; at: number }>();
  const load = (link: string): Promise<LinkTable> => {
    const kept = tables.get(link);
    if (kept && now() - kept.at < TABLE_DESCRIPTION_MS) return kept.table;
    const config = links.get(link);
    if (!config) return Promise.reject(new Error(`no link named ${link}`));
    const table = database.describe(config.table, { name: link, key: config.key }).then((whole) => {
      // Columns outside the link's list are never written from the sheet (core/link-columns.ts).
      const allowed = allowedColumns(config.columns, whole.primaryKey);
      const schema = { ...whole, columns: whole.columns.filter((c) => !allowed || allowed.has(c.name)) };
      // Written only to a column the link writes (a generated one the database computes).
      const attribution = schema.columns.find((c) => c.name === config.attribution?.column && !c.generated);
      return {
        schema,
        ...(attribution ? { attribution: attribution.name } : {}),
        types: Object.fromEntries(schema.columns.map((c) => [c.name, parseColumnType(c.type)])),
        excluded: new Set(
          whole.columns.filter((c) => allowed && !allowed.has(c.name)).map((c) => looseColumnName(c.name)),
        ),
      };
    });
    const entry = { table, at: now() };
    table.catch(() => {
      if (tables.get(link) === entry) tables.delete(link);
    });
    tables.set(link, entry);
    return table;
  };
  const refresh = (link: string, minAgeMs: number): boolean => {
    const kept = tables.get(link);
    if (!kept || now() - kept.at < minAgeMs) return false;
    tables.delete(link);
    return true;
  };
  return Object.assign(load, { forget: (link: string) => void tables.delete(link), refresh });
}

/** A change as decoded, with what the decision needs to know about its cells. */
export interface DecodedChange {
  change: RowChange;
  /** Its problems, reported only if this flush applies the change. */
  problems: RowProblem[];
  /** Cells that may show sheetsync's preview of a value too long for the sheet. */
  maybePreviews: Array<{ column: string; header: string; value: SheetValue }>;
  /** The sync id of the row this new row was pasted from, and where the row is (for the report). */
  copyOf?: string;
  row?: number;
  /** The row was pasted over on the sheet: its table values go back to the sheet (no write). */
  restore?: true;
}

/** Headers → columns, then values → canonical form. */
export function decodeChange(link: string, table: LinkTable, message: SheetChangeMessage): DecodedChange {
  const { schema, types, excluded } = table;
  const problems: RowProblem[] = [];
  const maybePreviews: DecodedChange['maybePreviews'] = [];
  const match = matchHeaders(Object.keys(message.cells), schema);
  for (const header of match.unknown) {
    const outside = excluded.has(looseColumnName(header));
    problems.push({
      link,
      rowId: message.rowId,
      row: message.row,
      column: header,
      code: outside ? 'SHEETSYNC_E415' : 'SHEETSYNC_E408',
      message: outside
        ? `column "${header}" is not among link ${link}'s columns (links[].columns); its values are not written to the table`
        : `column "${header}" is not in table ${schema.schema}.${schema.name}; its values are not synced`,
      time: message.time,
    });
  }
  const byColumn: Record<string, SheetValue> = {};
  const headerOf = new Map<string, string>();
  for (const [header, column] of match.columns) {
    const value = message.cells[header] ?? null;
    byColumn[column.name] = value;
    headerOf.set(column.name, header);
    if (typeof value === 'string' && value.length > SHEET_CELL_MAX_CHARS - 1_000)
      maybePreviews.push({ column: column.name, header, value });
  }
  const { cells, errors } = coerceSheetCells(byColumn, types);
  // Who made the edit, when the script knew (links[].attribution): with each upsert of the row.
  if (table.attribution && message.user && message.op === 'upsert') cells[table.attribution] = message.user;
  problems.push(...errors.map((e) => cellProblem(link, message, e, headerOf.get(e.column))));
  const change: RowChange = {
    link,
    rowId: message.rowId,
    op: message.op === 'restore' ? 'upsert' : message.op,
    cells,
    origin: 'sheet',
    time: { wall: message.time, logical: 0 },
    eventId: message.eventId,
  };
  return {
    change,
    problems,
    maybePreviews,
    ...(message.copyOf ? { copyOf: message.copyOf } : {}),
    ...(message.op === 'restore' ? { restore: true as const } : {}),
    ...(message.row === undefined ? {} : { row: message.row }),
  };
}

/**
 * A cell that shows the preview applyToSheet wrote of a value too long for a sheet cell
 * (coercion.sheetPreview), sent back as it is (the row pasted or copied over itself), is not
 * an edit: the value stays whole in the table. Drops such cells from `decoded`, in place.
 */
export function dropPreviews(
  decoded: readonly DecodedChange[],
  docs: ReadonlyMap<string, RowDocument>,
  types: Record<string, ColumnType>,
): void {
  for (const item of decoded) {
    const { change } = item;
    for (const { column, header, value } of item.maybePreviews) {
      const state = docs.get(change.rowId)?.cells[column];
      if (!state || !isSheetPreviewOf(value, state.sheetValue ?? state.value, types[column]!)) continue;
      delete change.cells[column];
      item.problems = item.problems.filter((p) => !(p.code === 'SHEETSYNC_E407' && p.column === header));
    }
  }
}

function cellProblem(
  link: string,
  message: SheetChangeMessage,
  error: CellError,
  header: string | undefined,
): RowProblem {
  return {
    link,
    rowId: message.rowId,
    row: message.row,
    column: header ?? error.column,
    value: error.value,
    code: 'SHEETSYNC_E407',
    message: `"${String(error.value)}" does not fit column ${error.column} (${error.type}): ${error.message}`,
    time: message.time,
  };
}
