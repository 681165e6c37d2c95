/**
 * Sheet headers matched to a table's columns, engine-neutral: the same rules whatever database
 * holds the table (the Table port describes it).
 */
import type { TableColumn, TableSchema } from '../ports/table.ts';

export interface HeaderMatch {
  /** Sheet header → table column, for the headers that name a writable column. */
  columns: Map<string, TableColumn>;
  /** Headers that name no column of the table (reported, then ignored). */
  unknown: string[];
}

/**
 * Matches sheet headers to columns: exactly first, then case- and space-insensitively
 * ("First name" → first_name). `_sheetsync_id` and empty headers are not data.
 */
export function matchHeaders(headers: readonly string[], table: TableSchema): HeaderMatch {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const byLoose = new Map(table.columns.map((c) => [looseColumnName(c.name), c]));
  const columns = new Map<string, TableColumn>();
  const unknown: string[] = [];
  for (const header of headers) {
    if (header === '' || header === '_sheetsync_id') continue;
    const column = byName.get(header) ?? byLoose.get(looseColumnName(header));
    if (column && !column.generated) columns.set(header, column);
    else unknown.push(header);
  }
  return { columns, unknown };
}

/** A header or column name compared loosely: case, spaces, `_` and `-` do not matter. */
export function looseColumnName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

/** `headers` after `renames` (TabWrite.renameHeaders), each applied in turn: a
 * rename to a name already a header is left out. */
export function renamedHeaders(
  headers: readonly string[],
  renames: ReadonlyArray<{ from: string; to: string }>,
): string[] {
  let out = [...headers];
  for (const { from, to } of renames) {
    if (out.includes(to)) continue;
    out = out.map((h) => (h === from ? to : h));
  }
  return out;
}
