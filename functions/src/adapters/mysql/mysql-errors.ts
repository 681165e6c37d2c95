/**
 * Which MySQL/MariaDB errors belong to one row and which to the moment: the same split, and the
 * same problem codes, as postgres-errors.ts makes of SQLSTATE classes. MySQL's SQLSTATE is too
 * coarse for it (most errors are HY000), so the split is by error number, which MySQL and
 * MariaDB share below 3000 and keep stable across versions.
 *
 * Error numbers: https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html and
 * https://mariadb.com/kb/en/mariadb-error-code-reference/
 */
import type { RowRefusalCode } from '../postgres-errors.ts';

/**
 * Errors that pass with time: lock wait timeout 1205, deadlock 1213, too many connections 1040 /
 * 1203 / 1226, shutdown 1053 / 1077 / 1927 (killed), interrupted or timed-out statement 1317,
 * 3024 (MySQL), 1969 (MariaDB), read-only server after a failover 1290 / 1792 / 1836, disk or
 * table full 1021 / 1114, out of memory 1037 / 1038 / 1041, table definition changed under a
 * running transaction 1412, storage engine error 1030, replication-side 1047 (unknown command on
 * a Galera node not ready), idle session closed 4031 (MySQL 8.0.24+).
 */
const TRANSIENT = new Set([
  1021, 1030, 1037, 1038, 1040, 1041, 1047, 1053, 1077, 1114, 1203, 1205, 1213, 1226, 1290, 1317, 1412, 1792,
  1836, 1927, 1969, 3024, 4031,
]);

/**
 * The table is not what it was described as: unknown database 1049, table 1146 / 1109, column
 * 1054, a function a trigger calls 1305, a view gone invalid 1356. Every row would fail alike.
 */
const TABLE_CHANGED = new Set([1049, 1054, 1109, 1146, 1305, 1356]);

/**
 * Constraints and invalid values (E409, as SQLSTATE classes 22, 23 and P0): null into NOT NULL
 * 1048, no default 1364, duplicate key 1062 / 1022 / 1586 / 1859, foreign keys 1216 / 1217 /
 * 1451 / 1452, out of range 1264 / 1690, truncated or wrong value 1265 / 1292 / 1366 / 1367 /
 * 1411, too long 1406, CHECK 3819 (MySQL) / 4025 (MariaDB, also its JSON validity), invalid JSON
 * 3140, a trigger's SIGNAL 1644.
 */
const CONSTRAINT_OR_VALUE = new Set([
  1022, 1048, 1062, 1216, 1217, 1264, 1265, 1292, 1364, 1366, 1367, 1406, 1411, 1451, 1452, 1586, 1644, 1690,
  1859, 3140, 3819, 4025,
]);

/**
 * A column sheetsync may not write (E413, as 428C9 and 42501): a value into a generated column
 * 3105 (MySQL) / 1906 (MariaDB), a column or table privilege 1142 / 1143.
 */
const NOT_WRITABLE = new Set([1142, 1143, 1906, 3105]);

/** The fields mysql2 sets on an error the server sent. */
export interface MysqlServerError extends Error {
  errno: number;
  sqlState: string;
  sqlMessage: string;
}

/** The error number of an error the server sent; undefined for the driver's and the network's. */
export function serverErrno(error: unknown): number | undefined {
  const { errno, sqlState, fatal } = (error ?? {}) as {
    errno?: unknown;
    sqlState?: unknown;
    fatal?: unknown;
  };
  // A fatal error closed the connection (lost, reset, packet too large): the transaction is gone.
  return typeof errno === 'number' && typeof sqlState === 'string' && fatal !== true ? errno : undefined;
}

/** An error that passes with time: retry the flush, the relay batch, the command. */
export function isTransientMysqlError(error: unknown): boolean {
  const errno = serverErrno(error);
  return errno === undefined || TRANSIENT.has(errno);
}

/**
 * An error that, when it repeats for one row written alone, is that row's own: the server sent
 * it, it does not pass with time, and it does not mean the table changed under sheetsync.
 */
export function isMysqlRowRefusal(error: unknown): error is MysqlServerError {
  const errno = serverErrno(error);
  return errno !== undefined && !TRANSIENT.has(errno) && !TABLE_CHANGED.has(errno);
}

/** The table is not what it was described as (dropped, renamed, a column gone): describe it again. */
export function isMysqlTableChanged(error: unknown): boolean {
  const errno = serverErrno(error);
  return errno !== undefined && TABLE_CHANGED.has(errno);
}

/** The problem code for a row the database refused with `errno` (docs/errors.md). */
export function mysqlRowRefusalCode(errno: number): RowRefusalCode {
  if (CONSTRAINT_OR_VALUE.has(errno)) return 'SHEETSYNC_E409';
  if (NOT_WRITABLE.has(errno)) return 'SHEETSYNC_E413';
  return 'SHEETSYNC_E414';
}
