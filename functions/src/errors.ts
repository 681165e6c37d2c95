/**
 * Errors are values with stable codes (`SHEETSYNC_E<area><nn>`), each documented in
 * docs/errors.md with cause and remedy. Logs print the code so a user can search for it.
 *
 * Areas: 1xx config, 2xx database and outbox, 3xx bus, 4xx version store and merge,
 * 5xx sheet and Sheets API, 6xx webhook, 9xx internal.
 * The codes are the keys of `ERROR_CODES` (error-codes.ts); a code not there fails typecheck.
 */

import type { ErrorCode } from './error-codes.ts';

export type { ErrorCode } from './error-codes.ts';

/** What the caller should do with the message or request that failed. */
export type ErrorEffect =
  /** Fix the input or config; retrying the same thing will fail again. */
  | 'permanent'
  /** A passing fault (connection, 429, 5xx, ABORTED); retry with backoff. */
  | 'retry';

export class SheetsyncError extends Error {
  override name = 'SheetsyncError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly effect: ErrorEffect = 'permanent',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRetryable(error: unknown): boolean {
  return error instanceof SheetsyncError && error.effect === 'retry';
}
