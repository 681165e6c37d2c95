/**
 * applyToDb, step 2 (decide): each change against its row document and the locked DB row, by
 * the core (mergeSheetChange: duplicate, defer, or apply with conflicts by policy), in order.
 * Gives the writes of the flush and the documents to commit; pure (no I/O).
 */
import type { Cells } from '../../core/cell-value.ts';
import type { ConflictPolicy } from '../../core/conflict-policy.ts';
import { keyId } from '../../core/key-id.ts';
import { mergeSheetChange } from '../../core/merge-sheet-change.ts';
import type { RowDocument } from '../../core/row-document.ts';
import type { RowDelete, RowUpsert, TableSchema } from '../../ports/table.ts';
import type { RowCommit } from '../../ports.ts';
import type { DeliveryOutcome } from '../flush-kernel.ts';
import type { DecodedChange } from './decode.ts';
import type { RowProblem } from './types.ts';

/** What a flush writes to the table, as decided. */
export interface TableWrites {
  upserts: RowUpsert[];
  deletes: RowDelete[];
  /** What a deleted row's commit was before its delete: kept if the database refuses the delete. */
  beforeDelete: Map<string, RowCommit | undefined>;
  /** Keys of rows pasted over on the sheet, whose table values go back to it. */
  restores: Cells[];
  /** Per row: its key and the columns whose kept DB value goes to the sheet again. */
  reshows: Map<string, { key: Cells; columns: Set<string> }>;
}

/** The flush's state the decisions add to (one attempt of its transaction). */
export interface FlushState {
  outcomes: DeliveryOutcome[];
  problems: RowProblem[];
  /** An unknown header is reported once per flush, not once per row of a paste. */
  unknownHeaders: Set<string>;
  commits: Map<string, RowCommit>;
  /** Indexes of the changes applied (not duplicates, deferred or refused copies), in order. */
  applied: number[];
}

export interface DecideInput {
  schema: TableSchema;
  policy: ConflictPolicy;
  now: () => number;
  decoded: readonly DecodedChange[];
  attempts: readonly number[];
  rowIds: readonly string[];
  docs: ReadonlyMap<string, RowDocument>;
  /** New rows an earlier attempt inserted: their key from sheetsync.row_ids. */
  inserted: ReadonlyMap<string, Cells>;
  /** The locked DB rows by keyId; later changes of a row see earlier ones' values here. */
  dbRows: Map<string, Cells>;
}

export function decideChanges(input: DecideInput, state: FlushState): TableWrites {
  const { schema, decoded, inserted, dbRows } = input;
  const { outcomes, problems, unknownHeaders, commits } = state;
  const writes: TableWrites = {
    upserts: [],
    deletes: [],
    restores: [],
    beforeDelete: new Map(),
    reshows: new Map(),
  };
  const { upserts, deletes, beforeDelete, reshows } = writes;
  const working = new Map<string, RowDocument | undefined>(
    input.rowIds.map((id) => [id, input.docs.get(id)]),
  );
  /** Rows with a deferred change: their later changes in this flush wait too (per-row order). */
  const deferredRows = new Set<string>();
  const defaulted = new Set(schema.columns.filter((c) => c.hasDefault).map((c) => c.name));
  decoded.forEach(({ change: original, problems: changeProblems, copyOf, row, restore }, i) => {
    let change = original;
    if (restore) {
      const doc = working.get(change.rowId);
      if (doc?.key && !doc.tombstone) writes.restores.push(doc.key);
      return;
    }
    if (deferredRows.has(change.rowId)) {
      outcomes[i] = 'retry';
      return;
    }
    const doc = working.get(change.rowId);
    // A kept copy (below) has no key yet: its key is in the values it keeps plus this change's.
    const kept = doc && !doc.key && !doc.tombstone && change.op !== 'delete' ? keptValues(doc) : undefined;
    const key =
      doc?.key ??
      inserted.get(change.rowId) ??
      keyFromCells(schema, kept ? { ...kept, ...change.cells } : change.cells);
    const dbRow = key ? (dbRows.get(keyId(key)) ?? null) : null;
    // A kept copy is decided as the new row it still is: every value it kept, plus this change's.
    const base = kept ? { ...doc!, cells: {} } : doc;
    if (kept) change = { ...change, cells: { ...kept, ...change.cells } };
    // A pasted copy of another row (or a kept copy) whose key the table holds is not that row:
    // linking it would make the copy's later edits change the original. It is refused; its
    // values are kept in its document so that giving it a key of its own inserts all of them.
    if (
      (copyOf !== undefined || kept) &&
      change.op !== 'delete' &&
      !doc?.key &&
      !inserted.has(change.rowId) &&
      key &&
      dbRow
    ) {
      const decision = mergeSheetChange(base, change, {
        policy: input.policy,
        dbRow: null,
        now: input.now(),
        attempt: input.attempts[i]!,
      });
      if (decision.kind === 'defer') {
        outcomes[i] = 'retry';
        deferredRows.add(change.rowId);
        return;
      }
      if (decision.kind === 'duplicate') return;
      const next = { ...decision.next, key: null };
      working.set(change.rowId, next);
      commits.set(change.rowId, { next, conflicts: [] });
      problems.push(copyRefused(schema, change, key, row));
      return;
    }
    // A row inserted by an attempt whose document commit was lost: its empty cells in columns
    // with a default were left to the database then (insertRows), so they are not changes now.
    if (!doc && inserted.has(change.rowId)) {
      change = {
        ...change,
        cells: Object.fromEntries(
          Object.entries(change.cells).filter(([c, v]) => !(v === null && defaulted.has(c))),
        ),
      };
    }
    const decision = mergeSheetChange(base, change, {
      policy: input.policy,
      dbRow,
      now: input.now(),
      attempt: input.attempts[i]!,
    });
    if (decision.kind === 'duplicate') return;
    if (decision.kind === 'defer') {
      outcomes[i] = 'retry';
      deferredRows.add(change.rowId);
      return;
    }
    state.applied.push(i);
    for (const problem of changeProblems) {
      if (problem.code === 'SHEETSYNC_E408' || problem.code === 'SHEETSYNC_E415') {
        if (unknownHeaders.has(problem.column!)) continue;
        unknownHeaders.add(problem.column!);
      }
      problems.push(problem);
    }
    // A row found by its key (typed, or in sheetsync.row_ids) records that key.
    const next = !decision.next.key && dbRow && key ? { ...decision.next, key } : decision.next;
    if (decision.write === 'delete') beforeDelete.set(change.rowId, commits.get(change.rowId));
    working.set(change.rowId, next);
    commits.set(change.rowId, {
      next,
      conflicts: [...(commits.get(change.rowId)?.conflicts ?? []), ...decision.conflicts],
    });
    // A later change of the row in this flush that writes a column shows its own value.
    const reshow = reshows.get(change.rowId);
    for (const column of Object.keys(decision.cells)) reshow?.columns.delete(column);
    if (decision.reshow.length > 0 && key && dbRow) {
      const columns = reshow?.columns ?? new Set<string>();
      for (const column of decision.reshow) columns.add(column);
      reshows.set(change.rowId, { key, columns });
    }
    if (decision.write === 'delete' && key) deletes.push({ rowId: change.rowId, dot: decision.dot, key });
    if (decision.write === 'upsert') {
      upserts.push({
        rowId: change.rowId,
        dot: decision.dot,
        key: dbRow ? key! : (doc?.key ?? undefined),
        cells: decision.cells,
      });
      // Later changes of the same row in this batch see this one's values.
      if (key && dbRow) dbRows.set(keyId(key), { ...dbRow, ...decision.cells });
    }
  });
  return writes;
}

/** The primary key when every key column is among `cells` and none is NULL. */
export function keyFromCells(schema: TableSchema, cells: Cells): Cells | undefined {
  const key: Cells = {};
  for (const column of schema.primaryKey) {
    const value = cells[column];
    if (value === undefined || value === null) return undefined;
    key[column] = value;
  }
  return key;
}

/** The values a document holds, by column. */
function keptValues(doc: RowDocument): Cells {
  return Object.fromEntries(Object.entries(doc.cells).map(([column, state]) => [column, state.value]));
}

/** E416: a pasted copy carries a key the table already holds (key columns named, never values). */
function copyRefused(
  schema: TableSchema,
  change: { link: string; rowId: string; time: { wall: number } },
  key: Cells,
  row: number | undefined,
): RowProblem {
  return {
    link: change.link,
    rowId: change.rowId,
    ...(row === undefined ? {} : { row }),
    code: 'SHEETSYNC_E416',
    message:
      `this row is a pasted copy of another row, and its key (${Object.keys(key).join(', ')}) is ` +
      `already in table ${schema.schema}.${schema.name}; it was not written. Give the copy a key of ` +
      `its own (its values are kept and go to the table with it), or delete it`,
    time: change.time.wall,
  };
}
