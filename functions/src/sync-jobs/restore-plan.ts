/**
 * The restore's decision for one row both sides hold (restore-link.ts): the row document to
 * commit before reconcile runs, or none. Pure.
 *
 * - No document (a new store, a lost one, an export older than the row): one is rebuilt from
 *   the sync id on the sheet and the table's key. A cell both sides show alike is synced at that
 *   value. A cell they show differently is drift whose order nobody knows: it is recorded as a
 *   conflict and decided by the link's policy, as reconcile decides a cell both sides changed
 *   (the table's value, unless `sheet-wins`). The document then names the losing value as the
 *   last synced one, so reconcile, which writes the side that differs from it, carries the
 *   winner over. A key cell still empty on the sheet (the table assigned the key, and the
 *   restart came before it reached the sheet) is no conflict: the key goes to the sheet.
 * - A document from an older export: the cells both sides show alike are settled at that value
 *   (the document may name an older one, or a sheet write whose echo it never saw, which would
 *   hold back later changes of the cell). Cells shown differently are left to reconcile.
 *
 * Either way the document has seen every DB change up to the outbox watermark (the table was
 * read after it): those still in the outbox come again and are dropped. A rebuilt document has
 * also seen every sheet edit made before the restore read the sheet (`eventsFloor`): an edit the
 * script still holds in its queue is on the sheet already, and was compared.
 */
import { type Cells, sameValue } from '../core/cell-value.ts';
import type { ConflictRecord } from '../core/conflict-record.ts';
import { tick } from '../core/hlc.ts';
import { ATTACH_DOT } from '../core/reconcile-plan.ts';
import { type CellState, emptyRowDocument, type RowDocument } from '../core/row-document.ts';
import { driftConflict } from './drift-conflict.ts';

export interface RestoreRow {
  link: string;
  policy: string;
  rowId: string;
  /** The table's key of the row. */
  key: Cells;
  keyColumns: readonly string[];
  /** The sheet's cells, coerced, for the columns the sheet shows. */
  sheet: Cells;
  /** The table's row, every column of the link. */
  db: Cells;
  /** The stored document, if any. */
  doc: RowDocument | undefined;
  /** Largest change id the table read has seen (outbox-watermark.ts). */
  watermark: number;
  /** Whether the outbox still holds changes of this row at or below the watermark. */
  pending: boolean;
  /** When the restore read the sheet (ms). */
  at: number;
}

export type RestoreDecision =
  | { kind: 'none' }
  | { kind: 'rebuild'; next: RowDocument; conflicts: ConflictRecord[] }
  | { kind: 'settle'; next: RowDocument };

export function planRestore(row: RestoreRow): RestoreDecision {
  return row.doc ? settle(row, row.doc) : rebuild(row);
}

function rebuild(row: RestoreRow): RestoreDecision {
  const { at } = row;
  const time = { wall: at, logical: 0 };
  const next: RowDocument = {
    ...emptyRowDocument(row.rowId, row.key),
    vv: { sheet: 0, db: row.watermark },
    eventsFloor: at,
    onSheetSince: at,
  };
  const conflicts: ConflictRecord[] = [];
  const winnerSide = row.policy === 'sheet-wins' ? 'sheet' : 'db';
  for (const [column, db] of Object.entries(row.db)) {
    const sheet = row.sheet[column];
    let synced = db;
    if (sheet !== undefined && !sameValue(sheet, db)) {
      if (row.keyColumns.includes(column) && sheet === null) {
        synced = null;
      } else {
        conflicts.push(driftConflict(row.link, row.policy, row.rowId, column, sheet, db, winnerSide, at));
        synced = winnerSide === 'db' ? sheet : db;
      }
    }
    next.cells[column] = syncedCell(synced, ATTACH_DOT, time);
  }
  return { kind: 'rebuild', next, conflicts };
}

function settle(row: RestoreRow, doc: RowDocument): RestoreDecision {
  if (doc.tombstone) return { kind: 'none' };
  const cells: Record<string, CellState> = { ...doc.cells };
  let changed = false;
  for (const [column, sheet] of Object.entries(row.sheet)) {
    const db = row.db[column];
    if (db === undefined || !sameValue(sheet, db)) continue;
    const state = cells[column];
    const settled =
      state &&
      sameValue(state.value, db) &&
      state.echoed &&
      sameValue(state.sheetValue, db) &&
      state.contender === undefined;
    if (settled) continue;
    changed = true;
    const same = state !== undefined && sameValue(state.value, db);
    cells[column] = {
      ...syncedCell(db, same ? state.dot : ATTACH_DOT, tick(state?.time ?? { wall: 0, logical: 0 }, row.at)),
      sheetWrittenAt: state?.sheetWrittenAt ?? 0,
    };
  }
  const behind = row.pending && doc.vv.db < row.watermark;
  if (!changed && !behind) return { kind: 'none' };
  return {
    kind: 'settle',
    next: { ...doc, cells, vv: { ...doc.vv, db: Math.max(doc.vv.db, row.watermark) } },
  };
}

function syncedCell(value: Cells[string], dot: string, time: CellState['time']): CellState {
  return { value, dot, time, echoed: true, sheetValue: value, sheetWrittenAt: 0 };
}
