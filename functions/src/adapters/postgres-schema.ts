/**
 * Installs (or upgrades in place) the `sheetsync` schema from sql/install.sql (its parts are in
 * sql/postgres/), and attaches capture to tables. The script is idempotent, so this runs on
 * every start.
 */

import { readFileSync } from 'node:fs';
import type postgres from 'postgres';
import type { ErrorCode } from '../error-codes.ts';
import { SheetsyncError } from '../errors.ts';

const INSTALL_SQL = new URL('../../../sql/install.sql', import.meta.url);

/**
 * The install script's text: sql/install.sql with each of its parts (`\ir postgres/….sql`, psql's
 * include relative to the file) inlined, in order, as psql runs them.
 */
export function installScript(): string {
  return readFileSync(INSTALL_SQL, 'utf8').replace(/^\\ir (\S+)$/gm, (_, part: string) =>
    readFileSync(new URL(part, INSTALL_SQL), 'utf8'),
  );
}

/** Runs sql/install.sql in one transaction; safe to run twice, or from two processes at once. */
export async function installSchema(sql: postgres.Sql): Promise<void> {
  const script = installScript();
  await sql.begin(async (tx) => {
    await tx.unsafe(script);
  });
}

/**
 * Attaches capture to `table` ("schema.table" or "table", resolved like regclass) feeding
 * `link` (default: the table's name). A table without a primary key is refused with
 * SHEETSYNC_E201, anything that is not a table with SHEETSYNC_E202.
 */
export async function watchTable(sql: postgres.Sql, table: string, link?: string): Promise<void> {
  try {
    await sql`select sheetsync.watch(${table}::regclass, ${link ?? null})`;
  } catch (error) {
    throw asCaptureError(error);
  }
}

/** Detaches capture from `table`; changes already captured are still published. */
export async function unwatchTable(sql: postgres.Sql, table: string): Promise<void> {
  try {
    await sql`select sheetsync.unwatch(${table}::regclass)`;
  } catch (error) {
    throw asCaptureError(error);
  }
}

/** Turns the SHEETSYNC_Ennn errors the SQL functions raise into SheetsyncErrors, keeping the hint. */
export function asCaptureError(error: unknown): unknown {
  const pg = error as { message?: string; hint?: string; code?: string };
  const match = /^(SHEETSYNC_E\d{3}): (.*)$/s.exec(pg.message ?? '');
  if (match) {
    const message = pg.hint ? `${match[2]}. ${pg.hint}` : match[2]!;
    return new SheetsyncError(match[1] as ErrorCode, message, 'permanent', { cause: error });
  }
  if (pg.code === '3F000' || pg.code === '42883') {
    return new SheetsyncError(
      'SHEETSYNC_E203',
      'The sheetsync schema is not installed in this database (run installSchema, i.e. sql/install.sql)',
      'permanent',
      { cause: error },
    );
  }
  return error;
}
