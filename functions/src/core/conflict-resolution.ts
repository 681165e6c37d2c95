/**
 * A person's resolution of an open conflict (policy `manual`, or one decided without seeing the
 * DB change). The store records the choice; the chosen value then travels as an ordinary sheet
 * change, so it reaches the DB, and through its echo the sheet, by the same idempotent path as
 * any edit (its event id is derived from the conflict, so publishing it twice applies it once).
 */
import { SheetsyncError } from '../errors.ts';
import type { RowChange } from '../wire/row-change.ts';
import type { CellValue } from './cell-value.ts';
import { sameValue } from './cell-value.ts';
import type { ConflictRecord } from './conflict-record.ts';

export type ResolutionChoice = 'sheet' | 'db' | { value: CellValue };

export function conflictNotFound(link: string, conflictId: string): SheetsyncError {
  return new SheetsyncError(
    'SHEETSYNC_E401',
    `No conflict ${conflictId} in link "${link}" (list them with listOpenConflicts)`,
    'permanent',
  );
}

/** The record after a person's choice. Resolving twice is refused: the first choice stands. */
export function applyResolution(
  conflict: ConflictRecord,
  choice: ResolutionChoice,
  at: number,
): ConflictRecord {
  if (conflict.status !== 'open') {
    throw new SheetsyncError(
      'SHEETSYNC_E402',
      `Conflict ${conflict.id} on row ${conflict.rowId}, column "${conflict.column}" is already resolved`,
      'permanent',
    );
  }
  const value =
    choice === 'sheet' ? conflict.sheet.value : choice === 'db' ? conflict.db.value : choice.value;
  const label = typeof choice === 'string' ? choice : 'custom';
  return { ...conflict, status: 'resolved', resolution: { choice: label, value, at } };
}

/**
 * The change that carries a resolution to both sides, or null when the DB already holds the
 * chosen value (the sheet was shown it when the conflict was decided).
 */
export function resolutionChange(resolved: ConflictRecord, now: number): RowChange | null {
  if (!resolved.resolution || sameValue(resolved.resolution.value, resolved.value)) return null;
  return {
    link: resolved.link,
    rowId: resolved.rowId,
    op: 'upsert',
    cells: { [resolved.column]: resolved.resolution.value },
    origin: 'sheet',
    time: { wall: now, logical: 0 },
    eventId: `resolve:${resolved.id}`,
  };
}
