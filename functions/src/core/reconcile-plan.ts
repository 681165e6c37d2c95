/**
 * The pure decisions of attach and reconcile (functions/src/sync-jobs/attach.ts, functions/src/sync-jobs/reconcile.ts).
 *
 * Reconcile compares, per cell of a row both sides hold, the sheet's value and the DB's value
 * with the row document's last synced value (docs/design/sync-core.md): the side that differs
 * from it drifted. When both differ (from it and from each other) the cell is a conflict. Drift
 * bypassed the pipeline, so neither change has a dot or a time: last-writer-wins cannot order
 * them and keeps the DB value (the same choice as `manual`); the losing value is recorded.
 */

import type { ConflictPolicyName } from '../wire/config.ts';
import { type Cells, type CellValue, sameValue } from './cell-value.ts';
import type { Hlc } from './hlc.ts';
import { type CellState, emptyRowDocument, type RowDocument } from './row-document.ts';

/**
 * The dot that attach gives the values it copies: they come from the table's snapshot, not
 * from an outbox change, so the row's vector stays `{sheet: 0, db: 0}` and every later change
 * is applied.
 */
export const ATTACH_DOT = 'db:1';

/** A row document for a row both sides hold with `cells`, shown on the sheet at `writtenAt`. */
export function syncedRowDocument(
  rowId: string,
  key: Cells,
  cells: Cells,
  time: Hlc,
  writtenAt: number,
): RowDocument {
  const doc = emptyRowDocument(rowId, key);
  for (const [column, value] of Object.entries(cells)) {
    doc.cells[column] = {
      value,
      dot: ATTACH_DOT,
      time,
      echoed: true,
      sheetValue: value,
      sheetWrittenAt: writtenAt,
    } satisfies CellState;
  }
  return doc;
}

/**
 * The document of a live row put back on the sheet (with its own sync id) holding the table's
 * values `cells`, shown at `writtenAt`: a row the sheet lost whose table row changed since, or
 * that the table would not delete (a foreign key refers to it). A cell whose value the document
 * already holds keeps its dot and time; one the table changed behind sheetsync's back takes the
 * value as synced now.
 */
export function shownAgainDocument(
  doc: RowDocument,
  cells: Cells,
  time: Hlc,
  writtenAt: number,
): RowDocument {
  const next: RowDocument = { ...doc, cells: { ...doc.cells }, onSheetSince: writtenAt };
  for (const [column, value] of Object.entries(cells)) {
    const state = next.cells[column];
    next.cells[column] =
      state && sameValue(state.value, value)
        ? { ...state, sheetValue: value, sheetWrittenAt: writtenAt }
        : { value, dot: ATTACH_DOT, time, echoed: true, sheetValue: value, sheetWrittenAt: writtenAt };
  }
  return next;
}

export type CellPlan =
  | { kind: 'same' }
  /** The sheet drifted: write its value to the DB. */
  | { kind: 'to-db'; value: CellValue }
  /** The DB drifted (or the sheet lacks the value): write the DB's value to the sheet. */
  | { kind: 'to-sheet'; value: CellValue }
  /** Both drifted apart: the policy's winner goes to the other side; the loser is recorded. */
  | { kind: 'conflict'; winner: 'sheet' | 'db'; sheet: CellValue; db: CellValue };

/**
 * One cell. `synced` is the document's value (undefined when the document does not know the
 * column: then the DB is taken as the truth, as attach does).
 */
export function planCell(
  sheet: CellValue,
  db: CellValue,
  synced: CellValue | undefined,
  policy: ConflictPolicyName,
): CellPlan {
  if (sameValue(sheet, db)) return { kind: 'same' };
  if (synced === undefined) return { kind: 'to-sheet', value: db };
  const sheetChanged = !sameValue(sheet, synced);
  const dbChanged = !sameValue(db, synced);
  if (sheetChanged && !dbChanged) return { kind: 'to-db', value: sheet };
  if (dbChanged && !sheetChanged) return { kind: 'to-sheet', value: db };
  return { kind: 'conflict', winner: policy === 'sheet-wins' ? 'sheet' : 'db', sheet, db };
}

export type RowPlan =
  | { kind: 'insert-db' }
  | { kind: 'append-sheet' }
  | { kind: 'delete-db' }
  | { kind: 'delete-sheet' }
  | { kind: 'keep' };

/**
 * A row only one side holds. `doc` is its row document (if any) and whether the row matches its
 * last synced values on the side that still holds it (a changed row is kept, not deleted).
 */
export function planLoneRow(
  side: 'sheet' | 'db',
  doc: RowDocument | undefined,
  unchangedSinceSync: boolean,
): RowPlan {
  if (!doc) return side === 'sheet' ? { kind: 'insert-db' } : { kind: 'append-sheet' };
  if (doc.tombstone) return side === 'sheet' ? { kind: 'delete-sheet' } : { kind: 'delete-db' };
  // The other side deleted a synced row behind sheetsync's back: delete it here too, unless
  // this side changed it since (then the change wins and the row is restored over there).
  if (unchangedSinceSync) return side === 'sheet' ? { kind: 'delete-sheet' } : { kind: 'delete-db' };
  return side === 'sheet' ? { kind: 'insert-db' } : { kind: 'append-sheet' };
}

/** Whether `cells` equal the document's last synced values (for the columns it knows). */
export function matchesSynced(doc: RowDocument, cells: Cells): boolean {
  for (const [column, state] of Object.entries(doc.cells)) {
    if (column in cells && !sameValue(cells[column], state.value)) return false;
  }
  return true;
}
