/**
 * sheetsync.row_ids (sql/install.sql): sync id → primary key of the rows written to the table
 * from the sheet, in the writing transaction. applyToDb finds in it a row the sheet still calls
 * new (the script's event for a row that just got its id) that is in the table already, and
 * updates that row instead of inserting it again. So attach, reconcile and the restore record
 * the rows they insert from the sheet, or whose documents they rebuild, here too.
 */
import type postgres from 'postgres';
import type { RowUpsert, WriteResult } from '../adapters/table/table-writer.ts';
import type { Cells } from '../core/cell-value.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Records the rows of `upserts` that `result` shows were inserted (new to the table). */
export async function recordInsertedRows(
  tx: postgres.TransactionSql,
  link: string,
  upserts: readonly RowUpsert[],
  result: WriteResult,
): Promise<void> {
  const rows = upserts.flatMap((u) =>
    !u.key && result.keys.has(u.rowId) ? [{ rowId: u.rowId, key: result.keys.get(u.rowId) as Cells }] : [],
  );
  await recordRowIds(tx, link, rows, 'update');
}

/**
 * Records sync id → key pairs; `keep` leaves a row id already recorded as it is (`update`
 * replaces its key, as an insert of the row does).
 */
export async function recordRowIds(
  sql: postgres.Sql | postgres.TransactionSql,
  link: string,
  rows: ReadonlyArray<{ rowId: string; key: Cells }>,
  onConflict: 'update' | 'keep',
): Promise<void> {
  // The column is a uuid: an id typed over on the sheet is not one, and has no row to find.
  rows = rows.filter((r) => UUID.test(r.rowId));
  if (rows.length === 0 || !(await hasRowIds(sql))) return;
  const body = JSON.stringify(rows.map((r) => ({ row_id: r.rowId, key: r.key })));
  await sql`
    insert into sheetsync.row_ids (link, row_id, key)
    select ${link}, r.row_id::uuid, r.key
    from jsonb_to_recordset(${body}::text::jsonb) as r(row_id text, key jsonb)
    ${onConflict === 'update' ? sql`on conflict (link, row_id) do update set key = excluded.key` : sql`on conflict (link, row_id) do nothing`}`;
}

/** The recorded keys of `rowIds` (rowId → key). */
export async function readRowIds(
  sql: postgres.Sql,
  link: string,
  rowIds: readonly string[],
): Promise<Map<string, Cells>> {
  const found = new Map<string, Cells>();
  rowIds = rowIds.filter((id) => UUID.test(id));
  if (rowIds.length === 0 || !(await hasRowIds(sql))) return found;
  const rows = await sql<Array<{ row_id: string; key: Cells }>>`
    select row_id::text as row_id, key from sheetsync.row_ids
    where link = ${link} and row_id = any(${rowIds as string[]}::uuid[])`;
  for (const r of rows) found.set(r.row_id, r.key);
  return found;
}

/**
 * Whether the table exists: attach and reconcile also run on a database that capture was never
 * installed in (a first attach before the pipeline starts), where no applyToDb looks there.
 */
async function hasRowIds(sql: postgres.Sql | postgres.TransactionSql): Promise<boolean> {
  const [row] = await sql<[{ found: boolean }]>`select to_regclass('sheetsync.row_ids') is not null as found`;
  return row?.found === true;
}
