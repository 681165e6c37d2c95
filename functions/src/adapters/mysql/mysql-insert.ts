/**
 * Rows new to the table (no key the sheet knows). Matched on the link's key, else the primary
 * key, when the row gives it: a row the table holds is updated. The rest are inserted in one
 * multi-row INSERT, and their AUTO_INCREMENT keys flow back to the sheet.
 *
 * MySQL returns only the first AUTO_INCREMENT value of a multi-row INSERT (LAST_INSERT_ID); the
 * others follow it by `auto_increment_increment` only when InnoDB hands out consecutive values,
 * which it does for a "simple insert" (row count known in advance) under
 * `innodb_autoinc_lock_mode` 0 or 1 (MariaDB's default, and MySQL 5.7's), but not under 2
 * (MySQL 8's default), where concurrent inserts interleave
 * (https://dev.mysql.com/doc/refman/8.0/en/innodb-auto-increment-handling.html). Under 2 the
 * rows are inserted one statement each.
 */
import type { Cells } from '../../core/cell-value.ts';
import type { RowUpsert, WriteResult } from '../table/table-writer.ts';
import type { MysqlConnection } from './mysql-connection.ts';
import { type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';
import {
  canonicalCells,
  canonicalKey,
  canonicalKeyId,
  derivedRows,
  rowValues,
  valuesOf,
} from './mysql-statements.ts';

export async function insertMysqlRows(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  rows: RowUpsert[],
  result: WriteResult,
): Promise<void> {
  // An empty cell in a column with a default (AUTO_INCREMENT, CURRENT_TIMESTAMP) lets MySQL decide.
  const defaulted = new Set(table.columns.filter((c) => c.hasDefault).map((c) => c.name));
  const byColumns = new Map<string, RowUpsert[]>();
  for (const row of rows) {
    const cells = Object.fromEntries(
      Object.entries(row.cells).filter(([c, v]) => !(v === null && defaulted.has(c))),
    );
    const columns = Object.keys(cells).sort().join('\u0000');
    byColumns.set(columns, [...(byColumns.get(columns) ?? []), { ...row, cells }]);
  }
  const matchCols = table.matchKey ?? table.primaryKey;
  for (const group of byColumns.values()) {
    const columns = Object.keys(group[0]!.cells).sort();
    const matched = matchCols.every((k) => columns.includes(k));
    if (matched && table.uniqueIndexCount === 1 && table.matchKey === undefined) {
      await upsertOnDuplicateKey(connection, table, columns, group, result);
      continue;
    }
    const fresh = matched ? await updateMatched(connection, table, columns, matchCols, group, result) : group;
    if (fresh.length > 0) await insertFresh(connection, table, columns, fresh, result);
  }
}

/**
 * The primary key is the table's only unique key, so a duplicate can only be the row itself:
 * INSERT … ON DUPLICATE KEY UPDATE of the changed columns. `VALUES(col)`: MySQL 8.0.20 deprecates
 * it for a row alias, which MariaDB lacks; both still take it.
 */
async function upsertOnDuplicateKey(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  columns: string[],
  rows: RowUpsert[],
  result: WriteResult,
): Promise<void> {
  const values = rows.map((r) => rowValues(table, columns, valuesOf(r.cells as Cells, columns)));
  const changed = columns.filter((c) => !table.primaryKey.includes(c));
  const first = mysqlIdent(table.primaryKey[0]!);
  const update =
    changed.length > 0
      ? changed.map((c) => `${mysqlIdent(c)} = values(${mysqlIdent(c)})`)
      : [`${first} = ${first}`];
  await connection.execute(
    `insert into ${table.qualified} (${columns.map(mysqlIdent).join(', ')}) values ${values.map((v) => v.sql).join(', ')}
     on duplicate key update ${update.join(', ')}`,
    values.flatMap((v) => v.params),
  );
  for (const row of rows) result.keys.set(row.rowId, keyOf(table, row.cells as Cells));
}

/** Updates the rows the table holds by match key; returns the others, to insert. */
async function updateMatched(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  columns: string[],
  matchCols: readonly string[],
  rows: RowUpsert[],
  result: WriteResult,
): Promise<RowUpsert[]> {
  const keyCols = table.primaryKey;
  const selected = [...new Set([...matchCols, ...keyCols])];
  const probe = derivedRows(
    table,
    matchCols,
    rows.map((r) => valuesOf(r.cells as Cells, matchCols)),
  );
  const on = matchCols.map((k, i) => `t.${mysqlIdent(k)} = n.c${i}`).join(' and ');
  const [found] = (await connection.execute(
    `select ${selected.map((c) => `t.${mysqlIdent(c)}`).join(', ')} from ${table.qualified} as t
       join (${probe.sql}) as n on ${on} for update`,
    probe.params,
  )) as unknown as [Array<Record<string, unknown>>];
  const keyByMatch = new Map<string, Cells>();
  for (const row of found) {
    const cells = canonicalCells(table, row, selected);
    keyByMatch.set(canonicalKeyId(table, cells, matchCols), pick(cells, keyCols));
  }
  const existing = rows.filter((r) => keyByMatch.has(canonicalKeyId(table, r.cells as Cells, matchCols)));
  const changed = columns.filter((c) => !matchCols.includes(c));
  if (existing.length > 0 && changed.length > 0) {
    const all = [...matchCols, ...changed];
    const derived = derivedRows(
      table,
      all,
      existing.map((r) => valuesOf(r.cells as Cells, all)),
    );
    const set = changed.map((c, i) => `t.${mysqlIdent(c)} = n.c${matchCols.length + i}`).join(', ');
    await connection.execute(
      `update ${table.qualified} as t join (${derived.sql}) as n on ${on} set ${set}`,
      derived.params,
    );
  }
  for (const row of existing)
    result.keys.set(row.rowId, keyByMatch.get(canonicalKeyId(table, row.cells as Cells, matchCols))!);
  return rows.filter((r) => !existing.includes(r));
}

async function insertFresh(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  columns: string[],
  rows: RowUpsert[],
  result: WriteResult,
): Promise<void> {
  const keyGiven = table.primaryKey.every((k) => columns.includes(k));
  const auto = table.autoIncrement;
  const autoKey =
    !keyGiven && auto !== undefined && table.primaryKey.length === 1 && table.primaryKey[0] === auto;
  const insert = async (batch: RowUpsert[]) => {
    const values = batch.map((r) => rowValues(table, columns, valuesOf(r.cells as Cells, columns)));
    const list = columns.length > 0 ? `(${columns.map(mysqlIdent).join(', ')})` : '()';
    const rowsSql = values.map((v) => (columns.length > 0 ? v.sql : '()')).join(', ');
    const [header] = (await connection.execute(
      `insert into ${table.qualified} ${list} values ${rowsSql}`,
      values.flatMap((v) => v.params),
    )) as unknown as [{ insertId: number | string }];
    return BigInt(header.insertId);
  };
  if (!autoKey) {
    await insert(rows);
    // Without AUTO_INCREMENT the key is what the row gave (or a default MySQL cannot return:
    // such a row keeps no key and comes back through capture).
    for (const row of rows) if (keyGiven) result.keys.set(row.rowId, keyOf(table, row.cells as Cells));
    return;
  }
  const [[settings]] = (await connection.query(
    'select @@innodb_autoinc_lock_mode as lock_mode, @@auto_increment_increment as step',
  )) as unknown as [[{ lock_mode: number | string; step: number | string }]];
  const consecutive = Number(settings.lock_mode) <= 1;
  const step = BigInt(settings.step);
  const batches = consecutive ? [rows] : rows.map((r) => [r]);
  const type = table.columns.find((c) => c.name === auto)!.mysqlType;
  for (const batch of batches) {
    const first = await insert(batch);
    batch.forEach((row, i) => {
      const id = first + BigInt(i) * step;
      result.keys.set(row.rowId, { [auto]: type.core.kind === 'int8' ? id.toString() : Number(id) });
    });
  }
}

function pick(cells: Cells, columns: readonly string[]): Cells {
  return Object.fromEntries(columns.map((c) => [c, cells[c] ?? null]));
}

function keyOf(table: MysqlTableSchema, cells: Cells): Cells {
  return canonicalKey(table, cells, table.primaryKey);
}
