/**
 * Feeds a bus subscription into a group-committed apply function: each delivered message is
 * parsed at the edge, submitted to the group commit, and acked when its outcome is `ack`; a
 * failed flush nacks it, so the bus redelivers it (and dead-letters it after the subscription's
 * maximum attempts). A `retry` outcome (a deferral) is held and submitted again after
 * HOLD_DELAYS_MS, each time as one more attempt, as the deployed push handler does
 * (pubsub-push.ts), and nacked only when still deferred after them: a redelivery comes back at
 * once on a pulled subscription, so counting nacks let a deferral reach its cap in a few
 * hundred milliseconds under load, before the database change it waits for was recorded. A message that does not parse is acked after logging:
 * redelivering it could never succeed, and the dead-letter topic would only delay the report.
 */
import { SheetsyncError } from '../errors.ts';
import { GroupCommit } from '../handlers/group-commit.ts';
import type { Logger } from '../log.ts';
import type { Bus, ReceivedMessage, Subscription } from '../ports.ts';
import { HOLD_DELAYS_MS, submitWithHolds } from './pubsub-push.ts';

export interface SubscriberOptions<M> {
  bus: Bus;
  subscription: string;
  parse: (data: Buffer) => M;
  /**
   * Applies a group. It may call `release(outcomes)` early, with the outcomes it already knows
   * for good (a deferral is final; a later failure still fails the whole flush), to let the next
   * group start while it finishes (GroupCommit).
   */
  flush: (
    deliveries: Array<{ message: M; attempt: number }>,
    release: (known: ReadonlyArray<'ack' | 'retry'>) => void,
  ) => Promise<Array<'ack' | 'retry'>>;
  /** Group-commit window (applyToSheet: 200 ms by default; applyToDb: short). */
  windowMs: number;
  maxBatch?: number;
  /** Awaited before each group is taken (GroupCommitOptions.ready). */
  ready?: () => Promise<void>;
  maxInFlight?: number;
  /** The waits before a deferred message is submitted again (default HOLD_DELAYS_MS). */
  holdDelaysMs?: readonly number[];
  logger: Logger;
}

interface Item<M> {
  message: M;
  attempt: number;
  id: string;
  key: string | undefined;
}

/** How long a key stays held back after a deferred message that never came back (dead-lettered). */
const HOLD_MS = 2 * 60_000;

export function startSubscriber<M>(options: SubscriberOptions<M>): Subscription {
  /**
   * The bus hands a key's waiting messages out together (SubscribeOptions.keyBatches), so one
   * flush takes them all; a group commit may still split them over two flushes. When a message
   * is deferred (outcome retry), its key's later messages in later flushes are deferred too,
   * without being applied, until it comes back: per-row order across flushes. Within a flush
   * the apply functions keep it themselves (a row with a deferred change defers its later ones).
   */
  const held = new Map<string, { id: string; at: number }>();
  const holdDeferred = (items: Array<Item<M>>, pass: number[], results: ReadonlyArray<'ack' | 'retry'>) => {
    pass.forEach((i, j) => {
      const { key, id } = items[i]!;
      if (results[j] === 'retry' && key !== undefined && !held.has(key))
        held.set(key, { id, at: Date.now() });
    });
  };
  const flush = async (items: Array<Item<M>>, release: () => void): Promise<Array<'ack' | 'retry'>> => {
    const outcomes = new Array<'ack' | 'retry'>(items.length).fill('retry');
    const pass: number[] = [];
    items.forEach((item, i) => {
      const hold = item.key === undefined ? undefined : held.get(item.key);
      if (hold && hold.id !== item.id && Date.now() - hold.at < HOLD_MS) return;
      if (hold) held.delete(item.key!);
      pass.push(i);
    });
    const results = await options.flush(
      pass.map((i) => ({ message: items[i]!.message, attempt: items[i]!.attempt })),
      (known) => {
        // The next group may start: it must already see this group's deferrals.
        holdDeferred(items, pass, known);
        release();
      },
    );
    holdDeferred(items, pass, results);
    pass.forEach((i, j) => {
      outcomes[i] = results[j]!;
    });
    return outcomes;
  };
  // Holds in progress, each ended early by close() (one timer each, no listener per hold).
  let closed = false;
  const holding = new Set<() => void>();
  const waitHold = (ms: number) =>
    new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        holding.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      holding.add(end);
    });
  const group = new GroupCommit<Item<M>, 'ack' | 'retry'>(flush, {
    windowMs: options.windowMs,
    maxItems: options.maxBatch ?? 5000,
    ...(options.ready ? { ready: options.ready } : {}),
  });
  const handler = async (received: ReceivedMessage) => {
    let message: M;
    try {
      message = options.parse(received.data);
    } catch (error) {
      options.logger.error(`dropped a malformed message: ${(error as Error).message}`, {
        code: error instanceof SheetsyncError ? error.code : 'SHEETSYNC_E310',
        subscription: options.subscription,
        messageId: received.id,
      });
      return;
    }
    const outcome = await submitWithHolds(
      (attempt) => group.submit({ message, attempt, id: received.id, key: received.orderingKey }),
      {
        firstAttempt: received.deliveryAttempt,
        holds: options.holdDelaysMs ?? HOLD_DELAYS_MS,
        sleep: waitHold,
        // Closing: the bus redelivers it to the next subscriber instead.
        stopped: () => closed,
      },
    );
    if (outcome === 'retry') throw new Error('deferred: redeliver later');
  };
  const subscription = options.bus.subscribe(options.subscription, handler, {
    maxInFlight: options.maxInFlight ?? 10_000,
    keyBatches: true,
  });
  return {
    // Closed only once every flush it started has finished, commits included: what it uses (the
    // version store, the database) may be closed right after, and a flush still running then
    // would fail with nobody to catch it.
    async close() {
      closed = true;
      for (const end of [...holding]) end();
      await subscription.close();
      await group.drain();
    },
  };
}
