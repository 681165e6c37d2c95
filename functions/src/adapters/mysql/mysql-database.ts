/**
 * A MySQL/MariaDB database as a sheetsync host opens it from `DATABASE_URL=mysql://…`: the
 * pools, sheetsync's own tables (installMysqlCapture, idempotent) and capture on each link's
 * table (watchMysqlTable: a no-op while the table is unchanged), and the Table port on it.
 *
 * sheetsync's tables (outbox, watched, row_ids) live in database `sheetsync` on the server,
 * as PostgreSQL's live in schema `sheetsync`; the URL's `sheetsyncDatabase` parameter names
 * another (tests give each file its own), and is taken off before mysql2 sees the URL.
 */
import { SheetsyncError } from '../../errors.ts';
import type { SyncDatabase } from '../../ports/sync-database.ts';
import type { Table } from '../../ports/table.ts';
import { installMysqlCapture, watchMysqlTable } from './mysql-capture.ts';
import { connectMysql, type MysqlPool } from './mysql-connection.ts';
import { describeMysqlTable } from './mysql-schema.ts';
import { mysqlSyncDatabase } from './mysql-sync-database.ts';
import { createMysqlTable } from './mysql-table.ts';

/** Whether `url` names a MySQL or MariaDB server (else PostgreSQL). */
export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url);
}

/** The URL mysql2 connects with, and the database of sheetsync's own tables. */
export function mysqlUrlParts(url: string): { url: string; outboxDatabase: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SheetsyncError(
      'SHEETSYNC_E781',
      'DATABASE_URL is not a valid mysql:// URL; write it as mysql://user:password@host:port/database',
    );
  }
  const outboxDatabase = parsed.searchParams.get('sheetsyncDatabase') || 'sheetsync';
  parsed.searchParams.delete('sheetsyncDatabase');
  if (parsed.protocol.toLowerCase() === 'mariadb:') parsed.protocol = 'mysql:';
  if (!parsed.pathname.replace(/^\//, '')) {
    throw new SheetsyncError(
      'SHEETSYNC_E781',
      "DATABASE_URL names no database: add the linked tables' database to the path, e.g. mysql://root@127.0.0.1:3306/test",
    );
  }
  return { url: parsed.toString(), outboxDatabase };
}

export interface MysqlDatabase {
  /** For applyToDb and the commands. */
  pool: MysqlPool;
  /** The relay's own (one connection holds its lock). */
  relayPool: MysqlPool;
  outboxDatabase: string;
  table: Table;
  stop(): Promise<void>;
}

/**
 * Opens the database of `url` and prepares capture for `links` (their tables must exist).
 * `install: false` for a deployed function, whose user may lack the DDL privileges; `ca`: the
 * server CAs to verify it against (deployed).
 */
export async function openMysqlDatabase(
  url: string,
  links: ReadonlyArray<{ name: string; table: string; key?: readonly string[] | undefined }>,
  { install = true, ca }: { install?: boolean; ca?: string | string[] | undefined } = {},
): Promise<MysqlDatabase> {
  const parts = mysqlUrlParts(url);
  const pool = connectMysql(parts.url, { connectionLimit: 6, ...(ca ? { ca } : {}) });
  const relayPool = connectMysql(parts.url, { connectionLimit: 2, ...(ca ? { ca } : {}) });
  const stop = async () => {
    await Promise.allSettled([pool.end(), relayPool.end()]);
  };
  try {
    if (install) {
      await installMysqlCapture(pool, parts.outboxDatabase);
      for (const link of links) {
        const table = await describeMysqlTable(pool, link.table, link.key);
        await watchMysqlTable(pool, table, link.name, parts.outboxDatabase);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pool,
    relayPool,
    outboxDatabase: parts.outboxDatabase,
    table: createMysqlTable(pool, { outboxDatabase: parts.outboxDatabase }),
    stop,
  };
}

/**
 * attach and reconcile on the database of `url` (a mysql:// DATABASE_URL) from a process of
 * their own (`sheetsync attach|reconcile`): a small pool and the SyncDatabase on it.
 */
export function openMysqlSyncDatabase(url: string): { database: SyncDatabase; stop(): Promise<void> } {
  const parts = mysqlUrlParts(url);
  const pool = connectMysql(parts.url, { connectionLimit: 4 });
  return {
    database: mysqlSyncDatabase(pool, { outboxDatabase: parts.outboxDatabase }),
    stop: () => pool.end(),
  };
}

/**
 * A stand-in for a PostgreSQL-only client where a host hands one to parts not built for MySQL
 * yet (attach, reconcile, restore): any use fails with SHEETSYNC_E782 naming `what`.
 */
export function notOnMysql<T extends object>(what: string): T {
  const fail = (): never => {
    throw new SheetsyncError(
      'SHEETSYNC_E782',
      `${what} is not available on MySQL yet (docs/design/mysql.md, "What is left"); the sync itself runs`,
    );
  };
  return new Proxy(fail, { get: fail, apply: fail }) as unknown as T;
}
