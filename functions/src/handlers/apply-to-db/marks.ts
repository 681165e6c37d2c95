/**
 * applyToDb, step 4 (marks, issue 22 item 2): which cells of the sheet to mark as refused and
 * which marks to clear, decided once the flush's writes are known; pure (no I/O).
 *
 * - A cell left out for a value of the wrong type (E407) is marked.
 * - A row the database refused (E409, E413, E414) has the cells it carried marked (the one
 *   column the database named, when it named one): those values are not in the table.
 * - A cell with an open conflict (policy `manual`, or decided without seeing the DB change) is
 *   marked with both of its values and where to choose (the `_sheetsync_conflicts` tab).
 * - A later value of a marked cell that reaches the table clears the mark (a resolution that
 *   takes the sheet's value is such a value).
 *
 * The open marks are a field of the row document (RowDocument.marks), committed with it, so a
 * redelivery (its changes then duplicates) decides nothing again, and a clear needs no read of
 * the sheet. Marks of a refused new row have no document to live in: they are set on the sheet
 * but a later value does not know to clear them (docs/design/typed-columns.md, Known gaps).
 */

import { CONFLICTS_TAB } from '../../adapters/sheets/conflicts-tab.ts';
import { conflictMarkNote, markNote } from '../../core/cell-marks.ts';
import type { ConflictRecord } from '../../core/conflict-record.ts';
import { looseColumnName } from '../../core/header-match.ts';
import type { CellMarkState, RowDocument } from '../../core/row-document.ts';
import type { ErrorCode } from '../../error-codes.ts';
import type { RowCommit } from '../../ports.ts';
import type { DecodedChange } from './decode.ts';
import type { LinkCellMark, RowProblem } from './types.ts';

export type { LinkCellMark };

const ROW_REFUSALS = new Set<ErrorCode>(['SHEETSYNC_E409', 'SHEETSYNC_E413', 'SHEETSYNC_E414']);

const REMEDY: Partial<Record<ErrorCode, string>> = {
  SHEETSYNC_E407: 'Type a value of that type; the mark goes once a value of this cell is saved.',
  SHEETSYNC_E409:
    'The database refused the row this cell is in. Fix the row so the database accepts it; the errors tab (_sheetsync_errors) has its reason.',
  SHEETSYNC_E413:
    'sheetsync may not write this column. Leave the cell empty, or ask the operator to take the column out of the link.',
  SHEETSYNC_E414:
    "The database refused the row's values. Change them so it accepts them; the errors tab (_sheetsync_errors) has its reason.",
};

/**
 * The note of a refused cell. For E407 it quotes the cell's own value and the type; for a row
 * the database refused it names the code and SQLSTATE only: the database's message may quote
 * other cells of the row (a duplicate key's values), which the errors tab keeps.
 */
function noteOf(problem: RowProblem): string {
  const message =
    problem.code === 'SHEETSYNC_E407'
      ? problem.message
      : `the database refused the row${problem.sqlState ? ` (SQLSTATE ${problem.sqlState})` : ''}`;
  return markNote(problem.code, message, REMEDY[problem.code] ?? `See ${problem.code} in docs/errors.md.`);
}

/** The note of a cell in conflict: its own two values, and where to choose. */
function conflictNote(conflict: ConflictRecord): string {
  const show = (value: unknown) => (value === null ? '(empty)' : JSON.stringify(value));
  const kept =
    conflict.outcome === 'sheet' ? "the sheet's" : conflict.outcome === 'db' ? "the database's" : 'a merged';
  return conflictMarkNote(
    `this cell was changed in the sheet (${show(conflict.sheet.value)}) and in the database (${show(conflict.db.value)}) at the same time; ${kept} value is kept for now`,
    `Choose one in the ${CONFLICTS_TAB} tab (take sheet / take database); the mark goes when a value of this cell syncs.`,
  );
}

export interface MarksInput {
  link: string;
  decoded: readonly DecodedChange[];
  /** Indexes into `decoded` of the changes this flush applied, in order. */
  applied: readonly number[];
  /** The flush's problems (its applied changes' and the rows the database refused). */
  problems: readonly RowProblem[];
  /** The documents as the flush read them. */
  docs: ReadonlyMap<string, RowDocument>;
}

/**
 * The marks to send, in the order they happened, and the documents' marks to commit: `commits`
 * is updated in place (a refused row that had a document gets its document again, marks only).
 */
export function decideMarks(input: MarksInput, commits: Map<string, RowCommit>): LinkCellMark[] {
  const { link } = input;
  const out: LinkCellMark[] = [];
  const working = new Map<string, Record<string, CellMarkState>>();
  const marksOf = (rowId: string) => {
    let marks = working.get(rowId);
    if (!marks) {
      marks = { ...(commits.get(rowId)?.next.marks ?? input.docs.get(rowId)?.marks) };
      working.set(rowId, marks);
    }
    return marks;
  };
  const refusals = input.problems.filter((p) => ROW_REFUSALS.has(p.code));
  const refused = new Set(refusals.map((p) => p.rowId));
  /** Per refused row: the columns its applied changes carried. */
  const carried = new Map<string, Set<string>>();

  for (const i of input.applied) {
    const { change, problems } = input.decoded[i]!;
    if (change.op === 'delete') continue;
    const marks = marksOf(change.rowId);
    for (const column of Object.keys(change.cells)) {
      if (refused.has(change.rowId)) {
        const columns = carried.get(change.rowId) ?? new Set<string>();
        columns.add(column);
        carried.set(change.rowId, columns);
        continue;
      }
      const key = looseColumnName(column);
      if (!marks[key]?.on) continue;
      marks[key] = { on: false, at: change.time.wall };
      out.push({ link, rowId: change.rowId, column });
    }
    for (const problem of problems) {
      if (problem.code !== 'SHEETSYNC_E407' || problem.column === undefined) continue;
      marks[looseColumnName(problem.column)] = { on: true, at: change.time.wall };
      out.push({ link, rowId: change.rowId, column: problem.column, note: noteOf(problem) });
    }
  }
  for (const problem of refusals) {
    const marks = marksOf(problem.rowId);
    const columns = problem.column ? [problem.column] : [...(carried.get(problem.rowId) ?? [])];
    const note = noteOf(problem);
    for (const column of columns) {
      marks[looseColumnName(column)] = { on: true, at: problem.time ?? 0 };
      out.push({ link, rowId: problem.rowId, column, note });
    }
  }

  for (const [rowId, commit] of commits) {
    for (const conflict of commit.conflicts ?? []) {
      if (conflict.status !== 'open') continue;
      const marks = marksOf(rowId);
      marks[looseColumnName(conflict.column)] = { on: true, at: conflict.detectedAt };
      out.push({ link, rowId, column: conflict.column, note: conflictNote(conflict) });
    }
  }

  for (const [rowId, marks] of working) {
    const before = commits.get(rowId)?.next.marks ?? input.docs.get(rowId)?.marks;
    if (JSON.stringify(before ?? {}) === JSON.stringify(marks)) continue;
    const commit = commits.get(rowId);
    const doc = commit?.next ?? input.docs.get(rowId);
    if (!doc) continue; // a refused new row: nowhere to keep its marks
    commits.set(rowId, { ...(commit ?? { conflicts: [] }), next: { ...doc, marks } });
  }
  return out;
}
