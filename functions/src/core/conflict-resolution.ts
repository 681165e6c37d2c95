/**
 * A person's resolution of an open conflict (policy `manual`, or one decided without seeing the
 * DB change). The store records the choice; the chosen value then travels as a sheet change, so
 * it reaches the DB, and through its echo the sheet, by the same idempotent path as any edit (its
 * event id is derived from the conflict, so publishing it twice applies it once).
 *
 * Unlike an edit, a resolution is not made on the sheet: the sheet still shows what it showed
 * (usually the DB value kept when the conflict was decided). Its event id says so
 * (`isResolutionEventId`), and applyToDb then records that the sheet does not show the chosen
 * value, so the echo of the DB write writes it to the sheet.
 */
import { createHash } from 'node:crypto';
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
 * Refuses a choice that would write (the sheet's value, or a value of one's own) when the cell no
 * longer holds what the conflict left on both sides: a change applied since then would be
 * overwritten by a choice made without seeing it, and nothing would record it. Taking the DB
 * value writes nothing, so it is always accepted (it closes the conflict). `current` is the
 * cell's value in the row document now (undefined when the row document has no such cell).
 * A change still on its way when the person chooses cannot be seen here; see
 * docs/design/sync-core.md.
 */
export function staleChoice(
  conflict: ConflictRecord,
  choice: ResolutionChoice,
  current: CellValue | undefined,
): SheetsyncError | null {
  if (choice === 'db' || current === undefined || sameValue(current, conflict.value)) return null;
  const show = (value: CellValue) => (value === null ? '(empty)' : JSON.stringify(value));
  return new SheetsyncError(
    'SHEETSYNC_E410',
    `Conflict ${conflict.id} on row ${conflict.rowId}, column "${conflict.column}": the cell changed after the ` +
      `conflict was recorded (it held ${show(conflict.value)}, now ${show(current)}), so this choice would ` +
      'overwrite a change made since. Edit the cell instead, or take the DB value to close the conflict',
    'permanent',
  );
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
    eventId: resolutionEventId(resolved.id),
  };
}

/**
 * The event id of the change that carries the resolution of conflict `conflictId`: a UUID (the
 * sheet-change message wants one) of version 8, RFC 9562's custom layout, derived from the
 * conflict id. The Apps Script's event ids are random (version 4) UUIDs, so the version digit
 * tells a resolution from an edit. (A forged version-8 id from a sheet only makes the echo write
 * the cell's decided value to the sheet, which is harmless.)
 */
export function resolutionEventId(conflictId: string): string {
  const hex = createHash('sha256').update(`resolve:${conflictId}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const resolutionEventIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Whether a sheet change's event id is a resolution's (`resolutionEventId`), not a sheet edit's. */
export function isResolutionEventId(eventId: string | undefined): boolean {
  return eventId !== undefined && resolutionEventIdPattern.test(eventId);
}
