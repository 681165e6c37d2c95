/**
 * The Table port (ports/table.ts) on MySQL/MariaDB through mysql2: the catalog read
 * (mysql-schema.ts), set-based writes with per-row refusal (mysql-writer.ts), reads for update
 * (mysql-reader.ts), and sheetsync's own tables of sql/mysql/install.sql (row_ids, and the
 * outbox for restore and reshow, which record rows as changed once more as the PostgreSQL
 * functions sheetsync.restore / sheetsync.reshow do).
 *
 * The pipeline sees each column's `type` as the PostgreSQL name of its core type
 * (coreTypeName), so the core coerces sheet values to the canonical forms this adapter writes;
 * the MySQL type stays on the column (`mysqlType`) for the adapter's own statements.
 */
import type { Cells } from '../../core/cell-value.ts';
import type { Key, SheetTransaction, Table, TableSchema } from '../../ports/table.ts';
import { valueExpr } from './mysql-capture.ts';
import { coreTypeName } from './mysql-column-type.ts';
import { inMysqlSheetTransaction, type MysqlConnection, type MysqlPool } from './mysql-connection.ts';
import { isMysqlTableChanged } from './mysql-errors.ts';
import { readMysqlRowsForUpdate } from './mysql-reader.ts';
import { describeMysqlTable, type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';
import { chunks, keyIn } from './mysql-statements.ts';
import { writeMysqlRows } from './mysql-writer.ts';

export interface MysqlTableOptions {
  /** The database of sheetsync's own tables (installMysqlCapture). Default `sheetsync`. */
  outboxDatabase?: string;
}

export function createMysqlTable(pool: MysqlPool, options: MysqlTableOptions = {}): Table {
  const own = mysqlIdent(options.outboxDatabase ?? 'sheetsync');
  return {
    async describe(name, link) {
      const table = await describeMysqlTable(pool, name, link.key);
      return { ...table, columns: table.columns.map((c) => ({ ...c, type: coreTypeName(c.mysqlType) })) };
    },
    // MySQL has no deferred constraints: every constraint is checked by its statement, which
    // the writer splits row by row, so `immediate` changes nothing.
    inSheetTransaction: (fn) =>
      inMysqlSheetTransaction(pool, (connection) => fn(sheetTransaction(connection, own))),
    isRowRefusal: () => false,
    isTableChanged: isMysqlTableChanged,
  };
}

/** A schema `describe` gave: the MySQL description under the port's shape. */
function mysqlSchema(table: TableSchema): MysqlTableSchema {
  const schema = table as MysqlTableSchema;
  if (!schema.columns.every((c) => c.mysqlType)) {
    throw new Error(`${table.qualified} was not described by the MySQL table adapter`);
  }
  return schema;
}

function sheetTransaction(connection: MysqlConnection, own: string): SheetTransaction {
  const rowIds = `${own}.${mysqlIdent('row_ids')}`;
  return {
    readForUpdate: (table, keys) => readMysqlRowsForUpdate(connection, mysqlSchema(table), keys),
    write: (table, upserts, deletes) => writeMysqlRows(connection, mysqlSchema(table), upserts, deletes),
    async insertedKeys(link, ids) {
      const inserted = new Map<string, Cells>();
      for (const part of chunks(ids, 1)) {
        const [rows] = (await connection.execute(
          `select row_id, row_key from ${rowIds} where link = ? and row_id in (${part.map(() => '?').join(', ')})`,
          [link, ...part],
        )) as unknown as [Array<{ row_id: string; row_key: string }>];
        for (const r of rows) inserted.set(r.row_id, JSON.parse(r.row_key) as Cells);
      }
      return inserted;
    },
    async recordRowIds(link, rows) {
      for (const part of chunks(rows, 3)) {
        await connection.execute(
          `insert into ${rowIds} (link, row_id, row_key) values ${part.map(() => '(?, ?, ?)').join(', ')}
           on duplicate key update row_key = values(row_key)`,
          part.flatMap((r) => [link, r.rowId, JSON.stringify(r.key)]),
        );
      }
    },
    async forgetRowIds(link, ids) {
      for (const part of chunks(ids, 1)) {
        await connection.execute(
          `delete from ${rowIds} where link = ? and row_id in (${part.map(() => '?').join(', ')})`,
          [link, ...part],
        );
      }
    },
    restore: (table, keys) => recordAgain(connection, own, mysqlSchema(table), keys, undefined),
    reshow: (table, keys, columns) =>
      recordAgain(connection, own, mysqlSchema(table), keys as readonly Key[], columns),
  };
}

/**
 * Writes outbox rows for the table's rows of `keys`, as the capture triggers would for an
 * INSERT of every column (`columns` undefined) or an UPDATE of `columns`, with origin 'db', so
 * the relay takes them to the sheet. Nothing is recorded for a table no trigger watches.
 */
async function recordAgain(
  connection: MysqlConnection,
  own: string,
  table: MysqlTableSchema,
  keys: readonly Key[],
  columns: readonly string[] | undefined,
): Promise<void> {
  if (keys.length === 0) return;
  const [watched] = (await connection.execute(
    `select id from ${own}.${mysqlIdent('watched')} where table_schema = ? and table_name = ?`,
    [table.schema, table.name],
  )) as unknown as [Array<{ id: number }>];
  if (watched.length === 0) return;
  const shown = new Set(columns ?? table.columns.map((c) => c.name));
  const changed = table.columns.map((c) => (shown.has(c.name) ? '1' : '0')).join('');
  const ref = (name: string) => mysqlIdent(name);
  const keyValues = table.primaryKey.map((k) =>
    valueExpr(ref(k), table.columns.find((c) => c.name === k)!.mysqlType),
  );
  const values = table.columns.map((c) => (shown.has(c.name) ? valueExpr(ref(c.name), c.mysqlType) : 'null'));
  const body = `json_array(${[`'${changed}'`, ...keyValues, ...values].join(', ')})`;
  for (const part of chunks(keys, table.primaryKey.length)) {
    const where = keyIn(table, table.primaryKey, part as Cells[]);
    await connection.execute(
      `insert into ${own}.${mysqlIdent('outbox')} (watched_id, op, origin, dot, body)
       select ?, ?, 'db', null, ${body} from ${table.qualified} where ${where.sql}`,
      [watched[0]!.id, columns ? 'UPDATE' : 'INSERT', ...where.params],
    );
  }
}
