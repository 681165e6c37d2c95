/**
 * The SyncDatabase port (ports/sync-database.ts) on MySQL/MariaDB: attach and reconcile on a
 * MySQL link. Row reads and writes go through the MySQL Table adapter (mysql-table.ts); what
 * is new here is the table scan, the row count and creating a table from a sheet's columns.
 *
 * The scan pages by primary key (`where (k…) > (?…) order by k… limit n`) inside one
 * `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` at REPEATABLE READ
 * (https://dev.mysql.com/doc/refman/8.0/en/innodb-consistent-read.html): every page reads the
 * same snapshot, as PostgreSQL's cursor does, without holding a result set open on the server
 * while the caller writes the sheet.
 */
import type { Cells } from '../../core/cell-value.ts';
import type { InferredType, SyncDatabase } from '../../ports/sync-database.ts';
import type { TableSchema } from '../../ports/table.ts';
import { inMysqlTransaction, type MysqlPool } from './mysql-connection.ts';
import { readMysqlRowsForUpdate } from './mysql-reader.ts';
import { mysqlRestoreStore } from './mysql-restore.ts';
import { type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';
import { canonicalCells, rowValues, valuesOf } from './mysql-statements.ts';
import { createMysqlTable } from './mysql-table.ts';

/**
 * A sheet's inferred types as MySQL columns. `numeric` is DOUBLE: a sheet number is an IEEE
 * double, which MySQL's DECIMAL without precision (DECIMAL(10,0)) would round to a whole
 * number. `timestamptz` is TIMESTAMP(6) (stored in UTC, read in the session's zone, UTC for
 * sheetsync; its range ends in 2038), declared NULL so that no automatic initialisation or
 * update applies.
 */
const TYPES: Record<InferredType, string> = {
  integer: 'int',
  bigint: 'bigint',
  numeric: 'double',
  boolean: 'tinyint(1)',
  date: 'date',
  timestamptz: 'timestamp(6) null',
  text: 'text',
};

/** A key column's type: TEXT cannot be a key without a prefix length, so text is VARCHAR(255). */
const KEY_TYPES: Record<InferredType, string> = {
  ...TYPES,
  timestamptz: 'timestamp(6)',
  text: 'varchar(255)',
};

/** The id of a row sheetsync inserted is recorded only when it is a sync id (row_ids.row_id). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function mysqlSchema(table: TableSchema): MysqlTableSchema {
  if (!table.columns.every((c) => 'mysqlType' in c)) {
    throw new Error(`${table.qualified} was not described by the MySQL table adapter`);
  }
  return table as MysqlTableSchema;
}

export function mysqlSyncDatabase(pool: MysqlPool, options: { outboxDatabase?: string } = {}): SyncDatabase {
  const port = createMysqlTable(pool, options);
  const own = mysqlRestoreStore(pool, options.outboxDatabase);
  return {
    describe: (name, link) => port.describe(name, link),
    async countRows(table) {
      const [rows] = (await pool.query(`select count(*) as n from ${table.qualified}`)) as unknown as [
        Array<{ n: string | number }>,
      ];
      return Number(rows[0]?.n ?? 0);
    },
    async scanRows(described, chunkRows, onChunk) {
      const table = mysqlSchema(described);
      const names = table.columns.map((c) => c.name);
      const key = table.primaryKey;
      const keyList = key.map(mysqlIdent).join(', ');
      const select = `select ${names.map(mysqlIdent).join(', ')} from ${table.qualified}`;
      const connection = await pool.getConnection();
      try {
        await connection.query('set transaction isolation level repeatable read');
        await connection.query('start transaction with consistent snapshot, read only');
        let after: Cells | undefined;
        for (;;) {
          const from = after ? rowValues(table, key, valuesOf(after, key)) : undefined;
          const where = from
            ? ` where ${key.length === 1 ? keyList : `(${keyList})`} > ${key.length === 1 ? from.sql.slice(1, -1) : from.sql}`
            : '';
          const [rows] = (await connection.execute(
            `${select}${where} order by ${keyList} limit ${Number(chunkRows)}`,
            from?.params ?? [],
          )) as unknown as [Array<Record<string, unknown>>];
          if (rows.length === 0) break;
          const cells = rows.map((row) => canonicalCells(table, row, names));
          after = cells[cells.length - 1];
          await onChunk(cells);
          if (rows.length < chunkRows) break;
        }
        await connection.query('commit');
      } catch (error) {
        await connection.query('rollback').catch(() => {});
        throw error;
      } finally {
        connection.release();
      }
    },
    readRows: (table, keys) =>
      keys.length === 0
        ? Promise.resolve(new Map())
        : inMysqlTransaction(pool, (connection) =>
            readMysqlRowsForUpdate(connection, mysqlSchema(table), keys),
          ),
    writeFromSheet: (table, link, upserts, deletes) =>
      port.inSheetTransaction(async (tx) => {
        const written = await tx.write(table, upserts, deletes);
        const inserted = upserts.flatMap((u) =>
          !u.key && UUID.test(u.rowId) && written.keys.has(u.rowId)
            ? [{ rowId: u.rowId, key: written.keys.get(u.rowId)! }]
            : [],
        );
        if (inserted.length > 0 && (await own.hasRowIds())) await tx.recordRowIds(link, inserted);
        return written;
      }),
    async createTable({ name: linked, columns, key }) {
      const dot = linked.indexOf('.');
      const qualified =
        dot < 0
          ? mysqlIdent(linked)
          : `${mysqlIdent(linked.slice(0, dot))}.${mysqlIdent(linked.slice(dot + 1))}`;
      const definitions = columns.map((c) =>
        c.name === key
          ? `${mysqlIdent(c.name)} ${KEY_TYPES[c.type]} not null primary key`
          : `${mysqlIdent(c.name)} ${TYPES[c.type]}`,
      );
      if (key === undefined) definitions.unshift('`id` bigint not null auto_increment primary key');
      await pool.query(
        `create table ${qualified} (${definitions.join(', ')}) engine = InnoDB default charset = utf8mb4`,
      );
    },
    readRowIds: own.readRowIds,
    recordRowIds: own.recordRowIds,
    outboxWatermark: own.outboxWatermark,
    pendingKeys: own.pendingKeys,
  };
}
