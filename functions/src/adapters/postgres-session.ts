/**
 * One PostgreSQL server session for work that must stay on a single session while it waits on
 * other services: the outbox relay holds its advisory lock, and its claim transaction while
 * Pub/Sub acknowledges a batch.
 *
 * Why not `sql.reserve()`: in postgres.js 3.4.9 a query on a reserved connection whose socket
 * closed (a server restart or failover, idle_in_transaction_session_timeout, a network cut while
 * the relay waited for Pub/Sub) calls `socket.write` on null from a setImmediate callback: an
 * uncaught TypeError that ends the process (porsager/postgres#1208, #1154). A client of its own
 * with one pooled connection reconnects instead; but a reconnected connection is a new session
 * (no lock, no transaction), so the session counts its connection's closes, and work that needs
 * the same session checks `lost(since)` before going on after any wait on something else.
 */
import postgres from 'postgres';
import { SheetsyncError } from '../errors.ts';
import { connectPostgres, type PostgresRole } from './postgres-connection.ts';

export interface PostgresSession {
  /** Queries run on the session's one connection, one after another. */
  sql: postgres.Sql;
  /** A mark to compare with later: the number of times the connection has closed so far. */
  mark(): number;
  /** Whether the connection closed since `mark` was taken (the server session is gone). */
  lost(mark: number): boolean;
  /** Throws SHEETSYNC_E210 when the session was lost since `mark`. */
  check(mark: number): void;
  end(): Promise<void>;
}

/**
 * A session on `source`: a URL (opened with `role`'s timeouts), or a client whose connection
 * options (timeouts included) it copies.
 */
export function openSession(source: string | postgres.Sql, role: PostgresRole): PostgresSession {
  let closes = 0;
  const own = {
    max: 1,
    // A connection the driver retires on its own would take the session (and its lock) along.
    max_lifetime: null,
    onclose: () => {
      closes++;
    },
  };
  const sql =
    typeof source === 'string'
      ? connectPostgres(source, role, own)
      : // Parsed options are taken as they are (their `shared` marks them parsed); a new pool.
        postgres({ ...(source.options as unknown as postgres.Options<Record<string, never>>), ...own });
  return {
    sql,
    mark: () => closes,
    lost: (mark) => closes !== mark,
    check(mark) {
      if (closes !== mark) {
        throw new SheetsyncError(
          'SHEETSYNC_E210',
          'The PostgreSQL session ended while it was in use (a restart, a failover, a timeout); its work is retried on a new one',
          'retry',
        );
      }
    },
    end: () => sql.end({ timeout: 5 }),
  };
}
