/**
 * applyToDb's decision for one sheet change (the model: docs/design/sync-core.md).
 *
 * All conflicts are decided here, the one apply point that can observe both changes' metadata:
 * the DB row is read `FOR UPDATE` (serialised with every DB writer), and a DB change is known to
 * the row document once applyToSheet consumed it, together with the time it was shown on the
 * sheet. A sheet change made before that time had not seen it: the two are concurrent. A DB
 * value the document does not know is a DB change still in flight to the sheet, so the change is
 * deferred (retried) until applyToSheet has recorded it and the decision can use both times.
 */

import type { RowChange } from '../wire/row-change.ts';
import { type Cells, sameValue, sameValueOrRetyped } from './cell-value.ts';
import {
  type ConflictChoice,
  type ConflictPolicy,
  decideConflict,
  policyFor,
  policyLabel,
} from './conflict-policy.ts';
import { type ConflictRecord, conflictId } from './conflict-record.ts';
import { isResolutionEventId } from './conflict-resolution.ts';
import { advance } from './dot.ts';
import type { Hlc } from './hlc.ts';
import { receive } from './hlc.ts';
import { type Contender, emptyRowDocument, type RowDocument, trimEvents } from './row-document.ts';

export interface SheetMergeContext {
  policy: ConflictPolicy;
  /**
   * The DB row read `FOR UPDATE` in the transaction that will write it, with at least every
   * column of the change; null when the table has no row for this rowId's key.
   */
  dbRow: Cells | null;
  /** Wall clock (ms), for conflict records only. */
  now: number;
  /** Pub/Sub delivery attempt, 1 the first time. */
  attempt: number;
  /** From this attempt on, a DB value the document does not know is decided without waiting. */
  maxDeferrals?: number;
}

export type SheetCellOutcome =
  | { column: string; kind: 'apply'; value: Cells[string] }
  | { column: string; kind: 'keep-db'; value: Cells[string] };

export type SheetDecision =
  | { kind: 'duplicate'; dot: string | null }
  | { kind: 'defer'; columns: string[] }
  | {
      kind: 'apply';
      /** The dot to set with `SET LOCAL sheetsync.dot` for this row's write. */
      dot: string;
      /** `upsert`: insert the row (dbRow was null) or update `cells`; `none`: write nothing. */
      write: 'none' | 'upsert' | 'delete';
      cells: Cells;
      outcomes: SheetCellOutcome[];
      /**
       * Columns whose DB value this change kept without having seen it (the deferral cap), while
       * the sheet may show this change's value: applyToDb records their current DB values in the
       * outbox again (`sheetsync.reshow`, a DB change), and applyToSheet shows them on the sheet.
       */
      reshow: string[];
      /** The row document to commit (through `mergeRowDocuments`) after PostgreSQL committed. */
      next: RowDocument;
      conflicts: ConflictRecord[];
    };

export const defaultMaxDeferrals = 5;

/** Decides one sheet change (cells already coerced to canonical values) against the row. */
export function mergeSheetChange(
  doc: RowDocument | undefined,
  change: RowChange,
  context: SheetMergeContext,
): SheetDecision {
  const eventId = change.eventId ?? '';
  const known = doc?.events[eventId];
  if (known) return { kind: 'duplicate', dot: `sheet:${known.counter}` };
  if (doc && change.time.wall <= doc.eventsFloor) return { kind: 'duplicate', dot: null };

  // A row created by this sheet edit is on the sheet from the edit's time on.
  const base = doc ?? { ...emptyRowDocument(change.rowId), onSheetSince: change.time.wall };
  const counter = base.vv.sheet + 1;
  const dot = `sheet:${counter}`;
  const next: RowDocument = trimEvents({
    ...base,
    vv: advance(base.vv, { origin: 'sheet', counter }),
    events: { ...base.events, [eventId]: { counter, wall: change.time.wall } },
    cells: { ...base.cells },
  });
  const record = recorder(change, dot, context.now);
  // A person's resolution of a conflict (dashboard, CLI) is not on the sheet yet.
  const onSheet = !isResolutionEventId(change.eventId);
  const mayDefer = context.attempt < (context.maxDeferrals ?? defaultMaxDeferrals);

  if (base.tombstone) {
    // Delete wins: an edit of a deleted row changes nothing, and its values are recorded.
    const conflicts = Object.entries(change.cells).map(([column, value]) =>
      record(column, 'deleted', value, { value: null, dot: base.tombstone!.dot, time: base.tombstone!.time }),
    );
    return { kind: 'apply', dot, write: 'none', cells: {}, outcomes: [], reshow: [], next, conflicts };
  }

  const { dbRow } = context;
  if (change.op === 'delete' && base.onSheetSince !== undefined && change.time.wall < base.onSheetSince) {
    // A delete found by a `structure` event whose ids were read before the row reached the sheet
    // (applyToSheet appended it after the read): the row is missing from that list, not deleted.
    return { kind: 'apply', dot, write: 'none', cells: {}, outcomes: [], reshow: [], next, conflicts: [] };
  }
  if (change.op === 'delete') {
    const conflicts: ConflictRecord[] = [];
    for (const [column, state] of Object.entries(base.cells)) {
      const current = dbRow?.[column];
      if (dbRow && current !== undefined && !sameValue(current, state.value)) {
        conflicts.push(record(column, 'deleted', null, { value: current, dot: null, time: null }, 'sheet'));
      } else if (state.dot.startsWith('db:') && change.time.wall <= state.sheetWrittenAt) {
        conflicts.push(record(column, 'deleted', null, state, 'sheet'));
      }
    }
    next.tombstone = { dot, time: change.time };
    return {
      kind: 'apply',
      dot,
      write: dbRow ? 'delete' : 'none',
      cells: {},
      outcomes: [],
      reshow: [],
      next,
      conflicts,
    };
  }

  if (!dbRow && Object.keys(base.cells).length > 0) {
    // The DB deleted the row and applyToSheet has not recorded it yet: wait for it, then delete wins.
    if (mayDefer) return { kind: 'defer', columns: Object.keys(change.cells) };
    const conflicts = Object.entries(change.cells).map(([column, value]) =>
      record(column, 'deleted', value, { value: null, dot: null, time: null }),
    );
    return { kind: 'apply', dot, write: 'none', cells: {}, outcomes: [], reshow: [], next, conflicts };
  }

  const writes: Cells = {};
  const outcomes: SheetCellOutcome[] = [];
  const conflicts: ConflictRecord[] = [];
  const deferred: string[] = [];
  const reshow: string[] = [];
  for (const [column, value] of Object.entries(change.cells)) {
    const state = base.cells[column];
    const current = dbRow?.[column];
    const known = state ? state.value : null;
    // A value the DB only re-rendered (a column's type changed) is not a change of it.
    if (dbRow && !sameValueOrRetyped(current ?? null, known) && !sameValue(current ?? null, value)) {
      // A DB change in flight to the sheet (or our own write from an attempt whose document
      // commit was lost, which equals `value` and is handled as a normal decision).
      if (mayDefer) {
        deferred.push(column);
        continue;
      }
      const kept = current ?? null;
      conflicts.push({
        ...record(column, 'unobserved', value, { value: kept, dot: null, time: null }),
        status: 'open',
      });
      // The value the row last synced was overwritten as well: by the DB, or by an attempt of
      // this very change whose document commit (and conflict record) was lost. If this edit was
      // made before the sheet showed that value, it is a losing value too, and recorded.
      if (
        state?.dot.startsWith('db:') &&
        change.time.wall <= state.sheetWrittenAt &&
        !sameValue(value, known) &&
        !sameValue(kept, known)
      ) {
        conflicts.push({
          ...record(column, 'unobserved', value, { value: known, dot: state.dot, time: state.time }),
          status: 'open',
        });
      }
      // The sheet may show this edit (typed after the sheet showed the DB value, which
      // applyToSheet has not recorded yet): the kept value is shown on the sheet again.
      reshow.push(column);
      outcomes.push({ column, kind: 'keep-db', value: kept });
      continue;
    }
    let choice: ConflictChoice = 'sheet';
    let contender: Contender | undefined;
    const overwritten = state !== undefined && change.time.wall <= state.sheetWrittenAt;
    // A resolution's value was chosen off the sheet: like a DB write, the sheet shows it only once
    // its echo has written it there, and an edit made before that had not seen it. (Resolutions
    // come one after another from one desk and count as sequential.)
    const resolved = onSheet && state !== undefined && madeByResolution(base, state.dot);
    if (resolved && !state.echoed && !sameValue(value, state.value) && mayDefer) {
      // A person's resolution is on its way to the sheet: whether this edit was made before or
      // after the sheet showed it is known once applyToSheet records when it wrote it.
      deferred.push(column);
      continue;
    }
    const unseen = overwritten || (resolved && !state.echoed);
    if (unseen && (state.dot.startsWith('db:') || resolved) && !sameValue(value, state.value)) {
      // The DB value (or a resolution's) was shown on the sheet after this edit was made, or is
      // not shown yet: neither had seen the other.
      contender = { value: state.value, dot: state.dot, time: state.time, shownAt: state.sheetWrittenAt };
    } else if (
      state?.contender &&
      change.time.wall <= state.contender.shownAt &&
      !sameValue(value, state.contender.value)
    ) {
      // An earlier edit already won against the DB value shown over this one; this edit, too,
      // never saw that value, so it is decided (and recorded) against it as well.
      contender = state.contender;
    }
    if (contender) {
      const columnPolicy = policyFor(context.policy, column);
      const decision = decideConflict(columnPolicy, {
        rowId: change.rowId,
        column,
        sheet: { value, dot, time: change.time },
        db: { value: contender.value, dot: contender.dot, time: contender.time },
      });
      choice = decision.choice;
      const db = { value: contender.value, dot: contender.dot, time: contender.time };
      conflicts.push(
        record(column, 'concurrent', value, db, choice, policyLabel(columnPolicy), decision.open),
      );
    }
    if (choice === 'db') {
      outcomes.push({ column, kind: 'keep-db', value: known });
      continue;
    }
    const decided = choice === 'sheet' ? value : choice.value;
    const writesDb = !dbRow || !sameValue(current ?? null, decided);
    if (writesDb) writes[column] = decided;
    const writtenAt = state?.sheetWrittenAt ?? 0;
    next.cells[column] = {
      value: decided,
      dot,
      time: state ? receive(state.time, change.time) : change.time,
      // No DB change means no echo to wait for. Not so for a resolution: its value reaches the
      // sheet only through an echo, and the DB holding it already means an attempt whose
      // document commit was lost wrote it, with this same dot, and its echo is on the way.
      echoed: onSheet && !writesDb,
      // The sheet shows this edit unless sheetsync wrote the cell after it was made. A resolution
      // was not made on the sheet, which keeps showing what it showed: the echo writes the value.
      sheetValue: onSheet && (change.time.wall > writtenAt || !state) ? value : (state?.sheetValue ?? null),
      sheetWrittenAt: writtenAt,
      ...(contender ? { contender } : {}),
    };
    outcomes.push({ column, kind: 'apply', value: decided });
  }
  if (deferred.length > 0) return { kind: 'defer', columns: deferred };
  const write = Object.keys(writes).length > 0 ? 'upsert' : 'none';
  return { kind: 'apply', dot, write, cells: writes, outcomes, reshow, next, conflicts };
}

type Side = { value: Cells[string]; dot: string | null; time: Hlc | null };

/** Whether `dot` is a sheet change the row remembers as a person's resolution of a conflict. */
function madeByResolution(doc: RowDocument, dot: string): boolean {
  if (!dot.startsWith('sheet:')) return false;
  const counter = Number(dot.slice('sheet:'.length));
  for (const [eventId, event] of Object.entries(doc.events)) {
    if (event.counter === counter) return isResolutionEventId(eventId);
  }
  return false;
}

/** Builds the conflict records of one change; the winner defaults to the DB side. */
function recorder(change: RowChange, dot: string, now: number) {
  return (
    column: string,
    reason: ConflictRecord['reason'],
    sheetValue: Cells[string],
    db: Side,
    choice: ConflictChoice = 'db',
    policy = reason === 'concurrent' ? 'last-writer-wins' : 'delete-wins',
    /** Left open for a person (manual, or a custom resolver that could not decide). */
    open = policy === 'manual',
  ): ConflictRecord => {
    const outcome = typeof choice === 'string' ? choice : 'custom';
    const value = choice === 'sheet' ? sheetValue : choice === 'db' ? db.value : choice.value;
    return {
      id: conflictId(change.rowId, column, dot, db.dot),
      link: change.link,
      rowId: change.rowId,
      column,
      reason,
      policy: reason === 'unobserved' ? 'keep-db-unobserved' : policy,
      sheet: { value: sheetValue, dot, time: change.time },
      db: { value: db.value, dot: db.dot, time: db.time },
      outcome,
      value,
      status: open ? 'open' : 'resolved',
      detectedAt: now,
      resolution: null,
    };
  };
}
