/**
 * The serverless outbox relay (terraform/relay.tf): Cloud Scheduler starts an invocation every
 * minute, each drains for a bounded time with outbox-relay.ts's batches, and while changes keep
 * coming spaces its batches (`lingerMs`) so that each Pub/Sub message, one in flight per key
 * bucket when pushed, carries more changes (docs/design/ordering-keys.md).
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { releaseRelayLock, tryRelayLock } from '../adapters/postgres-outbox.ts';
import { openSession } from '../adapters/postgres-session.ts';
import { drainHttpHandler } from './drain-http.ts';
import { contextOf, newCounters, type RelayOptions, relayBatch, urlOf } from './outbox-relay.ts';

export interface DrainResult {
  /** False when another relay holds the lock (then nothing was done). */
  acquired: boolean;
  published: number;
  batches: number;
  /** Whether changes were still waiting when time ran out. */
  remaining: boolean;
}

/**
 * Relays for at most `ms` (the batch in flight when time runs out completes); returns at once
 * with `acquired: false` if another relay is active. By default it returns once the outbox is empty; with
 * `stayUntilDeadline` (the scheduled HTTP function) it keeps relaying new changes until the
 * deadline, waiting for the lock if an earlier invocation still holds it.
 */
export async function drainFor(
  options: Omit<RelayOptions, 'signal'>,
  ms: number,
  { stayUntilDeadline = false }: { stayUntilDeadline?: boolean } = {},
): Promise<DrainResult> {
  const counters = newCounters();
  const ctx = contextOf(options, counters);
  const session = options.sql ? openSession(options.sql, 'relay') : openSession(urlOf(options), 'relay');
  const deadline = Date.now() + ms;
  // Serverless relay (terraform/relay.tf): each invocation keeps relaying until its deadline, so
  // with overlapping invocations a change waits at most `idle` ms, not until the next schedule.
  const idle = Math.min(options.pollIntervalMs ?? 250, 1000);
  const sleep = (wait: number) =>
    new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, deadline - Date.now()))));
  let mark = session.mark();
  try {
    // The previous invocation may still hold the lock for its last seconds: wait for it.
    while (!(await tryRelayLock(session.sql))) {
      if (!stayUntilDeadline || Date.now() >= deadline) {
        return { acquired: false, published: 0, batches: 0, remaining: true };
      }
      await sleep(idle);
      mark = session.mark();
    }
    try {
      await ctx.bus.ensureTopic(ctx.topic);
      let remaining = false;
      let full = false;
      let batchStarted = 0;
      const linger = options.lingerMs ?? 0;
      while (Date.now() < deadline) {
        if (remaining && !full && linger > 0) await sleep(batchStarted + linger - Date.now());
        batchStarted = Date.now();
        const published = await relayBatch(session, mark, ctx);
        remaining = published > 0;
        full = published >= ctx.maxBatchChanges;
        if (!remaining && !stayUntilDeadline) break;
        if (!remaining) await sleep(idle);
      }
      return { acquired: true, published: counters.published, batches: counters.batches, remaining };
    } finally {
      if (!session.lost(mark)) await releaseRelayLock(session.sql).catch(() => {});
    }
  } finally {
    await session.end();
  }
}

/**
 * The functions-framework HTTP handler that drains for a bounded time: `?ms=` (or body
 * `{"ms": n}`) up to `maxDrainMs` (default 50 s, under the function's timeout). Answers 200 with
 * the DrainResult, or 500 with the error code (the scheduler retries).
 */
export function outboxRelayHttpHandler(
  options: Omit<RelayOptions, 'signal'> & { maxDrainMs?: number },
): HttpFunction {
  return drainHttpHandler((ms) => drainFor(options, ms, { stayUntilDeadline: true }), options);
}
