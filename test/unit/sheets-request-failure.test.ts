/**
 * What a failed Sheets API request says about whether it was applied (request-failure.ts), and
 * the request timeout's setting. The errors are shaped as gaxios raises them (seen against the
 * local sheet: a dropped connection is ECONNRESET, a timeout an AbortError, an API error carries
 * the HTTP status).
 */
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../functions/src/adapters/sheets/request-failure.ts';
import {
  DEFAULT_SHEETS_TIMEOUT_MS,
  sheetsTimeoutMs,
} from '../../functions/src/adapters/sheets/sheets-api.ts';

const apiError = (status: number) => Object.assign(new Error('x'), { status, response: { status } });
const networkError = (code: string) =>
  Object.assign(new Error(`request failed, reason: ${code}`), { code, cause: { code } });

describe('classifyFailure', () => {
  it.each([
    ['429: not applied, send again', apiError(429), 'throttled'],
    ['400: refused, not applied', apiError(400), 'refused'],
    ['403: refused, not applied', apiError(403), 'refused'],
    ['500: unknown', apiError(500), 'unknown'],
    ['503: unknown', apiError(503), 'unknown'],
    ['connection refused: never sent', networkError('ECONNREFUSED'), 'unsent'],
    ['no such host: never sent', networkError('ENOTFOUND'), 'unsent'],
    ['connection reset after sending: unknown', networkError('ECONNRESET'), 'unknown'],
    ['an error without a code: unknown', new Error('socket hang up'), 'unknown'],
  ])('%s', (_, error, kind) => {
    expect(classifyFailure(error).kind).toBe(kind);
  });

  it('tells a timeout (the client aborted) from other unknown outcomes', () => {
    const timeout = Object.assign(new Error('The operation was aborted.'), {
      cause: Object.assign(new Error('aborted'), { name: 'AbortError' }),
    });
    expect(classifyFailure(timeout)).toEqual({ kind: 'unknown', timedOut: true });
    expect(classifyFailure(networkError('ECONNRESET'))).toMatchObject({ kind: 'unknown', timedOut: false });
  });
});

describe('sheetsTimeoutMs (SHEETSYNC_SHEETS_TIMEOUT_MS)', () => {
  it('defaults to 60 s and takes a whole number of milliseconds', () => {
    expect(sheetsTimeoutMs({})).toBe(DEFAULT_SHEETS_TIMEOUT_MS);
    expect(DEFAULT_SHEETS_TIMEOUT_MS).toBe(60_000);
    expect(sheetsTimeoutMs({ SHEETSYNC_SHEETS_TIMEOUT_MS: '15000' })).toBe(15_000);
  });

  it.each(['abc', '-5', '1.5', '50'])('refuses %j with SHEETSYNC_E512, naming the variable', (text) => {
    expect(() => sheetsTimeoutMs({ SHEETSYNC_SHEETS_TIMEOUT_MS: text })).toThrow(
      expect.objectContaining({
        code: 'SHEETSYNC_E512',
        message: expect.stringMatching(/SHEETSYNC_SHEETS_TIMEOUT_MS/),
      }),
    );
  });
});
