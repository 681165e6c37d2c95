/**
 * Writes a group of sheet changes to a MySQL/MariaDB table inside one transaction, as set-based
 * statements, with the PostgreSQL writer's contract (table/table-writer.ts): rows grouped by
 * the columns they change; updates of those columns only, as one multi-row UPDATE … JOIN; new
 * rows as one multi-row INSERT (… ON DUPLICATE KEY UPDATE of the changed columns when the match
 * key is the table's only unique key, else matched rows updated and the rest inserted, so a
 * duplicate in another unique key is refused rather than updating some other row); deletes as
 * one DELETE … WHERE key IN. Values are always parameters, identifiers come from the catalog.
 *
 * A statement that fails with what may be a row's own error (mysql-errors.ts) is retried in
 * halves under savepoints down to one row; a row that fails alone is reported, the others apply.
 * InnoDB undoes a failed statement by itself, but a batch is several statements (select, update,
 * insert), hence the savepoint. A transient error (deadlock, lock wait timeout, lost connection)
 * fails the whole transaction, to be retried; MySQL has already rolled a deadlock back.
 */
import type { Cells } from '../../core/cell-value.ts';
import { withRowFallback as splitRefusedRows } from '../table/row-fallback.ts';
import type { RowDelete, RowError, RowUpsert, WriteResult } from '../table/table-writer.ts';
import type { MysqlConnection } from './mysql-connection.ts';
import { isMysqlRowRefusal, type MysqlServerError, mysqlRowRefusalCode } from './mysql-errors.ts';
import { insertMysqlRows } from './mysql-insert.ts';
import { type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';
import {
  canonicalCells,
  canonicalKey,
  canonicalKeyId,
  chunks,
  derivedRows,
  keyIn,
  valuesOf,
} from './mysql-statements.ts';

/** A refused row, with MySQL's error number beside its SQLSTATE. */
export interface MysqlRowError extends RowError {
  errno: number;
}

export interface MysqlWriteResult extends WriteResult {
  errors: MysqlRowError[];
}

/**
 * Writes upserts and deletes on `connection`, inside a transaction the caller opened
 * (inSheetTransaction). Each group's dot is set in `@sheetsync_dot` for the capture triggers.
 */
export async function writeMysqlRows(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  upserts: readonly RowUpsert[],
  deletes: readonly RowDelete[],
): Promise<MysqlWriteResult> {
  const result: MysqlWriteResult = { keys: new Map(), deleted: new Set(), errors: [] };
  const groups = new Map<string, RowUpsert[]>();
  for (const row of upserts) {
    const columns = Object.keys(row.cells).sort();
    const groupKey = `${row.dot}|${row.key ? 'update' : 'insert'}:${columns.join(',')}`;
    groups.set(groupKey, [...(groups.get(groupKey) ?? []), row]);
  }
  for (const group of groups.values()) {
    await setDot(connection, group[0]!.dot);
    for (const rows of chunks(group, Object.keys(group[0]!.cells).length + table.primaryKey.length)) {
      await withRowFallback(connection, rows, result, 'upsert', (batch, into) =>
        batch[0]!.key
          ? updateRows(connection, table, batch, into)
          : insertMysqlRows(connection, table, batch, into),
      );
    }
  }
  const byDot = new Map<string, RowDelete[]>();
  for (const row of deletes) byDot.set(row.dot, [...(byDot.get(row.dot) ?? []), row]);
  for (const [dot, group] of byDot) {
    await setDot(connection, dot);
    for (const rows of chunks(group, table.primaryKey.length)) {
      await withRowFallback(connection, rows, result, 'delete', (batch, into) =>
        deleteRows(connection, table, batch, into),
      );
    }
  }
  return result;
}

/** What the capture triggers record as the dot of the rows the next statements write. */
async function setDot(connection: MysqlConnection, dot: string): Promise<void> {
  await connection.execute('set @sheetsync_dot = ?', [dot]);
}

/**
 * Writes `rows` under a savepoint; a failed batch is split to find the refused rows
 * (table/row-fallback.ts), each part under the savepoint again.
 */
function withRowFallback<T extends { rowId: string }>(
  connection: MysqlConnection,
  rows: T[],
  result: MysqlWriteResult,
  op: RowError['op'],
  write: (rows: T[], into: WriteResult) => Promise<void>,
): Promise<void> {
  return splitRefusedRows(rows, result, op, {
    async attempt(batch, into) {
      await connection.query('savepoint sheetsync_rows');
      try {
        await write(batch, into);
      } catch (error) {
        // After a lost connection there is nothing to roll back to: report the first error.
        if (isMysqlRowRefusal(error)) await connection.query('rollback to savepoint sheetsync_rows');
        throw error;
      }
      await connection.query('release savepoint sheetsync_rows');
    },
    isRowRefusal: isMysqlRowRefusal,
    rowError,
  });
}

/**
 * Rows the sheet knows by key: the changed columns (key columns too, when the sheet changed a
 * key) set from a derived table joined on the old key. A row the table no longer has (deleted
 * on the database side meanwhile) is recreated from the sheet's cells plus its key.
 */
async function updateRows(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  rows: RowUpsert[],
  result: WriteResult,
) {
  const columns = Object.keys(rows[0]!.cells);
  const keyCols = table.primaryKey;
  if (columns.length === 0) {
    for (const row of rows) result.keys.set(row.rowId, row.key!);
    return;
  }
  const oldKeys = rows.map((r) => r.key as Cells);
  const where = keyIn(table, keyCols, oldKeys);
  const [found] = (await connection.execute(
    `select ${keyCols.map(mysqlIdent).join(', ')} from ${table.qualified} where ${where.sql} for update`,
    where.params,
  )) as unknown as [Array<Record<string, unknown>>];
  const present = new Set(
    found.map((f) => canonicalKeyId(table, canonicalCells(table, f, keyCols), keyCols)),
  );
  const existing = rows.filter((r) => present.has(canonicalKeyId(table, r.key as Cells, keyCols)));
  const missing = rows.filter((r) => !present.has(canonicalKeyId(table, r.key as Cells, keyCols)));
  if (existing.length > 0) {
    // The derived row: the old key (c0…, joined on), then the new values (set). A key column
    // the sheet changed appears in both parts.
    const derived = derivedRows(
      table,
      [...keyCols, ...columns],
      existing.map((r) => [...valuesOf(r.key as Cells, keyCols), ...valuesOf(r.cells as Cells, columns)]),
    );
    const join = keyCols.map((k, i) => `t.${mysqlIdent(k)} = n.c${i}`).join(' and ');
    const set = columns.map((c, i) => `t.${mysqlIdent(c)} = n.c${keyCols.length + i}`).join(', ');
    await connection.execute(
      `update ${table.qualified} as t join (${derived.sql}) as n on ${join} set ${set}`,
      derived.params,
    );
    for (const row of existing) {
      const cells = { ...(row.key as Cells), ...(row.cells as Cells) };
      result.keys.set(row.rowId, canonicalKey(table, cells, keyCols));
    }
  }
  if (missing.length > 0) {
    await insertMysqlRows(
      connection,
      table,
      missing.map((r) => ({ ...r, cells: { ...r.key, ...r.cells } })),
      result,
    );
  }
}

async function deleteRows(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  rows: RowDelete[],
  result: WriteResult,
) {
  const where = keyIn(
    table,
    table.primaryKey,
    rows.map((r) => r.key as Cells),
  );
  await connection.execute(`delete from ${table.qualified} where ${where.sql}`, where.params);
  for (const row of rows) result.deleted.add(row.rowId);
}

function rowError(rowId: string, op: RowError['op'], error: MysqlServerError): MysqlRowError {
  const column = /column '([^']+)'/i.exec(error.sqlMessage)?.[1];
  return {
    rowId,
    op,
    errno: error.errno,
    sqlState: error.sqlState,
    code: mysqlRowRefusalCode(error.errno),
    message: error.sqlMessage,
    ...(column ? { column } : {}),
  };
}
