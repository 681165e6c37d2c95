/**
 * The Sheets API client sheetsync uses: `@googleapis/sheets`, with every request paced by a
 * token bucket per quota kind, cut off after a timeout, and retried after Google's recommended
 * truncated exponential backoff with jitter when that is safe (request-failure.ts): a read, a
 * write that sets values at fixed places (`idempotent`), or any request Google did not apply
 * (429, no connection). A write that adds or removes rows or columns whose outcome is unknown
 * (5xx, timeout, connection lost) is not sent again: OutcomeUnknownError tells the caller to read
 * what landed and write the rest. A request that still fails is a retryable SheetsyncError (the
 * Pub/Sub message is nacked and redelivered), except 4xx other than 429, which are permanent:
 * they would fail the same way again.
 */

import { sheets, type sheets_v4 } from '@googleapis/sheets';
import type { ErrorCode } from '../../error-codes.ts';
import { SheetsyncError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import {
  classifyFailure,
  describeFailure,
  messageOf,
  OutcomeUnknownError,
  type RequestFailure,
} from './request-failure.ts';
import { backoffMs, type Clock, realClock, TokenBucket } from './token-bucket.ts';

/** Default cut-off of one Sheets API request (ms): SHEETSYNC_SHEETS_TIMEOUT_MS overrides it. */
export const DEFAULT_SHEETS_TIMEOUT_MS = 60_000;

/**
 * The request timeout from SHEETSYNC_SHEETS_TIMEOUT_MS, or the default. Google stops processing
 * a request after 180 s (https://developers.google.com/workspace/sheets/api/limits); applyToSheet
 * runs for at most 120 s, so a request that hangs must give up well before that, leaving time to
 * read what landed and write the rest.
 */
export function sheetsTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const text = env.SHEETSYNC_SHEETS_TIMEOUT_MS;
  if (text === undefined || text.trim() === '') return DEFAULT_SHEETS_TIMEOUT_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100) {
    throw new SheetsyncError(
      'SHEETSYNC_E512',
      `SHEETSYNC_SHEETS_TIMEOUT_MS must be a whole number of milliseconds, at least 100 (default ${DEFAULT_SHEETS_TIMEOUT_MS}); got "${text}"`,
    );
  }
  return ms;
}

export interface SheetsApiOptions {
  /** Default: Google's. The local sheet: its URL, e.g. http://127.0.0.1:8090/ */
  rootUrl?: string;
  /** An OAuth2 client or GoogleAuth; omitted for the local sheet. */
  auth?: sheets_v4.Options['auth'];
  /** Write requests per minute this client may send (Google's per-user default: 60). */
  writesPerMinute?: number;
  readsPerMinute?: number;
  /** Attempts per request before giving up (the message is then redelivered). Default 6. */
  maxAttempts?: number;
  /** How long one request may take (ms). Default: sheetsTimeoutMs(). */
  timeoutMs?: number;
  /** The first backoff's ceiling (ms), doubling per attempt up to backoffMaxMs. Default 1000. */
  backoffBaseMs?: number;
  /** Default 64,000 (Google's recommended maximum backoff). */
  backoffMaxMs?: number;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
}

export interface RequestCounts {
  reads: number;
  writes: number;
  retries: number;
  throttled: number;
  /** Writes whose outcome was unknown, handed to their caller to check (OutcomeUnknownError). */
  outcomeUnknown: number;
  /** Requests cut off by the timeout. */
  timedOut: number;
}

export interface CallOptions {
  /**
   * A write that may be sent twice with the same effect (values at fixed places, RAW): retried
   * like a read when its outcome is unknown. Default false for writes.
   */
  idempotent?: boolean;
}

export class SheetsApi {
  readonly client: sheets_v4.Sheets;
  readonly counts: RequestCounts = {
    reads: 0,
    writes: 0,
    retries: 0,
    throttled: 0,
    outcomeUnknown: 0,
    timedOut: 0,
  };
  /** The request timeout (ms). */
  readonly timeoutMs: number;
  private readonly buckets: Record<'read' | 'write', TokenBucket>;
  private readonly options: SheetsApiOptions;
  private readonly clock: Clock;

  constructor(options: SheetsApiOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.timeoutMs = options.timeoutMs ?? sheetsTimeoutMs();
    this.client = sheets({
      version: 'v4',
      ...(options.rootUrl
        ? { rootUrl: options.rootUrl.endsWith('/') ? options.rootUrl : `${options.rootUrl}/` }
        : {}),
      ...(options.auth ? { auth: options.auth } : {}),
      retry: false,
      timeout: this.timeoutMs,
    } as sheets_v4.Options);
    this.buckets = {
      read: new TokenBucket({ perMinute: options.readsPerMinute ?? 60, clock: this.clock }),
      write: new TokenBucket({ perMinute: options.writesPerMinute ?? 60, clock: this.clock }),
    };
  }

  /**
   * Resolves when a write request could go out now (TokenBucket.ready): applyToSheet's group
   * commit waits here before it takes a group, so changes gather while the budget refills.
   */
  writeReady(): Promise<void> {
    return this.buckets.write.ready();
  }

  /** Attempts per request, and rounds of checking a write whose outcome was unknown. */
  get maxAttempts(): number {
    return this.options.maxAttempts ?? 6;
  }

  /** Waits the backoff before attempt `attempt + 1` (truncated exponential, with jitter). */
  backoff(attempt: number): Promise<void> {
    const { backoffBaseMs = 1000, backoffMaxMs = 64_000, random } = this.options;
    return this.clock.sleep(backoffMs(attempt, random, backoffBaseMs, backoffMaxMs));
  }

  /**
   * Runs one API request under the quota of its kind, retrying passing failures that are safe to
   * send again (the module's header). Throws OutcomeUnknownError for a write that is not
   * `idempotent` whose outcome is unknown.
   */
  async call<T>(
    kind: 'read' | 'write',
    what: string,
    request: () => Promise<{ data: T }>,
    options: CallOptions = {},
  ): Promise<T> {
    const repeatable = kind === 'read' || options.idempotent === true;
    for (let attempt = 0; ; attempt++) {
      await this.buckets[kind].take();
      if (kind === 'read') this.counts.reads++;
      else this.counts.writes++;
      try {
        return (await request()).data;
      } catch (error) {
        const failure = classifyFailure(error);
        if (failure.kind === 'unknown' && failure.timedOut) this.counts.timedOut++;
        if (failure.kind === 'refused') {
          throw new SheetsyncError(
            'SHEETSYNC_E501',
            `Sheets API refused ${what} (${failure.status}): ${messageOf(error)}`,
            'permanent',
            { cause: error },
          );
        }
        if (failure.kind === 'unknown' && !repeatable) {
          this.counts.outcomeUnknown++;
          const unknown = new OutcomeUnknownError(what, failure, error);
          this.options.logger.warn(unknown.message, { code: unknown.code });
          throw unknown;
        }
        if (failure.kind === 'throttled') {
          this.counts.throttled++;
          this.buckets[kind].drain();
        }
        if (attempt + 1 >= this.maxAttempts) {
          throw new SheetsyncError(
            'SHEETSYNC_E502',
            `Sheets API ${what} still failing after ${this.maxAttempts} attempts (${describeFailure(failure)}): ${messageOf(error)}`,
            'retry',
            { cause: error },
          );
        }
        this.counts.retries++;
        this.options.logger.warn(`Sheets API ${what} failed (${describeFailure(failure)}); retrying`, {
          code: codeFor(failure),
        });
        await this.backoff(attempt);
      }
    }
  }
}

function codeFor(failure: RequestFailure): ErrorCode {
  if (failure.kind === 'throttled') return 'SHEETSYNC_E503';
  if (failure.kind === 'unknown' && failure.timedOut) return 'SHEETSYNC_E511';
  return 'SHEETSYNC_E502';
}
