/**
 * The outbox relay for MySQL/MariaDB: drains the trigger outbox (sql/mysql/install.sql) to the
 * topic `sheetsync-db-changes` in the same batch messages as the PostgreSQL relay
 * (relay/outbox-relay.ts, relay/outbox-messages.ts), losing none.
 *
 * Protocol, per batch, on one connection of the relay's own that holds the relay lock
 * (mysql-relay-store.ts):
 *   start transaction → claim the oldest committed rows (FOR UPDATE SKIP LOCKED, id order)
 *   → publish their changes and wait for the bus's acks → delete the rows → commit.
 * A failure anywhere before the commit leaves the rows in place, and the connection is dropped
 * (its lock with it): the next try takes the lock on a new session and publishes the batch
 * again. Duplicates carry the same change ids; losses are not possible. Batches are sequential
 * and one relay is active per outbox database, so each key's changes reach the bus in commit
 * order. MySQL has no LISTEN/NOTIFY: the relay polls (default every 250 ms while idle).
 */
import type { MysqlConnection, MysqlPool } from '../adapters/mysql/mysql-connection.ts';
import {
  claimMysqlOutbox,
  deleteMysqlOutboxRows,
  mysqlOutboxDepth,
  releaseMysqlRelayLock,
  tryMysqlRelayLock,
  WatchedTables,
} from '../adapters/mysql/mysql-relay-store.ts';
import { mysqlIdent } from '../adapters/mysql/mysql-schema.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { Bus } from '../ports.ts';
import type { DbChangeMessage } from '../wire/db-change.ts';
import { DB_CHANGES_TOPIC } from '../wire/db-change.ts';
import { withinColumns } from './column-filter.ts';
import { describeError } from './drain-http.ts';
import { mysqlChangeMessage } from './mysql-changes.ts';
import { changesToBusMessages } from './outbox-messages.ts';
import type { RelayCounters, RunningRelay } from './outbox-relay.ts';

export interface MysqlRelayOptions {
  pool: MysqlPool;
  /** The database of sheetsync's own tables (installMysqlCapture). Default `sheetsync`. */
  outboxDatabase?: string;
  bus: Bus;
  /** Default `sheetsync-db-changes`. */
  topic?: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** Poll interval while the outbox is empty, and between tries for the lock. Default 250. */
  pollIntervalMs?: number;
  /** Row changes per batch (one publish round). Default 5000. */
  maxBatchChanges?: number;
  /** A link's `columns` allowlist (relay/column-filter.ts). */
  columnsOf?: (link: string) => readonly string[] | undefined;
  /** Fault injection for tests: runs after the bus acknowledged a batch, before the commit. */
  afterPublish?: (outboxIds: readonly string[]) => Promise<void>;
}

const RETRY_MAX_MS = 10_000;

interface Context {
  pool: MysqlPool;
  own: string;
  outboxDatabase: string;
  bus: Bus;
  topic: string;
  logger: Logger;
  maxBatchChanges: number;
  counters: RelayCounters;
  tables: WatchedTables;
  afterPublish: MysqlRelayOptions['afterPublish'];
  columnsOf: NonNullable<MysqlRelayOptions['columnsOf']>;
}

function contextOf(options: MysqlRelayOptions, counters: RelayCounters): Context {
  const outboxDatabase = options.outboxDatabase ?? 'sheetsync';
  const own = mysqlIdent(outboxDatabase);
  return {
    pool: options.pool,
    own,
    outboxDatabase,
    bus: options.bus,
    topic: options.topic ?? DB_CHANGES_TOPIC,
    logger: (options.logger ?? silentLogger).child({ component: 'outbox-relay', engine: 'mysql' }),
    maxBatchChanges: options.maxBatchChanges ?? 5000,
    counters,
    tables: new WatchedTables(options.pool, own),
    afterPublish: options.afterPublish,
    columnsOf: options.columnsOf ?? (() => undefined),
  };
}

function newCounters(): RelayCounters {
  return { active: false, published: 0, batches: 0, lastBatchSize: 0, lagMs: 0, outboxDepth: 0, errors: 0 };
}

/** One batch on `connection` (holding the lock): the number of outbox rows published. */
async function relayBatch(connection: MysqlConnection, ctx: Context): Promise<number> {
  await connection.query('start transaction');
  const claimed = await claimMysqlOutbox(connection, ctx.own, ctx.tables, ctx.maxBatchChanges);
  if (claimed.length === 0) {
    await connection.query('commit');
    return 0;
  }
  const changes: DbChangeMessage[] = [];
  for (const change of claimed) {
    // A row of a table no longer watched has no link to go to: it is deleted unpublished.
    if (change.watched)
      changes.push(
        withinColumns(mysqlChangeMessage(change, change.watched), ctx.columnsOf(change.watched.link)),
      );
  }
  const started = performance.now();
  if (changes.length > 0) await ctx.bus.publish(ctx.topic, changesToBusMessages(changes));
  const ids = claimed.map((c) => c.id);
  await ctx.afterPublish?.(ids);
  await deleteMysqlOutboxRows(connection, ctx.own, ids);
  await connection.query('commit');
  ctx.counters.published += changes.length;
  ctx.counters.batches++;
  ctx.counters.lastBatchSize = changes.length;
  const newest = claimed[claimed.length - 1]!;
  ctx.counters.lagMs = Math.max(0, Date.now() - Date.parse(newest.time));
  ctx.logger.info('published outbox batch', {
    changes: changes.length,
    dropped: claimed.length - changes.length,
    publishMs: Math.round(performance.now() - started),
    lagMs: ctx.counters.lagMs,
    firstOutboxId: ids[0],
    lastOutboxId: ids[ids.length - 1],
  });
  return claimed.length;
}

/** The code and text a failed batch is logged with. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A session for the relay: its own connection, in READ COMMITTED (each claim sees what has
 * committed since the last one). It never goes back to the pool; after a failure it is
 * abandoned, never reused.
 */
async function relaySession(ctx: Context): Promise<MysqlConnection> {
  const connection = await ctx.pool.getConnection();
  try {
    await connection.query('set session transaction isolation level read committed');
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/**
 * Ends a relay session after a failure: rolls back and releases the lock while the connection
 * still answers (the server notices a closed connection only later, keeping the lock meanwhile),
 * then destroys it, so it is never used again.
 */
async function abandon(connection: MysqlConnection, ctx: Context): Promise<void> {
  try {
    await connection.query('rollback');
    await releaseMysqlRelayLock(connection, ctx.outboxDatabase);
  } catch {
    // The session is gone: so are its transaction and its lock.
  } finally {
    connection.destroy();
  }
}

/** Runs the relay until `signal` aborts or `stop()` is called. */
export function startMysqlRelay(options: MysqlRelayOptions): RunningRelay {
  const counters = newCounters();
  const ctx = contextOf(options, counters);
  const stopper = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal;
  const pollMs = options.pollIntervalMs ?? 250;

  const run = async () => {
    let failures = 0;
    while (!signal.aborted) {
      let connection: MysqlConnection | undefined;
      try {
        connection = await relaySession(ctx);
        while (!(await tryMysqlRelayLock(connection, ctx.outboxDatabase))) {
          await sleep(pollMs, signal);
          if (signal.aborted) return;
        }
        counters.active = true;
        ctx.logger.info('relay active', { topic: ctx.topic });
        await ctx.bus.ensureTopic(ctx.topic);
        while (!signal.aborted) {
          const published = await relayBatch(connection, ctx);
          failures = 0;
          if (published === 0) {
            counters.outboxDepth = (await mysqlOutboxDepth(connection, ctx.own)).changes;
            await sleep(pollMs, signal);
          }
        }
        await releaseMysqlRelayLock(connection, ctx.outboxDatabase);
        connection.destroy();
        connection = undefined;
      } catch (error) {
        if (connection) await abandon(connection, ctx);
        connection = undefined;
        counters.errors++;
        failures++;
        ctx.tables.clear();
        const delay = Math.min(RETRY_MAX_MS, 200 * 2 ** Math.min(failures, 6));
        ctx.logger.error('relay batch failed; retrying', { ...describeError(error), retryInMs: delay });
        await sleep(delay, signal);
      } finally {
        counters.active = false;
        if (connection) await abandon(connection, ctx);
      }
    }
  };

  const done = run();
  return {
    counters: () => ({ ...counters }),
    async stop() {
      stopper.abort();
      await done;
    },
    done,
  };
}

export interface MysqlDrainResult {
  /** False when another relay holds the lock (then nothing was done). */
  acquired: boolean;
  published: number;
  batches: number;
  /** Whether changes were still waiting when time ran out. */
  remaining: boolean;
}

/**
 * Relays for at most `ms`: until the outbox is empty, or with `stayUntilDeadline` (the
 * scheduled HTTP function) until the deadline, waiting for the lock meanwhile.
 */
export async function drainMysqlFor(
  options: Omit<MysqlRelayOptions, 'signal'>,
  ms: number,
  { stayUntilDeadline = false }: { stayUntilDeadline?: boolean } = {},
): Promise<MysqlDrainResult> {
  const counters = newCounters();
  const ctx = contextOf(options, counters);
  const deadline = Date.now() + ms;
  const idle = Math.min(options.pollIntervalMs ?? 250, 1000);
  const wait = (t: number) => sleep(Math.max(0, Math.min(t, deadline - Date.now())));
  const connection = await relaySession(ctx);
  let healthy = false;
  try {
    while (!(await tryMysqlRelayLock(connection, ctx.outboxDatabase))) {
      if (!stayUntilDeadline || Date.now() >= deadline) {
        healthy = true;
        return { acquired: false, published: 0, batches: 0, remaining: true };
      }
      await wait(idle);
    }
    await ctx.bus.ensureTopic(ctx.topic);
    let remaining = false;
    while (Date.now() < deadline) {
      remaining = (await relayBatch(connection, ctx)) > 0;
      if (!remaining && !stayUntilDeadline) break;
      if (!remaining) await wait(idle);
    }
    await releaseMysqlRelayLock(connection, ctx.outboxDatabase);
    healthy = true;
    return { acquired: true, published: counters.published, batches: counters.batches, remaining };
  } finally {
    // Not back to the pool: the session's isolation level is the relay's.
    if (healthy) connection.destroy();
    else await abandon(connection, ctx);
  }
}
