/**
 * Feeds a bus subscription into a group-committed apply function: each delivered message is
 * parsed at the edge, submitted to the group commit, and acked when its outcome is `ack`; a
 * `retry` outcome or a failed flush nacks it, so the bus redelivers it (and dead-letters it after
 * the subscription's maximum attempts). A message that does not parse is acked after logging:
 * redelivering it could never succeed, and the dead-letter topic would only delay the report.
 */
import { SheetsyncError } from '../errors.ts';
import { GroupCommit } from '../functions/group-commit.ts';
import type { Logger } from '../log.ts';
import type { Bus, ReceivedMessage, Subscription } from '../ports.ts';

export interface SubscriberOptions<M> {
  bus: Bus;
  subscription: string;
  parse: (data: Buffer) => M;
  flush: (deliveries: Array<{ message: M; attempt: number }>) => Promise<Array<'ack' | 'retry'>>;
  /** Group-commit window (applyToSheet: 200 ms by default; applyToDb: short). */
  windowMs: number;
  maxBatch?: number;
  /** Awaited before each group is taken (GroupCommitOptions.ready). */
  ready?: () => Promise<void>;
  maxInFlight?: number;
  logger: Logger;
}

export function startSubscriber<M>(options: SubscriberOptions<M>): Subscription {
  const group = new GroupCommit<{ message: M; attempt: number }, 'ack' | 'retry'>(options.flush, {
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
    const outcome = await group.submit({ message, attempt: received.deliveryAttempt });
    if (outcome === 'retry') throw new Error('deferred: redeliver later');
  };
  return options.bus.subscribe(options.subscription, handler, { maxInFlight: options.maxInFlight ?? 10_000 });
}
