/**
 * A mysql2 pool set up the way the MySQL adapter reads and writes values:
 * - every session in UTC (`time_zone = '+00:00'`), so TIMESTAMP columns, which MySQL stores in
 *   UTC and converts to the session zone, read and write UTC; DATETIME is zone-less either way;
 * - strict mode added to the server's `sql_mode`, so a bad value is refused, never truncated
 *   or zeroed with a warning (https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sql-mode-strict);
 * - BIGINT and DECIMAL as strings and dates as text, so no value passes through a JavaScript
 *   number or Date (mysql2 options `supportBigNumbers`, `bigNumberStrings`, `dateStrings`);
 * - few prepared statements per connection: set-based statements of different sizes are distinct
 *   statements, and the server's `max_prepared_stmt_count` (16,382) is shared by all sessions.
 */
import type { PoolConnection as CorePoolConnection } from 'mysql2';
import mysql from 'mysql2/promise';

export type MysqlPool = mysql.Pool;
export type MysqlConnection = mysql.PoolConnection;

/** Values a statement may take as parameters (mysql2's `execute`). */
export type MysqlParam = string | number | boolean | null;

export interface MysqlPoolOptions {
  connectionLimit?: number;
  /**
   * The server CAs to verify the server against (deployed: Cloud SQL's per-instance CAs, from
   * SHEETSYNC_DATABASE_CA, postgres-tls.ts). mysql2 takes no checkServerIdentity, so the
   * instance's name is not checked as for PostgreSQL; the per-instance CA pins the instance.
   */
  ca?: string | string[];
}

/** `mysql://user:password@host:port/database`; extra pool options for tests and the relay. */
export function connectMysql(url: string, options: MysqlPoolOptions = {}): MysqlPool {
  const pool = mysql.createPool({
    uri: url,
    ...(options.ca ? { ssl: { ca: options.ca, rejectUnauthorized: true } } : {}),
    connectionLimit: options.connectionLimit ?? 10,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    maxPreparedStatements: 64,
    connectTimeout: 10_000,
  });
  pool.on('connection', (promised) => {
    // mysql2 re-emits the core pool's event: the connection is the callback one, whatever the
    // promise typings say. A session that could not be set up is dropped, not used in another zone.
    const connection = promised as unknown as CorePoolConnection;
    connection.query(
      "set session time_zone = '+00:00', sql_mode = concat_ws(',', @@session.sql_mode, 'STRICT_ALL_TABLES')",
      (error: Error | null) => {
        if (error) connection.destroy();
      },
    );
  });
  return pool;
}

/** Runs `fn` in a transaction on one pooled connection; commits, or rolls back and rethrows. */
export async function inMysqlTransaction<T>(
  pool: MysqlPool,
  fn: (connection: MysqlConnection) => Promise<T>,
): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.query('start transaction');
    try {
      const result = await fn(connection);
      await connection.query('commit');
      return result;
    } catch (error) {
      await connection.query('rollback').catch(() => {});
      throw error;
    }
  } finally {
    connection.release();
  }
}

/**
 * A transaction whose writes the capture triggers record with origin 'sheet'. MySQL has no
 * transaction-local settings (PostgreSQL's SET LOCAL), so the session variables are cleared
 * before the connection returns to the pool, whatever the outcome.
 */
export function inMysqlSheetTransaction<T>(
  pool: MysqlPool,
  fn: (connection: MysqlConnection) => Promise<T>,
): Promise<T> {
  return inMysqlTransaction(pool, async (connection) => {
    await connection.query("set @sheetsync_origin = 'sheet', @sheetsync_dot = null");
    try {
      return await fn(connection);
    } finally {
      await connection.query('set @sheetsync_origin = null, @sheetsync_dot = null').catch(() => {});
    }
  });
}
