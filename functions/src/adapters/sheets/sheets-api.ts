/**
 * The Sheets API client sheetsync uses: `@googleapis/sheets`, with every request paced by a
 * token bucket per quota kind and retried on 429 and 5xx after Google's recommended truncated
 * exponential backoff with jitter. A request that still fails is a retryable SheetsyncError
 * (the Pub/Sub message is nacked and redelivered), except 4xx other than 429, which are
 * permanent: they would fail the same way again.
 */
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { SheetsyncError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { backoffMs, type Clock, realClock, TokenBucket } from './token-bucket.ts';

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
  logger: Logger;
  clock?: Clock;
  random?: () => number;
}

export interface RequestCounts {
  reads: number;
  writes: number;
  retries: number;
  throttled: number;
}

export class SheetsApi {
  readonly client: sheets_v4.Sheets;
  readonly counts: RequestCounts = { reads: 0, writes: 0, retries: 0, throttled: 0 };
  private readonly buckets: Record<'read' | 'write', TokenBucket>;
  private readonly options: SheetsApiOptions;
  private readonly clock: Clock;

  constructor(options: SheetsApiOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.client = sheets({
      version: 'v4',
      ...(options.rootUrl
        ? { rootUrl: options.rootUrl.endsWith('/') ? options.rootUrl : `${options.rootUrl}/` }
        : {}),
      ...(options.auth ? { auth: options.auth } : {}),
      retry: false,
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

  /** Runs one API request under the quota of its kind, retrying passing failures. */
  async call<T>(kind: 'read' | 'write', what: string, request: () => Promise<{ data: T }>): Promise<T> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    for (let attempt = 0; ; attempt++) {
      await this.buckets[kind].take();
      if (kind === 'read') this.counts.reads++;
      else this.counts.writes++;
      try {
        return (await request()).data;
      } catch (error) {
        const status = statusOf(error);
        const passing = status === 429 || status === undefined || status >= 500;
        if (!passing) {
          throw new SheetsyncError(
            'SHEETSYNC_E501',
            `Sheets API refused ${what} (${status}): ${messageOf(error)}`,
            'permanent',
            { cause: error },
          );
        }
        if (status === 429) {
          this.counts.throttled++;
          this.buckets[kind].drain();
        }
        if (attempt + 1 >= maxAttempts) {
          throw new SheetsyncError(
            'SHEETSYNC_E502',
            `Sheets API ${what} still failing after ${maxAttempts} attempts (${status ?? 'network'}): ${messageOf(error)}`,
            'retry',
            { cause: error },
          );
        }
        this.counts.retries++;
        const wait = backoffMs(attempt, this.options.random);
        this.options.logger.warn(
          `Sheets API ${what} failed (${status ?? 'network'}); retrying in ${wait} ms`,
          {
            code: status === 429 ? 'SHEETSYNC_E503' : 'SHEETSYNC_E502',
          },
        );
        await this.clock.sleep(wait);
      }
    }
  }
}

function statusOf(error: unknown): number | undefined {
  const e = error as { status?: number; code?: number | string; response?: { status?: number } };
  const status = e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  return typeof status === 'number' && status >= 100 ? status : undefined;
}

function messageOf(error: unknown): string {
  const e = error as { response?: { data?: { error?: { message?: string } } }; message?: string };
  return e.response?.data?.error?.message ?? e.message ?? String(error);
}
