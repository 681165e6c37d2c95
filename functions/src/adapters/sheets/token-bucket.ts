/**
 * Pacing for the Sheets API's per-minute quotas (60 write requests per minute per user by
 * default; https://developers.google.com/workspace/sheets/api/limits).
 *
 * A token bucket of capacity `burst` refilled at `rate` tokens/s admits at most
 * `burst + rate × T` requests in any window of T seconds. With rate = (limit − burst) / 60 it
 * therefore never sends more than `limit` requests in any 60-second window, whether Google counts
 * the minute as a fixed or a sliding window.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TokenBucketOptions {
  /** Requests allowed per minute (the quota). */
  perMinute: number;
  /**
   * Requests that may go at once after a quiet spell. Default: min(20, perMinute / 3): at
   * Google's 60 writes a minute, 20 at once and then one every 1.5 s. A larger burst serves
   * bursts of changes better (applyToSheet spaces its flushes over it, TokenBucket.ready) and
   * sustained load a little worse (measured in bench/db-to-sheet and a model of it;
   * docs/design/sheets-pacing.md gives the figures).
   */
  burst?: number;
  clock?: Clock;
}

export class TokenBucket {
  readonly burst: number;
  /** Tokens per millisecond. */
  readonly rate: number;
  private tokens: number;
  private last: number;
  private readonly clock: Clock;
  /** Callers wait in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    if (!(options.perMinute >= 2)) throw new RangeError('perMinute must be at least 2');
    this.clock = options.clock ?? realClock;
    this.burst = Math.max(
      1,
      Math.min(options.burst ?? Math.min(20, options.perMinute / 3), options.perMinute - 1 || 1),
    );
    this.rate = Math.max(options.perMinute - this.burst, 1) / 60_000;
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  /** Resolves when one request may be sent. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.takeNow());
    this.queue = turn.catch(() => {});
    return turn;
  }

  private lastReady = Number.NEGATIVE_INFINITY;

  /**
   * Resolves when a request could be sent now, without taking a token, and spaces callers out
   * as the bucket empties: the time since the previous ready() must be at least
   * `spread × (1 − tokens / burst) / rate`, from 0 with the bucket full to `spread` times the
   * refill interval with it empty. A caller that batches what arrives while it waits (a group
   * commit) then spends a burst over a few seconds of steady changes instead of in the first
   * second, and what arrives later does not wait a whole refill interval.
   */
  async ready(spread = 0.5): Promise<void> {
    for (;;) {
      this.refill();
      const gap = (spread * (1 - Math.max(0, this.tokens) / this.burst)) / this.rate;
      const wait = Math.max(
        this.lastReady + gap - this.clock.now(),
        this.tokens >= 1 ? 0 : (1 - this.tokens) / this.rate,
      );
      if (wait <= 0) break;
      await this.clock.sleep(Math.ceil(wait));
    }
    this.lastReady = this.clock.now();
  }

  /** Empties the bucket, e.g. after a 429: the server says we are at the limit. */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate);
    this.last = now;
  }

  private async takeNow(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.rate));
    }
  }
}

/**
 * Truncated exponential backoff with full jitter, as Google recommends for 429 and 5xx
 * (https://developers.google.com/workspace/sheets/api/limits#exponential).
 */
export function backoffMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 1000,
  maxMs = 64_000,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
