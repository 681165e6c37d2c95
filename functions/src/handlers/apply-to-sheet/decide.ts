/**
 * applyToSheet, step 2 (decide): each DB change against its row document and what the sheet
 * shows, by the core (mergeDbChange: duplicates dropped, echoes of applyToDb's own writes
 * skipped except for values the DB added), in order; a TRUNCATE as a DELETE of every row the
 * database wrote before it. Gives the sheet writes and the documents of the flush; no I/O.
 */

import type { Cells } from '../../core/cell-value.ts';
import { SHEET_CELL_MAX_CHARS, tooLongForSheet, toSheet } from '../../core/coercion.ts';
import { keyId } from '../../core/key-id.ts';
import { type DbDecision, mergeDbChange, truncateDeletes } from '../../core/merge-db-change.ts';
import type { RowDocument } from '../../core/row-document.ts';
import type { Logger } from '../../log.ts';
import type { SheetValue, TabSnapshot } from '../../ports/sheet.ts';
import type { DbChangeMessage } from '../../wire/db-change.ts';
import type { RowChange } from '../../wire/row-change.ts';
import type { DeliveryOutcome } from '../flush-kernel.ts';
import { type ColumnTypes, sheetRow } from './column-values.ts';
import { type ChangeRows, isDbInsert, isTruncate, rowIdForNewRow } from './row-ids.ts';

/** What a flush writes to the tab, by sync id, and the row documents it leaves. */
export interface SheetWrites {
  working: Map<string, RowDocument | undefined>;
  /** Per row: the columns whose values this flush writes to the sheet. */
  written: Map<string, Set<string>>;
  updates: Map<string, Record<string, SheetValue>>;
  appends: Map<string, Record<string, SheetValue>>;
  /** New rows go to the sheet in the order the database committed them, whatever the bucket. */
  appendOrder: Map<string, number>;
  /** Rows coming back after a delete the database refused: put where they were, when known. */
  returnRows: Set<string>;
  deletes: Set<string>;
}

export interface DecideInput {
  link: string;
  messages: readonly DbChangeMessage[];
  rows: ChangeRows;
  /** Rows a TRUNCATE deletes: the link's live rows and those an earlier flush is committing. */
  truncated: readonly string[];
  docs: ReadonlyMap<string, RowDocument>;
  pendingDocs: ReadonlyMap<string, RowDocument>;
  snapshot: TabSnapshot;
  headerOf: (column: string) => string | undefined;
  /** The header a column is shown under, adding one where the link allows; undefined: not shown. */
  header: (column: string) => string | undefined;
  types: ColumnTypes;
  now: () => number;
  logger: Logger;
}

/** Decides every change of the flush; sets `outcomes[i]` to 'retry' for a deferred one. */
export function decideChanges(input: DecideInput, outcomes: DeliveryOutcome[]): SheetWrites {
  const { link, rows, snapshot, headerOf, types, now } = input;
  const { keys, previous, rowIds, pendingLive } = rows;
  const out: SheetWrites = {
    working: new Map(),
    written: new Map(),
    updates: new Map(),
    appends: new Map(),
    appendOrder: new Map(),
    returnRows: new Set(),
    deletes: new Set(),
  };
  const { working, written, updates, appends, appendOrder, returnRows, deletes } = out;
  const pendingRows = new Map<string, Cells>();
  /** Rows with a deferred change: their later changes in this flush wait too (per-row order). */
  const deferredRows = new Set<string>();
  /** Primary key → rowId as this flush's changes leave it (a key inserted again gets a new row). */
  const flushKeys = new Map<string, string>();
  const current = (rowId: string) =>
    working.has(rowId) ? working.get(rowId) : (input.docs.get(rowId) ?? input.pendingDocs.get(rowId));
  const shownRow = (rowId: string, message: DbChangeMessage) =>
    pendingRows.get(rowId) ?? sheetRow(snapshot, rowId, headerOf, message, types);

  input.messages.forEach((message, i) => {
    if (isTruncate(message)) {
      truncate(message, i);
      return;
    }
    let rowId = flushKeys.get(keyId(previous[i] ?? keys[i]!)) ?? flushKeys.get(keyId(keys[i]!)) ?? rowIds[i];
    if (!rowId) return; // a delete of a row sheetsync never synced
    if (current(rowId)?.tombstone) {
      const key = keyId(previous[i] ?? keys[i]!);
      const alive = pendingLive.get(key);
      if (alive && alive !== rowId && !current(alive)?.tombstone && !flushKeys.has(key)) {
        // The key was inserted again by an earlier flush, whose commit is under way.
        rowId = alive;
      } else if (isDbInsert(message)) {
        // The key's row was deleted (DELETE, TRUNCATE) and the database inserted the key again.
        rowId = rowIdForNewRow(link, message.changeId);
      }
    }
    if (deferredRows.has(rowId)) {
      outcomes[i] = 'retry';
      return;
    }
    if (message.op !== 'DELETE') flushKeys.set(keyId(keys[i]!), rowId);
    const doc = current(rowId);
    const echo = message.origin === 'sheet' && message.dot?.startsWith('sheet:');
    const change: RowChange = {
      link,
      rowId,
      op: message.op === 'DELETE' ? 'delete' : 'upsert',
      cells: types.canonical(message.cells, message),
      origin: echo ? 'sheet' : 'db',
      dot: echo ? message.dot! : `db:${message.changeId}`,
      outboxId: message.changeId,
      time: { wall: Date.parse(message.time), logical: 0 },
    };
    const decision = mergeDbChange(doc, change, {
      sheetRow: shownRow(rowId, message),
      now: now(),
      key: keys[i]!,
      inserted: isDbInsert(message),
    });
    if (decision.kind === 'duplicate') return;
    if (decision.kind === 'defer') {
      outcomes[i] = 'retry';
      deferredRows.add(rowId);
      return;
    }
    show(rowId, decision, message);
  });
  return out;

  /** The rows a TRUNCATE deletes, each decided as a DELETE with the truncate's dot. */
  function truncate(message: DbChangeMessage, i: number) {
    for (const rowId of new Set([...input.truncated, ...working.keys()])) {
      const doc = current(rowId);
      if (!doc || !truncateDeletes(doc, message.changeId)) continue;
      if (deferredRows.has(rowId)) {
        // An earlier change of the row waits for its redelivery; so does the truncate.
        outcomes[i] = 'retry';
        continue;
      }
      const decision = mergeDbChange(
        doc,
        {
          link,
          rowId,
          op: 'delete',
          cells: {},
          origin: 'db',
          dot: `db:${message.changeId}`,
          outboxId: message.changeId,
          time: { wall: Date.parse(message.time), logical: 0 },
        },
        {
          sheetRow: shownRow(rowId, message),
          now: now(),
          ...(doc.key ? { key: doc.key } : {}),
        },
      );
      if (decision.kind === 'apply') show(rowId, decision, message);
    }
  }

  /** Takes a decision into the row's working document and this flush's sheet writes. */
  function show(rowId: string, decision: Extract<DbDecision, { kind: 'apply' }>, message: DbChangeMessage) {
    const known = current(rowId) !== undefined;
    working.set(rowId, decision.next);
    const sheetCells: Record<string, SheetValue> = {};
    for (const [column, value] of Object.entries(decision.cells)) {
      const h = input.header(column);
      if (h === undefined) continue;
      const type = types.typeOf(column, message);
      const shown = toSheet(value, type);
      sheetCells[h] = shown;
      // (A preview is SHEET_CELL_MAX_CHARS long, or one less for a surrogate pair at its cut.)
      if (
        typeof shown === 'string' &&
        shown.length >= SHEET_CELL_MAX_CHARS - 1 &&
        tooLongForSheet(value, type)
      ) {
        input.logger.warn(
          `SHEETSYNC_E509: the value of ${column} is longer than a sheet cell holds (50,000 characters); the sheet shows its start and a note, the table keeps it whole`,
          { link, rowId, column, code: 'SHEETSYNC_E509', op: 'applyToSheet' },
        );
      }
    }
    const columns = written.get(rowId) ?? new Set<string>();
    for (const column of Object.keys(decision.cells)) columns.add(column);
    written.set(rowId, columns);
    if (decision.write === 'append') {
      if (!appends.has(rowId)) appendOrder.set(rowId, message.changeId);
      // A row with a live document: a delete the database refused brings it back.
      if (known) returnRows.add(rowId);
      appends.set(rowId, { ...appends.get(rowId), ...sheetCells });
      pendingRows.set(rowId, { ...decision.cells });
    } else if (decision.write === 'update') {
      if (appends.has(rowId)) appends.set(rowId, { ...appends.get(rowId), ...sheetCells });
      else updates.set(rowId, { ...updates.get(rowId), ...sheetCells });
      // Later changes of the row in this flush are decided against what this one writes, not the
      // snapshot: a change that sets a cell back to what the sheet shows now is not a no-op.
      const shown = shownRow(rowId, message);
      if (shown) pendingRows.set(rowId, { ...shown, ...decision.cells });
    } else if (decision.write === 'delete') {
      deletes.add(rowId);
      updates.delete(rowId);
      pendingRows.delete(rowId);
      if (appends.delete(rowId)) deletes.delete(rowId); // never reached the sheet
    }
  }
}
