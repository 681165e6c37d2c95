/**
 * SCHEMA changes in a flush of database changes (a table's columns renamed, dropped or retyped;
 * sql/install.sql note_schema, issue 19 item 2). Pure: no I/O.
 *
 * The relay puts a SCHEMA change in every key bucket after that bucket's earlier changes, so in
 * a flush's items the changes before it name the old columns and those after it the new ones
 * (for each bucket; buckets interleave). The flush renames the sheet's headers once, before it
 * writes any cell: so the changes before a rename have their columns renamed here to the names
 * the headers will have. A dropped column needs nothing on the sheet (its values stay, they are
 * the sheet's own now): it is reported once (the copy with `report`). A retyped column needs
 * nothing either: each change carries its column types, and applyToDb describes the table again.
 */
import * as v from 'valibot';
import { type DbChangeMessage, SchemaCells } from '../../wire/db-change.ts';

export interface SchemaShift {
  /** The data changes (SCHEMA ones left out), their columns named as after every rename. */
  messages: DbChangeMessage[];
  /** Position in the flush's items of each of `messages`. */
  positions: number[];
  /** Table columns renamed, old name → new, in the order they were renamed (chains kept). */
  renamed: Array<{ from: string; to: string }>;
  /** Dropped columns to report (from the reporting copies only), with their table. */
  dropped: Array<{ column: string; table: string }>;
  /** Columns given another type: name → type. */
  retyped: Map<string, string>;
}

export const isSchema = (message: DbChangeMessage) => message.op === 'SCHEMA';

export function schemaShift(all: readonly DbChangeMessage[]): SchemaShift {
  const shift: SchemaShift = { messages: [], positions: [], renamed: [], dropped: [], retyped: new Map() };
  // Each data change's own renames still to apply: those of SCHEMA changes after it.
  const pending: Array<Array<Record<string, string>>> = [];
  const seen = new Set<number>();
  all.forEach((message, position) => {
    if (!isSchema(message)) {
      shift.messages.push(message);
      shift.positions.push(position);
      pending.push([]);
      return;
    }
    const parsed = v.safeParse(SchemaCells, message.cells);
    if (!parsed.success) return;
    const cells = parsed.output;
    for (const later of pending) later.push(cells.renamed);
    // Every bucket's copy is the same change: its renames count once.
    if (!seen.has(message.changeId)) {
      seen.add(message.changeId);
      for (const [from, to] of Object.entries(cells.renamed)) shift.renamed.push({ from, to });
      for (const [column, type] of Object.entries(cells.retyped)) shift.retyped.set(column, type);
    }
    if (cells.report)
      for (const column of cells.dropped)
        if (!shift.dropped.some((d) => d.column === column))
          shift.dropped.push({ column, table: message.table });
  });
  shift.messages = shift.messages.map((message, i) => renameColumns(message, pending[i]!));
  return shift;
}

/** `message` with its columns renamed by each of `renames` in turn. */
function renameColumns(
  message: DbChangeMessage,
  renames: ReadonlyArray<Record<string, string>>,
): DbChangeMessage {
  if (renames.length === 0) return message;
  const name = (column: string) => renames.reduce((c, r) => r[c] ?? c, column);
  const map = <T>(record: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(record).map(([k, value]) => [name(k), value]));
  return {
    ...message,
    keyColumns: message.keyColumns.map(name),
    key: map(message.key),
    ...(message.previousKey ? { previousKey: map(message.previousKey) } : {}),
    cells: map(message.cells),
    ...(message.old ? { old: map(message.old) } : {}),
    types: map(message.types),
  };
}

/**
 * The header renames for a tab whose headers are `headers`: each table rename whose old column
 * has a header (found as applyToSheet finds headers, `headerOf`) and whose new name has none.
 * The rest are returned as `clashes` (the new name is already a header: the sheet is left alone).
 */
export function headerRenames(
  headers: readonly string[],
  renamed: SchemaShift['renamed'],
  headerOf: (headers: readonly string[]) => (column: string) => string | undefined,
): { renames: Array<{ from: string; to: string }>; clashes: Array<{ from: string; to: string }> } {
  let current = [...headers];
  const renames: Array<{ from: string; to: string }> = [];
  const clashes: Array<{ from: string; to: string }> = [];
  for (const { from, to } of renamed) {
    const find = headerOf(current);
    const header = find(from);
    if (header === undefined) continue;
    if (find(to) !== undefined) {
      clashes.push({ from: header, to });
      continue;
    }
    renames.push({ from: header, to });
    current = current.map((h) => (h === header ? to : h));
  }
  return { renames, clashes };
}
