/**
 * A person dragging rows or columns to another place (`moveRows`, `moveColumns`): the cells and
 * the rows' or columns' properties (hidden, size) move together, as moveDimension moves them.
 * Google fires onChange `OTHER`, and, when the moved rows or columns hold data, onEdit with
 * e.range = the moved rows or columns at their new place, across the whole sheet. Google does not
 * document either; this follows public reports of observed behaviour (README).
 */
import { formatA1 } from '../model/a1.ts';
import { isEmptyCell } from '../model/cell.ts';
import { invalidArgument } from '../model/errors.ts';
import { moveDimension } from '../model/operations.ts';
import type { Dimension, Sheet } from '../model/sheet.ts';
import type { BoundedRange, Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { boxOf } from './firing.ts';
import type { AppliedAction } from './schema.ts';

export interface Move {
  sheet: Sheet;
  dimension: Dimension;
  index: number;
  count: number;
  /** A position before the move, as moveDimension's destinationIndex. */
  destinationIndex: number;
}

/** Moves rows or columns; the result says where the first of them landed (`movedTo`). */
export function move(spreadsheet: Spreadsheet, emit: Emit, moved: Move): AppliedAction {
  const { sheet, dimension, index, count, destinationIndex } = moved;
  const end = index + count;
  const noun = dimension === 'ROWS' ? 'moveRows' : 'moveColumns';
  if (destinationIndex > index && destinationIndex < end) {
    throw invalidArgument(
      `Invalid ${noun}: destinationIndex must not be inside the ${dimension.toLowerCase()} moved.`,
    );
  }
  const hadData = hasData(sheet, dimension, index, end);
  moveDimension(
    spreadsheet,
    emit,
    { sheetId: sheet.sheetId, dimension, startIndex: index, endIndex: end },
    destinationIndex,
  );
  const newStart = destinationIndex > index ? destinationIndex - count : destinationIndex;
  const landed: BoundedRange =
    dimension === 'ROWS'
      ? {
          sheet,
          startRowIndex: newStart,
          endRowIndex: newStart + count,
          startColumnIndex: 0,
          endColumnIndex: sheet.columnCount,
        }
      : {
          sheet,
          startRowIndex: 0,
          endRowIndex: sheet.rowCount,
          startColumnIndex: newStart,
          endColumnIndex: newStart + count,
        };
  return {
    result: { sheetId: sheet.sheetId, movedTo: newStart, movedRange: formatA1(sheet.title, landed) },
    firing: hadData ? { edit: { box: boxOf(landed) }, change: 'OTHER' } : { change: 'OTHER' },
  };
}

/** Whether any cell of rows or columns [start, end) holds a value or formula. */
function hasData(sheet: Sheet, dimension: Dimension, start: number, end: number): boolean {
  if (dimension === 'ROWS') {
    for (let r = start; r < Math.min(end, sheet.rows.length); r++) {
      if (sheet.rows[r]?.some((cell) => !isEmptyCell(cell))) return true;
    }
    return false;
  }
  for (const cells of sheet.rows) {
    if (!cells) continue;
    for (let c = start; c < Math.min(end, cells.length); c++) if (!isEmptyCell(cells[c])) return true;
  }
  return false;
}
