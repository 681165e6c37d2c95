/**
 * applyToDb's log lines for one flush of a link: its problems, one line per row and per
 * conflict (so Logs Explorer can follow a row by rowId, and the log-based metrics in
 * terraform/monitoring.tf count conflicts), and one line with where the flush's time went.
 */
import { ERROR_CODES } from '../../error-codes.ts';
import type { Logger } from '../../log.ts';
import type { RowCommit } from '../../ports.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';
import type { RowProblem } from './types.ts';

export interface FlushTimes {
  started: number;
  read: number;
  written: number;
  stored: number;
}

export function logFlush(
  logger: Logger,
  now: () => number,
  link: string,
  messages: readonly SheetChangeMessage[],
  outcome: { problems: readonly RowProblem[]; commits: ReadonlyMap<string, RowCommit> },
  times: FlushTimes,
): void {
  // The code's title, not the message: PostgreSQL's and the coercion's messages quote values.
  for (const p of outcome.problems) {
    logger.warn(`${ERROR_CODES[p.code]}; the sheet's errors tab says why`, {
      link,
      rowId: p.rowId,
      code: p.code,
      row: p.row,
      column: p.column,
      sqlState: p.sqlState,
    });
  }
  const flushedAt = now();
  const lastChange = new Map(messages.map((m) => [m.rowId, m]));
  for (const [rowId, commit] of outcome.commits) {
    const change = lastChange.get(rowId);
    logger.info('applied a sheet change to the table', {
      link,
      rowId,
      op: 'applyToDb',
      origin: 'sheet',
      ...(change ? { latencyMs: Math.max(0, flushedAt - change.time), eventId: change.eventId } : {}),
    });
    for (const conflict of commit.conflicts ?? []) {
      logger.warn(`conflict on ${conflict.column}: ${conflict.policy} chose ${conflict.outcome}`, {
        link,
        rowId,
        op: 'conflict',
        column: conflict.column,
        policy: conflict.policy,
        status: conflict.status,
      });
    }
  }
  const oldest = messages.reduce((t, m) => Math.min(t, m.time), Infinity);
  logger.info('applied sheet changes', {
    link,
    op: 'applyToDb',
    origin: 'sheet',
    count: messages.length,
    latencyMs: Math.max(0, now() - oldest),
    // Where the flush's time went (the sheet-to-db bench sums these per hop).
    waitMs: Math.max(0, times.started - oldest),
    readMs: times.read - times.started,
    pgMs: times.written - times.read,
    storeMs: times.stored - times.written,
  });
}
