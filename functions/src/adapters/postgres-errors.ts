/**
 * Which PostgreSQL errors belong to one row and which to the moment. A sheet row's own data can
 * make the database refuse it in many classes, not only 22 (data exception) and 23 (integrity):
 * 428C9 a value typed into a GENERATED ALWAYS identity column, 54000 a value too large for a
 * btree index entry, 42501 a column the role may not write, 0A000 NaN or infinity cast to an
 * integer in a CHECK, P0004 an ASSERT in a trigger, 21000 two rows of one statement with the
 * same key. Such a refusal repeats whenever the row is written alone, so it is reported for the
 * row (the writer tries the row alone under a savepoint to tell). What passes with time (a lost
 * connection, a deadlock, a lock or statement timeout, a shutdown, exhausted resources) or does
 * not depend on any row (the table dropped or altered since it was described) fails the whole
 * flush instead, which is retried.
 *
 * SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import type postgres from 'postgres';
import type { RowRefusalCode } from '../ports/table.ts';

/**
 * Classes that pass with time: 08 connection exception, 25 invalid transaction state (25006
 * read-only after a failover, 25P03 idle-in-transaction timeout), 40 transaction rollback
 * (serialization failure, deadlock), 53 insufficient resources, 55 object not in prerequisite
 * state (55P03 lock timeout, 55006 object in use), 57 operator intervention (57014 statement
 * timeout or cancel, 57P01-57P05 shutdowns), 58 system error (I/O), XX internal error.
 */
const TRANSIENT_CLASSES = new Set(['08', '25', '40', '53', '55', '57', '58', 'XX']);

/**
 * The table is not what it was described as (dropped, renamed, a column or the primary key
 * gone, a function its trigger calls missing): every row would fail alike, so no row's doing.
 */
const TABLE_CHANGED = new Set(['3D000', '3F000', '42P01', '42703', '42P10', '42883']);

/** The SQLSTATE of an error the server sent; undefined for the driver's own and network errors. */
export function serverSqlState(error: unknown): string | undefined {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'PostgresError' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? code
    : undefined;
}

/** An error that says the table is not what it was described as (see TABLE_CHANGED). */
export function isTableChanged(error: unknown): boolean {
  const state = serverSqlState(error);
  return state !== undefined && TABLE_CHANGED.has(state);
}

/** An error that passes with time: retry the flush, the relay batch, the command. */
export function isTransientError(error: unknown): boolean {
  const state = serverSqlState(error);
  return state === undefined || TRANSIENT_CLASSES.has(state.slice(0, 2));
}

/**
 * An error that, when it repeats for one row written alone, is that row's own: the server sent
 * it, it does not pass with time, and it does not mean the table changed under sheetsync.
 */
export function isRowRefusal(error: unknown): error is postgres.PostgresError {
  const state = serverSqlState(error);
  return state !== undefined && !isTransientError(error) && !TABLE_CHANGED.has(state);
}

/** The problem code for a row the database refused with `sqlState` (docs/errors.md). */
export type { RowRefusalCode } from '../ports/table.ts';

/**
 * E409 a constraint, an invalid value or a trigger's refusal (classes 22, 23, P0); E413 a
 * column the database does not let sheetsync write (428C9 generated or identity ALWAYS, 42501
 * privilege); E414 any other refusal of the row's data (54000 too large for an index, 0A000, …).
 */
export function rowRefusalCode(sqlState: string): RowRefusalCode {
  if (/^(22|23|P0)/.test(sqlState)) return 'SHEETSYNC_E409';
  if (sqlState === '428C9' || sqlState === '42501') return 'SHEETSYNC_E413';
  return 'SHEETSYNC_E414';
}
