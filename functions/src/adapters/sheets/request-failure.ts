/**
 * What a failed Sheets API request says about whether Google applied it. The answer decides
 * whether it may simply be sent again:
 *
 * - 429: the quota check comes first, nothing was applied; send again after backoff.
 * - another 4xx: refused, nothing applied ("All Sheets requests are applied atomically. That is,
 *   if any request is not valid then the entire update is unsuccessful",
 *   https://developers.google.com/workspace/sheets/api/limits); it would fail the same way again.
 * - no connection (refused, no such host): the request never left; send again.
 * - 5xx, a timeout, a connection lost after the request was sent: the outcome is unknown. Google
 *   may have applied it whole (a lost answer) or not at all. A read or a write that sets values at
 *   fixed places may be sent again; a write that adds or removes rows or columns may not: sent
 *   twice it appends twice or deletes the row that moved up into the deleted one's place. Its
 *   caller reads what landed and writes only the rest (OutcomeUnknownError).
 */
import { SheetsyncError } from '../../errors.ts';

export type RequestFailure =
  | { kind: 'throttled'; status: 429 }
  | { kind: 'refused'; status: number }
  | { kind: 'unsent'; code: string }
  | { kind: 'unknown'; status?: number; code?: string; timedOut: boolean };

/** Connection errors raised before any byte of the request was sent. */
const UNSENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Classifies an error of the googleapis client (gaxios). */
export function classifyFailure(error: unknown): RequestFailure {
  const status = statusOf(error);
  if (status === 429) return { kind: 'throttled', status };
  if (status !== undefined && status < 500) return { kind: 'refused', status };
  if (status !== undefined) return { kind: 'unknown', status, timedOut: false };
  const code = codeOf(error);
  if (code !== undefined && UNSENT.has(code)) return { kind: 'unsent', code };
  return { kind: 'unknown', ...(code !== undefined ? { code } : {}), timedOut: isTimeout(error) };
}

/** A short description for logs and messages: `503`, `timeout`, `ECONNRESET`. */
export function describeFailure(failure: RequestFailure): string {
  if ('status' in failure && failure.status !== undefined) return String(failure.status);
  if (failure.kind === 'unknown' && failure.timedOut) return 'timeout';
  return ('code' in failure && failure.code) || 'network error';
}

/**
 * A write whose outcome is unknown (5xx, timeout, connection lost after sending), thrown by
 * SheetsApi.call instead of sending a write again that is not safe to repeat. The caller reads
 * the sheet to see what landed (by sync id) and writes the rest; the Pub/Sub message, when it
 * reaches the handler, is redelivered and decided again against a fresh read.
 */
export class OutcomeUnknownError extends SheetsyncError {
  override name = 'OutcomeUnknownError';
  constructor(
    readonly what: string,
    readonly failure: Extract<RequestFailure, { kind: 'unknown' }>,
    cause: unknown,
  ) {
    super(
      failure.timedOut ? 'SHEETSYNC_E511' : 'SHEETSYNC_E510',
      `Sheets API ${what}: no answer that says whether it was applied (${describeFailure(failure)}): ${messageOf(cause)}. sheetsync reads the sheet to see what landed before it writes the rest.`,
      'retry',
      { cause },
    );
  }
}

/**
 * A row a request addresses by position is not where the snapshot has it (SheetTab.write proves
 * positions before each such request): nothing was sent; the tab is read again and the write
 * placed anew.
 */
export class RowsMovedError extends SheetsyncError {
  override name = 'RowsMovedError';
  constructor(what: string) {
    super(
      'SHEETSYNC_E514',
      `rows of tab moved while sheetsync was about to write ${what}; nothing was sent, and the write is placed again`,
      'retry',
    );
  }
}

export function statusOf(error: unknown): number | undefined {
  const e = error as { status?: number; code?: number | string; response?: { status?: number } };
  const status = e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  return typeof status === 'number' && status >= 100 ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : e.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** gaxios aborts a request past its `timeout` with an AbortError (TimeoutError with fetch). */
function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; cause?: { name?: string } };
  const names = [e.name, e.cause?.name];
  return names.includes('AbortError') || names.includes('TimeoutError');
}

export function messageOf(error: unknown): string {
  const e = error as { response?: { data?: { error?: { message?: string } } }; message?: string };
  return e.response?.data?.error?.message ?? e.message ?? String(error);
}
