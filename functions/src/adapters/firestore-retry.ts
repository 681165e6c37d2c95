/**
 * Retry of Firestore transactions that lost to contention. Firestore answers ABORTED (gRPC 10)
 * when a transaction's reads went stale or it waited too long for a lock; the emulator aborts
 * most transactions that pile onto one document. Full jitter spreads the retries of competing
 * group commits apart (the "Exponential Backoff And Jitter" analysis, AWS Architecture Blog 2015).
 */
import { SheetsyncError } from '../errors.ts';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 12. */
  attempts?: number;
  /** First backoff cap in ms. Default 25. */
  baseDelayMs?: number;
  /** Largest backoff cap in ms. Default 2,000. */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about each retry (for logs and metrics). */
  onRetry?: (attempt: number, error: unknown) => void;
}

/**
 * gRPC codes worth retrying a whole transaction or batch for: ABORTED, UNAVAILABLE,
 * DEADLINE_EXCEEDED, and RESOURCE_EXHAUSTED, which Firestore answers when writes outrun what a
 * new collection has ramped up to (Google's "500/50/5" advice): the first sync's bulk creates
 * can hit it, and Google's guidance is to back off exponentially and retry.
 */
const retryableCodes = new Set([10, 14, 4, 8]);

export function isContention(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && retryableCodes.has(code);
}

export async function withContentionRetry<T>(options: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  const attempts = options.attempts ?? 12;
  const base = options.baseDelayMs ?? 25;
  const cap = options.maxDelayMs ?? 2000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isContention(error)) throw error;
      if (n >= attempts) {
        throw new SheetsyncError(
          'SHEETSYNC_E404',
          `A version store transaction still lost to contention after ${attempts} attempts`,
          'retry',
          { cause: error },
        );
      }
      options.onRetry?.(n, error);
      await sleep(random() * Math.min(cap, base * 2 ** (n - 1)));
    }
  }
}
