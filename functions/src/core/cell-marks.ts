/**
 * Refused cells marked where people look (issue 22, item 2): a cell whose value did not reach
 * the table carries a note saying why and what to do, and a fill, until a later value of that
 * cell syncs. Pure planning: marks to set and to clear, placed by sync id through the positions
 * the caller knows now (applyToSheet's tab model), as updateCells requests to add to the
 * batchUpdate it sends anyway. A mark whose row is not on the tab (deleted, or not seen yet) is
 * returned unplaced, never written at a guessed position.
 *
 * Sheets API: updateCells with `fields: note,userEnteredFormat.backgroundColor` changes those
 * two members only ("Only the fields listed in the fields field are updated; others are
 * unchanged"), so the value, the number format and the cell's validation rule stay.
 */
import { looseColumnName } from './header-match.ts';

/** The fill of a marked cell: Sheets' "light red 3". */
export const MARK_COLOR = { red: 0.957, green: 0.8, blue: 0.8 } as const;

/** Notes are cut here: enough to say why, well under a cell's 50,000 characters. */
const MAX_NOTE = 1_000;

export interface CellRef {
  /** The row's sync id (`_sheetsync_id`). */
  rowId: string;
  /** The column's header (matched as headers are: exactly, then loosely). */
  column: string;
}

/** With a note: mark the cell (refused). Without: clear its mark (a later value synced). */
export interface CellMark extends CellRef {
  note?: string;
}

export interface CellMarkPlanInput {
  sheetId: number;
  headers: readonly string[];
  /** The sheet row (1-based, header = 1) holding each sync id now, or undefined. */
  rowOf: (rowId: string) => number | undefined;
  /** In the order they happened: the last of a cell's marks wins. */
  marks: readonly CellMark[];
}

export interface UpdateCellsRequest {
  updateCells: {
    start: { sheetId: number; rowIndex: number; columnIndex: number };
    rows: [{ values: [{ note?: string; userEnteredFormat: { backgroundColor?: typeof MARK_COLOR } }] }];
    fields: 'note,userEnteredFormat.backgroundColor';
  };
}

/** The note of a refused cell: what happened, why, and what to do. */
export function markNote(code: string, message: string, remedy: string): string {
  return cut(`sheetsync: this value was not saved to the database.\n${code}: ${message}\n${remedy}`);
}

/** The note of a cell with an open conflict: what happened, and where to choose. */
export function conflictMarkNote(message: string, remedy: string): string {
  return cut(`sheetsync: this cell is in conflict.\n${message}\n${remedy}`);
}

function cut(note: string): string {
  return note.length <= MAX_NOTE ? note : `${note.slice(0, MAX_NOTE - 1)}…`;
}

/** One request per cell marked or cleared, and the marks that found no row or column. */
export function planCellMarks(input: CellMarkPlanInput): {
  requests: UpdateCellsRequest[];
  unplaced: CellRef[];
} {
  const columnOf = (header: string): number => {
    const exact = input.headers.indexOf(header);
    if (exact >= 0) return exact;
    return input.headers.findIndex((h) => h !== '' && looseColumnName(h) === looseColumnName(header));
  };
  const cells = new Map<string, { row: number; column: number; note?: string }>();
  const unplaced: CellRef[] = [];
  for (const mark of input.marks) {
    const row = input.rowOf(mark.rowId);
    const column = columnOf(mark.column);
    if (row === undefined || row < 2 || column < 0) {
      unplaced.push({ rowId: mark.rowId, column: mark.column });
      continue;
    }
    const key = `${row}:${column}`;
    cells.delete(key); // re-inserted last: the later mark wins
    cells.set(key, { row, column, ...(mark.note === undefined ? {} : { note: mark.note }) });
  }
  const requests = [...cells.values()]
    .sort((a, b) => a.row - b.row || a.column - b.column)
    .map(
      ({ row, column, note }): UpdateCellsRequest => ({
        updateCells: {
          start: { sheetId: input.sheetId, rowIndex: row - 1, columnIndex: column },
          rows: [
            {
              values: [
                note === undefined
                  ? { userEnteredFormat: {} }
                  : { note, userEnteredFormat: { backgroundColor: MARK_COLOR } },
              ],
            },
          ],
          fields: 'note,userEnteredFormat.backgroundColor',
        },
      }),
    );
  return { requests, unplaced };
}
