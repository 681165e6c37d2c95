/**
 * The outbox relay (the trigger bridge): drains sheetsync.outbox to the topic
 * `sheetsync-db-changes`, losing none (DESIGN.md §2, Outbox): each row change keeps its own id,
 * and travels in a batch message per link and key bucket (relay/outbox-messages.ts).
 *
 * Protocol, per batch, on one server session of the relay's own that holds its advisory lock
 * (adapters/postgres-session.ts):
 *   begin → claim the oldest unpublished rows (FOR UPDATE SKIP LOCKED, id order)
 *         → publish their changes and wait for the bus's acks → delete the rows → commit.
 * A crash anywhere before the commit leaves the rows in place, so the next relay publishes them
 * again: duplicates are possible and carry the same outboxId/changeId; losses are not. Batches
 * are strictly sequential and one relay is active per database (the advisory lock; a second
 * relay waits for it and takes over when the first one's session ends), so each key's changes
 * reach the bus in commit order. A session that ended while the relay waited for the bus (a
 * server restart) is never used again, nor is the batch continued in a new one: the relay takes
 * the lock again and publishes the batch again.
 *
 * It wakes on NOTIFY sheetsync_outbox (sent once per capturing statement) and polls as a
 * fallback, because a notification is lost while no one listens.
 *
 * Two ways to run it: `startRelay` (a long-lived loop) and outbox-drain.ts's `drainFor` and its
 * HTTP handler (drain for a bounded time, for Cloud Scheduler → Cloud Functions).
 */

import type postgres from 'postgres';
import { connectPostgres } from '../adapters/postgres-connection.ts';
import {
  claimOutboxRows,
  deleteOutboxRows,
  noteSchemaChanges,
  outboxDepth,
  releaseRelayLock,
  tryRelayLock,
} from '../adapters/postgres-outbox.ts';
import { openSession, type PostgresSession } from '../adapters/postgres-session.ts';
import { SheetsyncError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { Bus } from '../ports.ts';
import { DB_CHANGES_TOPIC } from '../wire/db-change.ts';
import { withinColumns } from './column-filter.ts';
import { describeError } from './drain-http.ts';
import { changesToBusMessages, outboxRowToChanges } from './outbox-messages.ts';
import type { FittedChange } from './oversized-change.ts';

export interface RelayOptions {
  /**
   * A client for LISTEN, whose settings the relay's own session copies (not closed by the
   * relay); or a URL to open both with.
   */
  sql?: postgres.Sql;
  databaseUrl?: string;
  bus: Bus;
  /** Default `sheetsync-db-changes`. */
  topic?: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** Poll interval when no NOTIFY arrives, and the wait between tries for the lock. Default 1000. */
  pollIntervalMs?: number;
  /** Row changes per batch (one publish round). Default 5000. */
  maxBatchChanges?: number;
  /**
   * A link's `columns` allowlist: the relay publishes only those columns (and the key) of its
   * changes (relay/column-filter.ts). Undefined for a link that syncs every column.
   */
  columnsOf?: (link: string) => readonly string[] | undefined;
  /**
   * `drainFor` (outbox-drain.ts) only: while changes keep coming, start a batch at most every
   * `lingerMs` (a batch that filled `maxBatchChanges` goes on at once). Pub/Sub push keeps one message in flight per
   * ordering key, so a key's messages are applied one per flush of applyToSheet: spacing the
   * batches makes each message carry more changes instead of queueing more messages
   * (docs/design/ordering-keys.md). The first change after an idle spell goes at once. Default 0.
   */
  lingerMs?: number;
  /** Fault injection for tests: runs after the bus acknowledged a batch, before the commit. */
  afterPublish?: (outboxIds: readonly string[]) => Promise<void>;
}

/** For the `status` command and logs. */
export interface RelayCounters {
  /** Holding the lock and draining. */
  active: boolean;
  /** Row changes published (and acknowledged) by this process. */
  published: number;
  batches: number;
  lastBatchSize: number;
  /** Age of the newest change in the last batch when its publish was acknowledged. */
  lagMs: number;
  /** Row changes waiting in the outbox at the last idle check. */
  outboxDepth: number;
  errors: number;
}

export interface RunningRelay {
  counters(): RelayCounters;
  /** Stops after the current batch and releases the lock. */
  stop(): Promise<void>;
  /** Settles when the relay has stopped. */
  done: Promise<void>;
}

const RETRY_MAX_MS = 10_000;
/**
 * How often an idle relay looks for watched tables whose columns changed with no write since
 * (capture notices them itself on the next write): a renamed column reaches the sheet's header
 * within about this long.
 */
export const SCHEMA_CHECK_MS = 2_000;

interface Context {
  bus: Bus;
  topic: string;
  logger: Logger;
  maxBatchChanges: number;
  counters: RelayCounters;
  afterPublish: RelayOptions['afterPublish'];
  columnsOf: NonNullable<RelayOptions['columnsOf']>;
  /** When the relay last looked for changed columns (SCHEMA_CHECK_MS). */
  schemaCheckedAt: number;
}

/**
 * One batch: returns the number of row changes published (0 when the outbox was empty). `mark`
 * is when the session took the lock: a batch never goes on in a later session (without the
 * lock or its claim), and never sends a query on a session that ended (postgres-session.ts).
 */
export async function relayBatch(session: PostgresSession, mark: number, ctx: Context): Promise<number> {
  const conn = session.sql;
  session.check(mark);
  await conn`begin`;
  try {
    const rows = await claimOutboxRows(conn, ctx.maxBatchChanges);
    if (rows.length === 0) {
      await conn`commit`;
      if (Date.now() - ctx.schemaCheckedAt >= SCHEMA_CHECK_MS) {
        ctx.schemaCheckedAt = Date.now();
        session.check(mark);
        // A recorded SCHEMA row NOTIFYs, so the relay's next batch takes it at once.
        const noted = await noteSchemaChanges(conn);
        if (noted > 0) ctx.logger.info('columns of watched tables changed', { tables: noted });
      }
      return 0;
    }
    const changes = rows
      .flatMap(outboxRowToChanges)
      .map((change) => withinColumns(change, ctx.columnsOf(change.link)));
    const started = performance.now();
    const messages = changesToBusMessages(changes, undefined, {
      onOversized: (fitted) => reportOversized(ctx.logger, fitted),
    });
    await ctx.bus.publish(ctx.topic, messages);
    const ids = rows.map((r) => r.id);
    await ctx.afterPublish?.(ids);
    session.check(mark);
    await deleteOutboxRows(conn, ids);
    await conn`commit`;
    const newest = changes[changes.length - 1]!;
    ctx.counters.published += changes.length;
    ctx.counters.batches++;
    ctx.counters.lastBatchSize = changes.length;
    ctx.counters.lagMs = Math.max(0, Date.now() - Date.parse(newest.time));
    ctx.logger.info('published outbox batch', {
      outboxRows: rows.length,
      changes: changes.length,
      publishMs: Math.round(performance.now() - started),
      lagMs: ctx.counters.lagMs,
      firstOutboxId: ids[0],
      lastOutboxId: ids[ids.length - 1],
    });
    return changes.length;
  } catch (error) {
    if (!session.lost(mark)) await conn`rollback`.catch(() => {});
    throw error;
  }
}

/**
 * A change too large for a Pub/Sub message went out with its largest values replaced: logged
 * with its table and key, the columns and sizes, never a value.
 */
function reportOversized(logger: Logger, { change, bytes, replaced }: FittedChange): void {
  const columns = [...new Set(replaced.map((r) => r.column))];
  logger.warn(
    `SHEETSYNC_E208: a change of ${change.table} is ${bytes.toLocaleString('en-US')} bytes, more than a Pub/Sub message holds; ` +
      `${columns.join(', ')} went to the sheet as a preview, the table keeps the whole value`,
    {
      code: 'SHEETSYNC_E208',
      link: change.link,
      table: change.table,
      key: JSON.stringify(change.key),
      change: change.op,
      changeId: change.changeId,
      columns: columns.join(','),
      bytes,
      chars: Math.max(...replaced.map((r) => r.chars)),
    },
  );
}

export function contextOf(options: RelayOptions, counters: RelayCounters): Context {
  return {
    bus: options.bus,
    topic: options.topic ?? DB_CHANGES_TOPIC,
    logger: (options.logger ?? silentLogger).child({ component: 'outbox-relay' }),
    maxBatchChanges: options.maxBatchChanges ?? 5000,
    counters,
    afterPublish: options.afterPublish,
    columnsOf: options.columnsOf ?? (() => undefined),
    schemaCheckedAt: 0,
  };
}

export function urlOf(options: Pick<RelayOptions, 'databaseUrl'>): string {
  if (!options.databaseUrl) {
    throw new SheetsyncError(
      'SHEETSYNC_E205',
      'The outbox relay needs a database: pass sql or databaseUrl',
      'permanent',
    );
  }
  return options.databaseUrl;
}

/** The client for LISTEN and the relay's own session (lock, claims) on the same settings. */
function clientOf(options: RelayOptions): { sql: postgres.Sql; owned: boolean; session: PostgresSession } {
  if (options.sql) return { sql: options.sql, owned: false, session: openSession(options.sql, 'relay') };
  const url = urlOf(options);
  return { sql: connectPostgres(url, 'relay', { max: 1 }), owned: true, session: openSession(url, 'relay') };
}

export function newCounters(): RelayCounters {
  return { active: false, published: 0, batches: 0, lastBatchSize: 0, lagMs: 0, outboxDepth: 0, errors: 0 };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs the relay until `signal` aborts or `stop()` is called. */
export function startRelay(options: RelayOptions): RunningRelay {
  const counters = newCounters();
  const ctx = contextOf(options, counters);
  const { sql, owned, session } = clientOf(options);
  const stopper = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal;
  const pollMs = options.pollIntervalMs ?? 1000;

  let wake: (() => void) | undefined;
  let notified = false;
  const onNotify = () => {
    notified = true;
    wake?.();
  };
  const waitForWork = () =>
    new Promise<void>((resolve) => {
      if (notified || signal.aborted) return resolve();
      const timer = setTimeout(finish, pollMs);
      function finish() {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        wake = undefined;
        resolve();
      }
      wake = finish;
      signal.addEventListener('abort', finish, { once: true });
    });

  const run = async () => {
    let failures = 0;
    const listening = await sql.listen('sheetsync_outbox', onNotify).catch((error) => {
      ctx.logger.warn('LISTEN failed; polling only', describeError(error));
      return undefined;
    });
    while (!signal.aborted) {
      let mark = session.mark();
      try {
        while (!(await tryRelayLock(session.sql))) {
          if (!counters.active && failures === 0)
            ctx.logger.debug('another relay is active; waiting for its lock');
          await sleep(pollMs, signal);
          if (signal.aborted) return;
          mark = session.mark();
        }
        counters.active = true;
        ctx.logger.info('relay active', { topic: ctx.topic });
        await ctx.bus.ensureTopic(ctx.topic);
        while (!signal.aborted) {
          notified = false;
          const published = await relayBatch(session, mark, ctx);
          failures = 0;
          if (published === 0) {
            counters.outboxDepth = (await outboxDepth(session.sql)).changes;
            await waitForWork();
          }
        }
        if (!session.lost(mark)) await releaseRelayLock(session.sql).catch(() => {});
      } catch (error) {
        counters.errors++;
        failures++;
        const delay = Math.min(RETRY_MAX_MS, 200 * 2 ** Math.min(failures, 6));
        ctx.logger.error('relay batch failed; retrying', { ...describeError(error), retryInMs: delay });
        await sleep(delay, signal);
      } finally {
        counters.active = false;
      }
    }
    await listening?.unlisten().catch(() => {});
  };

  const done = run().finally(async () => {
    await session.end();
    if (owned) await sql.end({ timeout: 5 });
  });
  return {
    counters: () => ({ ...counters }),
    async stop() {
      stopper.abort();
      await done;
    },
    done,
  };
}
