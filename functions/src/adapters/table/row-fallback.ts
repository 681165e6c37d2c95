/**
 * Finding the rows a database refuses in a failed batch, for every engine's writer
 * (table-writer.ts on PostgreSQL, mysql/mysql-writer.ts): the batch is tried whole; on an error
 * that may be a row's own, in halves, down to single rows. A row that fails alone is reported;
 * the others apply. k bad rows among n cost about 2k·log2(n) statements, not n. The halves keep
 * the rows' order; keys and deletions land only when their batch succeeded.
 */
import type { RowError, WriteResult } from '../../ports/table.ts';

export interface RowFallback<T extends { rowId: string }, E, R extends RowError> {
  /**
   * Writes `batch` into `into`. On failure it must leave nothing of the batch applied (the
   * engine's savepoint rolled back) and reject with the error.
   */
  attempt(batch: T[], into: WriteResult): Promise<void>;
  /** Whether `error` may be one row's own (else it fails the whole write). */
  isRowRefusal(error: unknown): error is E;
  /** How a row that failed alone is reported. */
  rowError(rowId: string, op: RowError['op'], error: E): R;
}

export async function withRowFallback<T extends { rowId: string }, E, R extends RowError>(
  rows: T[],
  result: { keys: WriteResult['keys']; deleted: WriteResult['deleted']; errors: R[] },
  op: RowError['op'],
  fallback: RowFallback<T, E, R>,
): Promise<void> {
  const attempt = async (batch: T[]): Promise<void> => {
    const scratch: WriteResult = { keys: new Map(), deleted: new Set(), errors: [] };
    try {
      await fallback.attempt(batch, scratch);
    } catch (error) {
      if (!fallback.isRowRefusal(error)) throw error;
      if (batch.length === 1) {
        result.errors.push(fallback.rowError(batch[0]!.rowId, op, error));
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await attempt(batch.slice(0, half));
      await attempt(batch.slice(half));
      return;
    }
    for (const [rowId, key] of scratch.keys) result.keys.set(rowId, key);
    for (const rowId of scratch.deleted) result.deleted.add(rowId);
  };
  await attempt(rows);
}
