/**
 * applyToDb and applyToSheet as HTTP functions that read Pub/Sub's push request themselves
 * (https://cloud.google.com/pubsub/docs/push): the body is
 * `{message: {data, attributes, messageId, publishTime, orderingKey}, subscription, deliveryAttempt}`;
 * a 102, 200, 201, 202 or 204 answer acknowledges the message, any other answer (or none within
 * the ack deadline) is a failed attempt, which comes back after the retry policy's backoff.
 * functions-framework's CloudEvent path for a push body keeps only data, attributes, id and
 * publish time: `deliveryAttempt`, which applyToDb's deferral cap counts, would be lost.
 *
 * A deferred change (outcome `retry`: a change of the same row in flight on the other side) is
 * held in the request and decided again after a short wait, each time as one more attempt,
 * rather than answered with a nack: a nack costs the retry backoff (10 s, then doubling) and,
 * ordering being on, holds back every later message of its key for as long. The held request
 * keeps its key's slot exactly as the nack's backoff would, only for less time. When the holds
 * are used up and the change is still deferred, the request nacks (409) and Pub/Sub redelivers it.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import type { ErrorCode } from '../error-codes.ts';
import { SheetsyncError } from '../errors.ts';
import type { Logger } from '../log.ts';

export type PushOutcome = 'ack' | 'retry';

/** What a push function submits to: the function's group commit (GroupCommit). */
export interface PushSubmitter<M> {
  submit(delivery: { message: M; attempt: number }): Promise<PushOutcome>;
}

/**
 * The waits before each decision after a deferral. With applyToDb's cap of 5 decisions
 * (core/merge-sheet-change.ts defaultMaxDeferrals) a first delivery is decided at most 5 times
 * within one request, 3.75 s in all, and never nacked for a deferral.
 */
export const HOLD_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000];

/**
 * Submits a delivery and, while it is deferred, holds it and submits it again as the next
 * attempt after each of `holds`: 'ack', or 'retry' when still deferred after them (or once
 * `stopped`). The push handler and the pull subscriber (subscriber.ts) both hold this way.
 */
export async function submitWithHolds(
  submit: (attempt: number) => Promise<PushOutcome>,
  options: {
    firstAttempt: number;
    holds: readonly number[];
    sleep: (ms: number) => Promise<void>;
    stopped?: () => boolean;
  },
): Promise<PushOutcome> {
  for (let attempt = options.firstAttempt, hold = 0; ; attempt++, hold++) {
    if ((await submit(attempt)) === 'ack') return 'ack';
    if (hold >= options.holds.length || options.stopped?.()) return 'retry';
    await options.sleep(options.holds[hold]!);
    if (options.stopped?.()) return 'retry';
  }
}

export interface PubsubPushOptions<M> {
  parse: (data: Buffer) => M;
  submitter: () => PushSubmitter<M> | Promise<PushSubmitter<M>>;
  logger: Logger;
  holdDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

/** A push request's fields that the functions use. */
export interface PushRequest {
  data: Buffer;
  messageId: string;
  orderingKey?: string;
  subscription: string;
  /** Pub/Sub's count, 1 the first time; 1 when the subscription has no dead-letter policy (absent or 0). */
  deliveryAttempt: number;
}

/** The push body, or why it is not one. */
export function readPushBody(body: unknown): PushRequest | { problem: string } {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body))
    return { problem: 'the body is not a JSON object (send Content-Type: application/json)' };
  const { message, subscription, deliveryAttempt } = body as Record<string, unknown>;
  if (typeof message !== 'object' || message === null) return { problem: 'the body has no "message" object' };
  const { data, messageId, orderingKey } = message as Record<string, unknown>;
  if (typeof messageId !== 'string' || messageId === '') return { problem: 'the message has no "messageId"' };
  if (data !== undefined && typeof data !== 'string')
    return { problem: 'the message\'s "data" is not a base64 string' };
  if (orderingKey !== undefined && typeof orderingKey !== 'string')
    return { problem: 'the message\'s "orderingKey" is not a string' };
  if (typeof subscription !== 'string') return { problem: 'the body has no "subscription"' };
  if (
    deliveryAttempt !== undefined &&
    !(Number.isInteger(deliveryAttempt) && (deliveryAttempt as number) >= 0)
  )
    return { problem: '"deliveryAttempt" is not a whole number' };
  return {
    data: Buffer.from(data ?? '', 'base64'),
    messageId,
    ...(orderingKey ? { orderingKey } : {}),
    subscription,
    deliveryAttempt: Math.max(1, (deliveryAttempt as number | undefined) ?? 1),
  };
}

function answer(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** The HTTP handler of one push subscription's function. */
export function pubsubPush<M>(options: PubsubPushOptions<M>) {
  const holds = options.holdDelaysMs ?? HOLD_DELAYS_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { logger } = options;
  return async (req: Request, res: Response): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      answer(res, 405, 'SHEETSYNC_E770', 'not a Pub/Sub push request: only POST is taken');
      return;
    }
    const push = readPushBody(req.body);
    if ('problem' in push) {
      // Only Pub/Sub calls this function (OIDC): the answer is for a person testing it by hand.
      logger.warn(`refused a request that is not a Pub/Sub push: ${push.problem}`, {
        code: 'SHEETSYNC_E770',
      });
      answer(res, 400, 'SHEETSYNC_E770', `not a Pub/Sub push request: ${push.problem}`);
      return;
    }
    const labels = { subscription: push.subscription, messageId: push.messageId };
    let message: M;
    try {
      message = options.parse(push.data);
    } catch (error) {
      // Redelivery could never succeed: log and acknowledge.
      logger.error(`dropped a malformed message: ${(error as Error).message}`, {
        ...labels,
        code: error instanceof SheetsyncError ? error.code : 'SHEETSYNC_E310',
      });
      res.status(204).end();
      return;
    }
    try {
      const submitter = await options.submitter();
      const outcome = await submitWithHolds((attempt) => submitter.submit({ message, attempt }), {
        firstAttempt: push.deliveryAttempt,
        holds,
        sleep,
      });
      if (outcome === 'ack') {
        res.status(204).end();
        return;
      }
      logger.info('a deferred message is nacked: Pub/Sub redelivers it after its backoff', {
        ...labels,
        code: 'SHEETSYNC_E772',
        attempt: push.deliveryAttempt,
      });
      answer(res, 409, 'SHEETSYNC_E772', 'deferred: a change of the same row is in flight; redeliver later');
    } catch (error) {
      const code = error instanceof SheetsyncError ? error.code : 'SHEETSYNC_E771';
      logger.error(`a pushed message failed; Pub/Sub redelivers it: ${(error as Error).message}`, {
        ...labels,
        code,
      });
      answer(res, 500, code, 'the message could not be applied; redeliver later');
    }
  };
}
