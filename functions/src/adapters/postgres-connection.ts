/**
 * Every PostgreSQL connection sheetsync opens, with timeouts. Without them a call waits for a
 * lock, a slow statement or a dead server until the function is killed, and a transaction its
 * caller gave up on (Cloud Functions answers a timed-out request but need not stop its code)
 * may still commit after the message was redelivered. The server ends them instead:
 * `statement_timeout` (57014) and `lock_timeout` (55P03) fail the statement, and
 * `idle_in_transaction_session_timeout` (25P03) ends a session left idle inside a transaction,
 * rolling it back. https://www.postgresql.org/docs/current/runtime-config-client.html
 * The connect timeout is the driver's (postgres.js `connect_timeout`).
 *
 * Each kind of work has its own values (POSTGRES_TIMEOUTS), sent as startup parameters with
 * `application_name` = `sheetsync-<role>` (pg_stat_activity shows which part holds a session).
 * Environment variables override them, per role or for all roles:
 * `SHEETSYNC_PG_<ROLE>_<SETTING>_MS`, then `SHEETSYNC_PG_<SETTING>_MS`, with ROLE one of
 * APPLY_TO_DB, RELAY, SYNC, COMMAND and SETTING one of CONNECT_TIMEOUT, STATEMENT_TIMEOUT,
 * LOCK_TIMEOUT, IDLE_IN_TRANSACTION_TIMEOUT; milliseconds, 0 turns a server timeout off.
 */
import postgres from 'postgres';
import { SheetsyncError } from '../errors.ts';

/** The kinds of work that hold PostgreSQL connections. */
export type PostgresRole =
  /** applyToDb's flushes: short transactions of set-based writes, row locks held briefly. */
  | 'applyToDb'
  /** The outbox relay: its claim transaction stays open while Pub/Sub acknowledges a batch. */
  | 'relay'
  /** attach and reconcile: bulk reads and writes of whole tables. */
  | 'sync'
  /** The CLI and the local stack: install, checks, status, the dashboard. */
  | 'command';

export interface PostgresTimeouts {
  connectMs: number;
  statementMs: number;
  lockMs: number;
  idleInTransactionMs: number;
}

/**
 * Defaults. applyToDb: a flush of thousands of rows takes well under a second, and its function
 * times out at 120 s; a row lock another session holds fails the flush after 5 s (Pub/Sub
 * redelivers it) rather than hold every other change of the group commit. relay: its
 * transaction is idle while it waits for Pub/Sub's acks, which the client retries for up to
 * 60 s per request, so 5 minutes. sync: attach and reconcile write whole tables in a statement,
 * and the reconcile function runs up to 30 minutes.
 */
export const POSTGRES_TIMEOUTS: Readonly<Record<PostgresRole, Readonly<PostgresTimeouts>>> = {
  applyToDb: { connectMs: 10_000, statementMs: 30_000, lockMs: 5_000, idleInTransactionMs: 60_000 },
  relay: { connectMs: 10_000, statementMs: 60_000, lockMs: 10_000, idleInTransactionMs: 300_000 },
  sync: { connectMs: 10_000, statementMs: 900_000, lockMs: 30_000, idleInTransactionMs: 600_000 },
  command: { connectMs: 10_000, statementMs: 60_000, lockMs: 30_000, idleInTransactionMs: 60_000 },
};

const ROLE_NAMES: Record<PostgresRole, string> = {
  applyToDb: 'APPLY_TO_DB',
  relay: 'RELAY',
  sync: 'SYNC',
  command: 'COMMAND',
};

const SETTING_NAMES: Record<keyof PostgresTimeouts, string> = {
  connectMs: 'CONNECT_TIMEOUT',
  statementMs: 'STATEMENT_TIMEOUT',
  lockMs: 'LOCK_TIMEOUT',
  idleInTransactionMs: 'IDLE_IN_TRANSACTION_TIMEOUT',
};

/** PostgreSQL keeps these timeouts as int milliseconds. */
const MAX_MS = 2_147_483_647;

/** The environment variables that set `setting` for `role`, the role's own first. */
export function timeoutVariables(role: PostgresRole, setting: keyof PostgresTimeouts): [string, string] {
  return [
    `SHEETSYNC_PG_${ROLE_NAMES[role]}_${SETTING_NAMES[setting]}_MS`,
    `SHEETSYNC_PG_${SETTING_NAMES[setting]}_MS`,
  ];
}

/** The role's timeouts: the defaults, overridden by the environment (validated here). */
export function postgresTimeouts(
  role: PostgresRole,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PostgresTimeouts {
  const timeouts = { ...POSTGRES_TIMEOUTS[role] };
  for (const setting of Object.keys(timeouts) as Array<keyof PostgresTimeouts>) {
    const name = timeoutVariables(role, setting).find((n) => env[n] !== undefined && env[n] !== '');
    if (!name) continue;
    const text = env[name]!.trim();
    const ms = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    const least = setting === 'connectMs' ? 1 : 0;
    if (!(ms >= least && ms <= MAX_MS)) {
      throw new SheetsyncError(
        'SHEETSYNC_E209',
        `${name}=${JSON.stringify(text)} is not a timeout: give whole milliseconds, ${least} to ${MAX_MS}` +
          (least === 0 ? ' (0 turns it off)' : ''),
      );
    }
    timeouts[setting] = ms;
  }
  return timeouts;
}

/** postgres.js options carrying the role's timeouts (and `extra`, e.g. `max`). */
export function postgresOptions(
  role: PostgresRole,
  extra: postgres.Options<Record<string, never>> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): postgres.Options<Record<string, never>> {
  const t = postgresTimeouts(role, env);
  // As text: postgres.js leaves out a startup parameter whose value is falsy, so 0 (off) would
  // not be sent, and the server's or role's own setting would apply instead. Its types say number.
  const timeoutParameters = {
    statement_timeout: String(t.statementMs),
    lock_timeout: String(t.lockMs),
    idle_in_transaction_session_timeout: String(t.idleInTransactionMs),
  } as unknown as {
    statement_timeout: number;
    lock_timeout: number;
    idle_in_transaction_session_timeout: number;
  };
  return {
    onnotice: () => {},
    ...extra,
    connect_timeout: t.connectMs / 1000,
    connection: {
      ...extra.connection,
      application_name: `sheetsync-${role}`,
      ...timeoutParameters,
    },
  };
}

/** A client for `role` on `url`; `extra` adds driver options (e.g. `max`). */
export function connectPostgres(
  url: string,
  role: PostgresRole,
  extra: postgres.Options<Record<string, never>> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): postgres.Sql {
  return postgres(url, postgresOptions(role, extra, env));
}
