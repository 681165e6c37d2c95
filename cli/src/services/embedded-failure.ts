/** The error that ends a start of the embedded PostgreSQL (embedded-postgres.ts). */
import { SheetsyncError } from '../../../functions/src/errors.ts';

/** Ends an embedded start: the cause, and what to do (docs/errors.md, SHEETSYNC_E764). */
export function embeddedFailure(what: string, cause?: unknown): SheetsyncError {
  const detail = cause instanceof Error ? `: ${cause.message}` : cause ? `: ${String(cause)}` : '';
  return new SheetsyncError(
    'SHEETSYNC_E764',
    `the embedded PostgreSQL could not start (${what}${detail}). ` +
      'Run `npm ci` if node_modules is incomplete, or set DATABASE_URL to a PostgreSQL server of your own.',
    'permanent',
    { cause },
  );
}
