/**
 * Pub/Sub's push delivery, as a subscription with terraform/subscriptions.json's settings does it,
 * for the local stack: Google's emulator pushes without a retry policy (a failed push comes back
 * at once) and fails on a subscription with a dead-letter policy (pubsub-bus.ts), so
 * `sheetsync start --as-deployed` pulls from the emulator and pushes through this model.
 *
 * What it models (https://cloud.google.com/pubsub/docs/handling-failures,
 * https://cloud.google.com/pubsub/docs/ordering, https://cloud.google.com/pubsub/docs/push):
 * - a push succeeds on a 2xx answer within the ack deadline; any other answer or no answer in
 *   time is a failed attempt;
 * - after a failed attempt the message comes back after an exponential backoff: the minimum
 *   backoff first, doubled at each further failure, never more than the maximum;
 * - with ordering on, a key has one message outstanding: its later messages wait until it is
 *   acknowledged (or dead-lettered), while other keys go on;
 * - a message whose attempt `max_delivery_attempts` fails is forwarded to the dead-letter topic
 *   and acknowledged, and its key goes on;
 * - at most `maxOutstanding` pushes at once (the function's request concurrency times its
 *   instances, terraform/main.tf).
 * Pub/Sub calls its backoff and attempt counts best effort; this model is exact.
 */

export interface PushSettings {
  ackDeadlineSeconds: number;
  minimumBackoffSeconds: number;
  maximumBackoffSeconds: number;
  maxDeliveryAttempts: number;
  ordering: boolean;
  maxOutstanding: number;
}

export interface PushedMessage {
  id: string;
  data: Buffer;
  orderingKey?: string;
  attributes: Record<string, string>;
  publishTime: Date;
}

export interface PushTarget {
  /** One push request; resolves true on a 2xx answer. `signal` aborts it at the ack deadline. */
  post(message: PushedMessage, attempt: number, signal: AbortSignal): Promise<boolean>;
  /** Forwards the message to the dead-letter topic (then it is acknowledged); may reject. */
  deadLetter(message: PushedMessage, attempts: number): Promise<void>;
  /** Acknowledges the message at its source. */
  ack(message: PushedMessage): void;
}

/** The delay before attempt `failures + 1`, after `failures` failed attempts (≥ 1). */
export function retryDelayMs(failures: number, minimumSeconds: number, maximumSeconds: number): number {
  const seconds = Math.min(maximumSeconds, minimumSeconds * 2 ** Math.max(0, failures - 1));
  return Math.max(minimumSeconds, seconds) * 1000;
}

export interface PushCounters {
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
}

export class PushDelivery {
  readonly counters: PushCounters = { delivered: 0, failedAttempts: 0, deadLettered: 0 };
  /** Messages of a key behind its outstanding one, in arrival (publish) order. */
  private readonly keys = new Map<string, PushedMessage[]>();
  private readonly waiting: Array<() => void> = [];
  private outstanding = 0;
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  private readonly stop = new AbortController();

  constructor(
    private readonly settings: PushSettings,
    private readonly target: PushTarget,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void> = abortableSleep,
  ) {}

  /** Takes a message from the source, in publish order per key. */
  push(message: PushedMessage): void {
    if (this.closed) return;
    const key = this.settings.ordering ? message.orderingKey : undefined;
    if (!key) {
      this.track(this.deliver(message));
      return;
    }
    const queue = this.keys.get(key);
    if (queue) {
      queue.push(message);
      return;
    }
    this.keys.set(key, []);
    this.track(this.drainKey(key, message));
  }

  /** Resolves when nothing is queued or outstanding. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Stops: messages not yet acknowledged are left to the source, which redelivers them. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.allSettled([...this.running]);
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async drainKey(key: string, first: PushedMessage): Promise<void> {
    let next: PushedMessage | undefined = first;
    while (next && !this.closed) {
      await this.deliver(next);
      next = this.keys.get(key)?.shift();
    }
    this.keys.delete(key);
  }

  /** Pushes one message until it is acknowledged or dead-lettered. */
  private async deliver(message: PushedMessage): Promise<void> {
    const s = this.settings;
    for (let attempt = 1; !this.closed; attempt++) {
      if (await this.attempt(message, attempt)) {
        this.counters.delivered++;
        this.target.ack(message);
        return;
      }
      this.counters.failedAttempts++;
      if (attempt >= s.maxDeliveryAttempts && !this.closed) {
        // A dead letter that cannot be published keeps the message (and its key) here: retried.
        const forwarded = await this.target.deadLetter(message, attempt).then(
          () => true,
          () => false,
        );
        if (forwarded) {
          this.counters.deadLettered++;
          this.target.ack(message);
          return;
        }
      }
      await this.sleep(
        retryDelayMs(attempt, s.minimumBackoffSeconds, s.maximumBackoffSeconds),
        this.stop.signal,
      ).catch(() => {});
    }
  }

  private async attempt(message: PushedMessage, attempt: number): Promise<boolean> {
    while (this.outstanding >= this.settings.maxOutstanding && !this.closed) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (this.closed) return false;
    this.outstanding++;
    const deadline = AbortSignal.any([
      this.stop.signal,
      AbortSignal.timeout(this.settings.ackDeadlineSeconds * 1000),
    ]);
    try {
      return await this.target.post(message, attempt, deadline);
    } catch {
      return false;
    } finally {
      this.outstanding--;
      this.waiting.shift()?.();
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
