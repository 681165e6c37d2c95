/**
 * Writes a group of sheet changes to the table in one transaction, as set-based statements:
 * rows are grouped by the set of columns they change, and each group is one multi-row
 * UPDATE, INSERT … ON CONFLICT or DELETE fed by `jsonb_populate_recordset(null::table, $1)`,
 * which also casts every value to its column's type. Values are always parameters; identifiers
 * come from the catalog (table-schema.ts) and are quoted, never taken from sheet text.
 *
 * When a statement fails with an error that may be a row's own (postgres-errors.ts: anything the
 * server sent that does not pass with time: a constraint, an identity column typed into, a value
 * too large for an index, a column privilege…), its rows are tried again in halves under
 * savepoints, down to one row alone: a row that still fails alone is reported, and the others
 * apply. Deletes too: a row another table's foreign key refers to is refused alone. A transient
 * error (connection, deadlock, timeouts) fails the whole transaction, to be retried.
 */
import type postgres from 'postgres';
import type { Key, RowDelete, RowError, RowUpsert, TableSchema, WriteResult } from '../../ports/table.ts';
import { isRowRefusal, rowRefusalCode } from '../postgres-errors.ts';
import { withRowFallback as splitRefusedRows } from './row-fallback.ts';

export type { Key, RowDelete, RowError, RowUpsert, WriteResult } from '../../ports/table.ts';

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Writes upserts and deletes inside `tx` (an open transaction). */
export async function writeRows(
  tx: postgres.TransactionSql,
  table: TableSchema,
  upserts: readonly RowUpsert[],
  deletes: readonly RowDelete[],
): Promise<WriteResult> {
  const result: WriteResult = { keys: new Map(), deleted: new Set(), errors: [] };
  const groups = new Map<string, RowUpsert[]>();
  for (const row of upserts) {
    const columns = Object.keys(row.cells).sort();
    const groupKey = `${row.dot}|${row.key ? 'update' : 'insert'}:${columns.join(',')}`;
    const group = groups.get(groupKey) ?? [];
    group.push(row);
    groups.set(groupKey, group);
  }
  for (const rows of groups.values()) {
    await setDot(tx, rows[0]!.dot);
    await withRowFallback(tx, rows, result, 'upsert', (sp, batch, into) =>
      batch[0]!.key ? updateRows(sp, table, batch, into) : insertRows(sp, table, batch, into),
    );
  }
  const deletesByDot = new Map<string, RowDelete[]>();
  for (const row of deletes) deletesByDot.set(row.dot, [...(deletesByDot.get(row.dot) ?? []), row]);
  for (const [dot, rows] of deletesByDot) {
    await setDot(tx, dot);
    // A row another table's foreign key refers to is refused alone; the others are deleted.
    await withRowFallback(tx, rows, result, 'delete', (sp, batch, into) =>
      deleteRows(sp, table, batch, into),
    );
  }
  return result;
}

/**
 * The capture trigger records `sheetsync.dot` once per statement, so rows are written in groups
 * that share a dot (dots are per-row counters: a paste of new rows shares `sheet:1`).
 */
async function setDot(tx: postgres.TransactionSql, dot: string): Promise<void> {
  await tx`select set_config('sheetsync.dot', ${dot}, true)`;
}

/**
 * Writes `rows` under a savepoint; a failed batch is split to find the refused rows
 * (row-fallback.ts), each half under a savepoint of its own.
 */
function withRowFallback<T extends { rowId: string }>(
  tx: postgres.TransactionSql,
  rows: T[],
  result: WriteResult,
  op: RowError['op'],
  write: (sp: postgres.TransactionSql, rows: T[], into: WriteResult) => Promise<void>,
): Promise<void> {
  return splitRefusedRows(rows, result, op, {
    attempt: async (batch, into) => {
      await tx.savepoint((sp) => write(sp, batch, into));
    },
    isRowRefusal: (error): error is postgres.PostgresError => isRowRefusal(error),
    rowError,
  });
}

async function updateRows(
  tx: postgres.TransactionSql,
  table: TableSchema,
  rows: RowUpsert[],
  result: WriteResult,
) {
  const columns = Object.keys(rows[0]!.cells);
  const keyCols = table.primaryKey;
  if (columns.length === 0) {
    for (const row of rows) result.keys.set(row.rowId, row.key!);
    return;
  }
  const text = `
    with n as (select * from jsonb_populate_recordset(null::${table.qualified}, $1::jsonb) with ordinality),
         o as (select * from jsonb_populate_recordset(null::${table.qualified}, $2::jsonb) with ordinality)
    update ${table.qualified} as t
       set ${columns.map((c) => `${ident(c)} = n.${ident(c)}`).join(', ')}
      from n join o using (ordinality)
     where ${keyCols.map((k) => `t.${ident(k)} = o.${ident(k)}`).join(' and ')}
    returning n.ordinality as i, ${returningKey(table, 't.')}`;
  const found = await tx.unsafe(text, [rows.map((r) => r.cells) as never, rows.map((r) => r.key) as never]);
  const updated = new Set<number>();
  for (const f of found) {
    const row = rows[Number(f.i) - 1]!;
    updated.add(Number(f.i) - 1);
    result.keys.set(row.rowId, keyFrom(f, keyCols));
  }
  // A row the sheet knows but the table no longer has (deleted on the DB side meanwhile):
  // recreate it from the sheet's cells plus its key, as an insert.
  const missing = rows.filter((_, i) => !updated.has(i));
  if (missing.length > 0) {
    await insertRows(
      tx,
      table,
      missing.map((r) => ({ ...r, cells: { ...r.key, ...r.cells } })),
      result,
    );
  }
}

async function insertRows(
  tx: postgres.TransactionSql,
  table: TableSchema,
  rows: RowUpsert[],
  result: WriteResult,
) {
  const keyCols = table.primaryKey;
  const byColumns = new Map<string, RowUpsert[]>();
  // An empty cell in a column with a default (an identity key, a timestamp) lets the DB decide.
  const defaulted = new Set(table.columns.filter((c) => c.hasDefault).map((c) => c.name));
  rows = rows.map((row) => ({
    ...row,
    cells: Object.fromEntries(
      Object.entries(row.cells).filter(([c, v]) => !(v === null && defaulted.has(c))),
    ),
  }));
  for (const row of rows) {
    const columns = Object.keys(row.cells).sort().join(',');
    byColumns.set(columns, [...(byColumns.get(columns) ?? []), row]);
  }
  // A row the table holds already (matched on the link's key, else the primary key) is updated.
  const matchCols = table.matchKey ?? keyCols;
  for (const group of byColumns.values()) {
    const columns = Object.keys(group[0]!.cells);
    const hasKey = matchCols.every((k) => columns.includes(k));
    const list = columns.map(ident).join(', ');
    const conflict = !hasKey
      ? ''
      : columns.some((c) => !matchCols.includes(c))
        ? `on conflict (${matchCols.map(ident).join(', ')}) do update set ${columns
            .filter((c) => !matchCols.includes(c))
            .map((c) => `${ident(c)} = excluded.${ident(c)}`)
            .join(', ')}`
        : `on conflict (${matchCols.map(ident).join(', ')}) do nothing`;
    const text = `
      insert into ${table.qualified} ${columns.length > 0 ? `(${list})` : ''}
      ${
        columns.length > 0
          ? `select ${list} from jsonb_populate_recordset(null::${table.qualified}, $1::jsonb) with ordinality order by ordinality`
          : `select from generate_series(1, jsonb_array_length($1::jsonb))`
      }
      ${columns.length > 0 ? conflict : ''}
      returning ${returningKey(table, '')}`;
    const inserted = await tx.unsafe(text, [group.map((r) => r.cells) as never]);
    // INSERT … SELECT … ORDER BY returns rows in insertion order; ON CONFLICT DO NOTHING may
    // return fewer, in which case the keys are the ones the sheet gave.
    group.forEach((row, i) => {
      const returned = inserted.length === group.length ? inserted[i] : undefined;
      const key = returned
        ? keyFrom(returned, keyCols)
        : Object.fromEntries(keyCols.map((k) => [k, row.cells[k]]));
      result.keys.set(row.rowId, key);
    });
  }
}

async function deleteRows(
  tx: postgres.TransactionSql,
  table: TableSchema,
  rows: RowDelete[],
  result: WriteResult,
) {
  const keyCols = table.primaryKey;
  await tx.unsafe(
    `delete from ${table.qualified} as t
      using jsonb_populate_recordset(null::${table.qualified}, $1::jsonb) as k
      where ${keyCols.map((c) => `t.${ident(c)} = k.${ident(c)}`).join(' and ')}`,
    [rows.map((r) => r.key) as never],
  );
  for (const row of rows) result.deleted.add(row.rowId);
}

/**
 * The key columns as the outbox encodes them (sql/install.sql, sheetsync.value_expr): int8,
 * numeric and money as text, so JavaScript never rounds them; everything else as JSON.
 */
function returningKey(table: TableSchema, prefix: string): string {
  return table.primaryKey
    .map((k) => {
      const column = table.columns.find((c) => c.name === k)!;
      const exact = ['int8', 'numeric', 'money'].includes(column.baseType);
      return `${exact ? `${prefix}${ident(k)}::text` : `to_json(${prefix}${ident(k)})`} as ${ident(`k_${k}`)}`;
    })
    .join(', ');
}

function keyFrom(row: Record<string, unknown>, keyCols: readonly string[]): Key {
  return Object.fromEntries(keyCols.map((k) => [k, row[`k_${k}`]]));
}

function rowError(rowId: string, op: RowError['op'], error: postgres.PostgresError): RowError {
  return {
    rowId,
    op,
    sqlState: error.code,
    code: rowRefusalCode(error.code),
    message: error.message,
    ...(error.column_name ? { column: error.column_name } : {}),
  };
}

/**
 * Runs `fn` in a transaction whose writes the capture trigger records with origin 'sheet'
 * (SET LOCAL, so it ends with the transaction); writeRows sets each statement's dot.
 */
export function inSheetTransaction<T>(
  sql: postgres.Sql,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('sheetsync.origin', 'sheet', true)`;
    return fn(tx);
  }) as Promise<T>;
}
