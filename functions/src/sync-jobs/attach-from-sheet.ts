/**
 * attach when the table is empty (or missing) and the sheet holds rows: the table is created if
 * missing, with column types inferred from the sheet's values, then every sheet row is inserted
 * through reconcile (rows without a sync id get one).
 */
import { ID_HEADER, type SheetValue } from '../adapters/sheets/sheet-tab.ts';
import type { TableSchema } from '../adapters/table/table-schema.ts';
import type { InferredType } from '../ports/sync-database.ts';
import { type SyncDeps, syncDatabase } from './link-sync-deps.ts';
import { reconcileLink } from './reconcile.ts';
import type { Grid, SheetGrid } from './sheet-grid.ts';

export type { InferredType } from '../ports/sync-database.ts';

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const timestampPattern = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** The narrowest type that holds every non-empty value of a column; text when mixed. */
export function inferColumnType(values: readonly SheetValue[]): InferredType {
  const present = values.filter((v) => v !== null && v !== '');
  if (present.length === 0) return 'text';
  if (present.every((v) => typeof v === 'boolean')) return 'boolean';
  if (present.every((v) => typeof v === 'number')) {
    const numbers = present as number[];
    if (!numbers.every(Number.isSafeInteger)) return 'numeric';
    return numbers.every((n) => Math.abs(n) < 2 ** 31) ? 'integer' : 'bigint';
  }
  if (present.every((v) => typeof v === 'string' && datePattern.test(v))) return 'date';
  if (present.every((v) => typeof v === 'string' && timestampPattern.test(v))) return 'timestamptz';
  return 'text';
}

/** A header as a column name: lower case, runs of spaces and dashes as "_" (matchHeaders' rule). */
export function columnName(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

/** What attaching a link from its sheet did (one of attach.ts's AttachResults). */
export interface SheetToTableResult {
  mode: 'sheet-to-table';
  rows: number;
  createdTable: boolean;
  idsAssigned: number;
}

export async function attachFromSheet(
  deps: SyncDeps,
  _grid: SheetGrid,
  sheet: Grid,
  table: TableSchema | undefined,
): Promise<SheetToTableResult> {
  let created = false;
  if (!table) {
    await createTableFromSheet(deps, sheet);
    created = true;
  }
  const result = await reconcileLink({ ...deps, dryRun: false });
  return {
    mode: 'sheet-to-table',
    rows: result.rowsInsertedInDb,
    createdTable: created,
    idsAssigned: result.idsAssigned,
  };
}

async function createTableFromSheet(deps: SyncDeps, sheet: Grid): Promise<void> {
  const columns: Array<{ name: string; type: InferredType }> = [];
  sheet.headers.forEach((header, i) => {
    if (header === '' || header === ID_HEADER) return;
    columns.push({ name: columnName(header), type: inferColumnType(sheet.rows.map((r) => r[i] ?? null)) });
  });
  // A column "id" whose values are all present and distinct is the key; otherwise one is added.
  const idIndex = sheet.headers.findIndex((h) => columnName(h) === 'id');
  const ids = idIndex >= 0 ? sheet.rows.map((r) => r[idIndex]) : [];
  const idIsKey =
    idIndex >= 0 &&
    ids.every((v) => v !== null && v !== '' && v !== undefined) &&
    new Set(ids).size === ids.length;
  if (!idIsKey && idIndex >= 0)
    throw new Error(`column "id" of the sheet has empty or repeated values; it cannot be the key`);
  // The engine's types and DDL (SyncDatabase.createTable); without a key column, an `id` of
  // database-assigned numbers is added.
  await syncDatabase(deps).createTable({
    name: deps.link.table,
    columns,
    ...(idIsKey ? { key: 'id' } : {}),
  });
}
