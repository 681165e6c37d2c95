/**
 * applyToSheet's decision for one change from the outbox: a DB change (origin `db`) or the echo
 * of a write applyToDb made (origin `sheet`, with the dot it set). The model:
 * docs/design/sync-core.md.
 *
 * Outbox ids order the writes of one row as the DB committed them, and Pub/Sub's ordering key
 * delivers them in that order. So a DB change that arrives while a sheet change to the same cell
 * still awaits its echo was committed before that sheet change, which overwrote it at the DB: it
 * is superseded and must not reach the sheet. Otherwise the DB change had seen everything the
 * document holds for the cell and is shown on the sheet, even over an edit the sheet has not
 * sent yet: that edit will reach applyToDb, which sees from `sheetWrittenAt` that it was made
 * before and decides the conflict with both changes' times. No conflict is decided here.
 */

import type { RowChange } from '../wire/row-change.ts';
import { type Cells, type CellValue, sameValue } from './cell-value.ts';
import { parseDot } from './dot.ts';
import { receive } from './hlc.ts';
import { type CellState, emptyRowDocument, type RowDocument } from './row-document.ts';

export interface DbMergeContext {
  /**
   * The sheet's current values of the row's cells (canonical; a value that does not coerce may be
   * passed as its raw text), or null when no sheet row carries this rowId.
   */
  sheetRow: Cells | null;
  /** Wall clock (ms). Cells written are stamped with it; restamp after the write with `stampSheetWrites`. */
  now: number;
  /** The row's primary key, for a row the document does not know yet. */
  key?: Cells;
  /**
   * The change is a DB INSERT. Of a row the document knows as live, it is the row coming back:
   * applyToDb records one for a row deleted on the sheet whose delete the database refused
   * (sheetsync.restore); with no sheet row carrying its id, it is written as a new row again
   * (`append`; applyToSheet puts it where it was when it knows, SheetTab.returnRow).
   */
  inserted?: boolean;
}

export type DbDecision =
  | { kind: 'duplicate' }
  | { kind: 'defer'; reason: 'echo-ahead-of-record' }
  | {
      kind: 'apply';
      /** `append`: a new sheet row with `cells` (and the rowId); `update`: write `cells` only. */
      write: 'none' | 'update' | 'append' | 'delete';
      cells: Cells;
      next: RowDocument;
    };

export function mergeDbChange(
  doc: RowDocument | undefined,
  change: RowChange,
  context: DbMergeContext,
): DbDecision {
  const position = change.outboxId ?? 0;
  if (doc && position <= doc.vv.db) return { kind: 'duplicate' };
  const dot = parseDot(change.dot ?? '');
  if (!dot) throw new Error('mergeDbChange needs a change from the outbox (with outboxId and dot)');
  const isEcho = change.origin === 'sheet';
  // The echo's own record is committed right after PostgreSQL; wait for it (or its redelivery).
  if (isEcho && (!doc || doc.vv.sheet < dot.counter))
    return { kind: 'defer', reason: 'echo-ahead-of-record' };

  const base = doc ?? emptyRowDocument(change.rowId, context.key ?? null);
  const cells: Record<string, CellState> = {};
  for (const [column, state] of Object.entries(base.cells)) {
    // An echo accounts for its own sheet change and every earlier one: their echoes came first.
    const echoedNow = isEcho && !state.echoed && sheetCounter(state.dot) <= dot.counter;
    cells[column] = echoedNow ? { ...state, echoed: true } : state;
  }
  const next: RowDocument = {
    ...base,
    key: context.key ?? base.key,
    vv: { ...base.vv, db: position },
    cells,
  };
  if (base.tombstone) return { kind: 'apply', write: 'none', cells: {}, next };
  if (change.op === 'delete') {
    next.tombstone = { dot: change.dot!, time: change.time };
    return { kind: 'apply', write: context.sheetRow ? 'delete' : 'none', cells: {}, next };
  }

  // A new row, or a live row the database inserted again with no sheet row (its restore).
  const appending = context.sheetRow === null && (!doc || (context.inserted === true && !isEcho));
  const writes: Cells = {};
  const show = (column: string, state: CellState, target: CellValue) => {
    if (context.sheetRow === null && !appending) {
      // The sheet row is gone (its delete is on the way to applyToDb); record the time so the
      // delete's decision lists this value as a loser.
      cells[column] = { ...state, sheetWrittenAt: context.now };
      return;
    }
    const current = context.sheetRow?.[column];
    if (appending || !sameValue(current, target)) writes[column] = target;
    cells[column] = { ...state, sheetValue: target, sheetWrittenAt: context.now };
  };

  for (const [column, value] of Object.entries(change.cells)) {
    const state = cells[column];
    if (isEcho && state && state.dot === change.dot) {
      // applyToDb's own write; the DB may have changed the value on the way (a trigger, a cast).
      const own = { ...state, value, echoed: true };
      cells[column] = own;
      if (!sameValue(state.sheetValue, value)) show(column, own, value);
      continue;
    }
    if (state?.dot.startsWith('sheet:')) {
      const counter = sheetCounter(state.dot);
      const superseded = isEcho ? counter > dot.counter : !state.echoed;
      if (superseded) {
        // A restored row still shows every column; the sheet edit on its way keeps its claim.
        if (appending) writes[column] = value;
        continue;
      }
    }
    if (!isEcho && state?.dot.startsWith('db:') && sameValue(state.value, value)) {
      // The value the cell already holds from the DB: applyToDb sent it again (sheetsync.reshow,
      // at the deferral cap) because the sheet may show an edit instead. It is shown again; it is
      // the same write, so it keeps that write's dot and time.
      show(column, state, value);
      continue;
    }
    if (isEcho && !state && value === null) {
      // The sheet change carried no value for this cell, or one applyToDb refused (a wrong type,
      // reported in the errors tab), and the database left it empty: the DB added nothing, so the
      // sheet keeps what the person typed instead of being cleared.
      continue;
    }
    // A DB write, or a cell the DB set while applying a sheet change (default, serial, trigger).
    const written: CellState = {
      value,
      dot: `db:${position}`,
      time: state ? receive(state.time, change.time) : change.time,
      echoed: true,
      sheetValue: state?.sheetValue ?? null,
      sheetWrittenAt: state?.sheetWrittenAt ?? 0,
    };
    cells[column] = written;
    show(column, written, value);
  }
  const write = appending ? 'append' : Object.keys(writes).length > 0 ? 'update' : 'none';
  return { kind: 'apply', write, cells: writes, next };
}

/**
 * Raises `sheetWrittenAt` of the written cells to `at`, the time the sheet write completed: an
 * edit made before it may have been overwritten and must count as concurrent.
 */
export function stampSheetWrites(doc: RowDocument, columns: Iterable<string>, at: number): RowDocument {
  const cells = { ...doc.cells };
  for (const column of columns) {
    const state = cells[column];
    if (state) cells[column] = { ...state, sheetWrittenAt: Math.max(state.sheetWrittenAt, at) };
  }
  return { ...doc, cells };
}

function sheetCounter(dot: string): number {
  const parsed = parseDot(dot);
  return parsed?.origin === 'sheet' ? parsed.counter : 0;
}

/**
 * Whether a TRUNCATE with change id `position` deletes the row of `doc`: it deletes every row the
 * database had written before it, and then decides like a DELETE (`mergeDbChange`; a sheet edit
 * concurrent with it loses, as against a delete). It does not touch a row that is
 * - deleted already;
 * - covered by a change at or after the truncate (vv.db ≥ position): the truncate applied to it
 *   before (a redelivery, or another key bucket's copy of the same change), or the database wrote
 *   the row after the truncate (an INSERT later in the same transaction);
 * - holding a sheet write whose echo has not come: applyToDb wrote it to the database after the
 *   truncate (a new row typed on the sheet). The echo of a write made before the truncate comes
 *   before it in the row's key bucket, and the copy of the truncate in that bucket deletes the
 *   row once the echo is applied.
 */
export function truncateDeletes(doc: RowDocument, position: number): boolean {
  if (doc.tombstone || doc.vv.db >= position) return false;
  return !Object.values(doc.cells).some((state) => state.dot.startsWith('sheet:') && !state.echoed);
}
