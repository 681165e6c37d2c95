/**
 * Reads the MySQL outbox (sql/mysql/install.sql) into row changes in the core's canonical form:
 * what the relay will publish, with the same fields as the PostgreSQL outbox's changes (key,
 * previous key, changed cells, origin, dot). Claiming, publishing and deleting (FOR UPDATE SKIP
 * LOCKED, as the PostgreSQL relay) are not here yet.
 */
import type { Cells, CellValue } from '../../core/cell-value.ts';
import { canonicalTimestamp } from '../../core/temporal.ts';
import { fromMysql } from './mysql-coercion.ts';
import type { MysqlColumnType } from './mysql-column-type.ts';
import type { MysqlPool } from './mysql-connection.ts';
import { type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';

export interface MysqlCapturedChange {
  /** The outbox row's id (decimal text: BIGINT UNSIGNED). */
  id: string;
  watchedId: number;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  origin: string;
  dot: string | null;
  /** The row's key after the change (before it, for a DELETE). */
  key: Cells;
  /** The key before an UPDATE that changed it. */
  previousKey?: Cells;
  /** The changed columns' new values (an INSERT: every column; a DELETE: none). */
  cells: Cells;
}

/** A value the trigger rendered (mysql-capture.ts valueExpr) as the column's canonical value. */
export function outboxValue(raw: unknown, type: MysqlColumnType): CellValue {
  if (raw === null || raw === undefined) return null;
  if (type.family === 'timestamp') {
    // Unix time with the column's fraction, e.g. "1709289296.789000".
    const [seconds, fraction = ''] = String(raw).split('.');
    const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
    return canonicalTimestamp(`${whole}${fraction ? `.${fraction}` : ''}Z`, true) ?? String(raw);
  }
  const coerced = fromMysql(raw, type);
  return coerced.ok ? coerced.value : (raw as CellValue);
}

/** Decodes one outbox body ([changed, key…, values…]) of `table`. */
export function decodeOutboxBody(
  op: MysqlCapturedChange['op'],
  body: unknown[],
  table: MysqlTableSchema,
): Pick<MysqlCapturedChange, 'key' | 'previousKey' | 'cells'> {
  const changed = String(body[0]);
  const keyCols = table.primaryKey;
  const type = (name: string) => table.columns.find((c) => c.name === name)!.mysqlType;
  const key: Cells = Object.fromEntries(keyCols.map((k, i) => [k, outboxValue(body[1 + i], type(k))]));
  if (op === 'DELETE') return { key, cells: {} };
  const cells: Cells = {};
  table.columns.forEach((column, i) => {
    if (changed[i] === '1') cells[column.name] = outboxValue(body[1 + keyCols.length + i], column.mysqlType);
  });
  if (op === 'INSERT') return { key, cells };
  const newKey: Cells = Object.fromEntries(keyCols.map((k) => [k, k in cells ? cells[k]! : key[k]!]));
  const moved = keyCols.some((k) => k in cells);
  return moved ? { key: newKey, previousKey: key, cells } : { key, cells };
}

/** The outbox rows in id order, decoded with their tables' descriptions (by watched id). */
export async function readMysqlOutbox(
  pool: MysqlPool,
  tables: ReadonlyMap<number, MysqlTableSchema>,
  outboxDatabase = 'sheetsync',
  limit = 1000,
): Promise<MysqlCapturedChange[]> {
  const [rows] = (await pool.query(
    `select id, watched_id, op, origin, dot, body from ${mysqlIdent(outboxDatabase)}.${mysqlIdent('outbox')}
      order by id limit ?`,
    [limit],
  )) as unknown as [
    Array<{
      id: string;
      watched_id: number;
      op: MysqlCapturedChange['op'];
      origin: string;
      dot: string | null;
      body: string;
    }>,
  ];
  return rows.flatMap((row) => {
    const table = tables.get(row.watched_id);
    if (!table) return [];
    const decoded = decodeOutboxBody(row.op, JSON.parse(row.body) as unknown[], table);
    return [
      {
        id: String(row.id),
        watchedId: row.watched_id,
        op: row.op,
        origin: row.origin,
        dot: row.dot,
        ...decoded,
      },
    ];
  });
}
