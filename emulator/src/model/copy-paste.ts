/**
 * Copy and paste inside the spreadsheet, with the semantics of the Sheets API's CopyPasteRequest
 * and PASTE_NORMAL (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#copypasterequest):
 * - "Paste values, formulas, formats, and merges": each cell is copied whole (value or formula,
 *   format, note), an empty source cell empties its destination, and every cell of the source
 *   is copied, hidden rows and columns included (hiding is a property of the row or column, not
 *   of the cell, so it is not pasted);
 * - destination: "If the range covers a span that's a multiple of the source's height or width,
 *   then the data will be repeated to fill in the destination range. If the range is smaller than
 *   the source range, the entire source data will still be copied (beyond the end of the
 *   destination range)";
 * - a pasted formula's relative references move by the paste's offset (formula-references.ts).
 * The source is read before anything is written, so overlapping ranges paste what was copied. A
 * paste past the grid's end adds rows and columns, as it does in the UI.
 */
import { exceedsGridLimits } from './a1.ts';
import type { Cell } from './cell.ts';
import { translateFormula } from './formula-references.ts';
import { gridRange } from './sheet-lookup.ts';
import type { BoundedRange, Spreadsheet } from './spreadsheet.ts';
import type { Emit } from './store.ts';
import { growToFit } from './values.ts';

/** Pastes `source` at `destination`; returns the cells pasted. */
export function copyPaste(
  spreadsheet: Spreadsheet,
  emit: Emit,
  source: BoundedRange,
  destination: BoundedRange,
): BoundedRange {
  const { sheet: from } = source;
  const { sheet: to } = destination;
  for (const { sheet, ...cells } of [source, destination]) {
    if (cells.endRowIndex > sheet.rowCount || cells.endColumnIndex > sheet.columnCount) {
      throw exceedsGridLimits(sheet, cells);
    }
  }
  const height = source.endRowIndex - source.startRowIndex;
  const width = source.endColumnIndex - source.startColumnIndex;
  const destinationHeight = destination.endRowIndex - destination.startRowIndex;
  const destinationWidth = destination.endColumnIndex - destination.startColumnIndex;
  const rows = destinationHeight % height === 0 ? destinationHeight : height;
  const columns = destinationWidth % width === 0 ? destinationWidth : width;
  const copied: (Cell | undefined)[][] = [];
  for (let i = 0; i < height; i++) {
    const cells = from.rows[source.startRowIndex + i];
    copied.push(cells ? cells.slice(source.startColumnIndex, source.endColumnIndex) : []);
  }
  const size = to.rowCount * to.columnCount;
  growToFit(spreadsheet, to, destination.startRowIndex + rows, destination.startColumnIndex + columns);
  if (to.rowCount * to.columnCount !== size) emit({ kind: 'sheetProperties', sheetId: to.sheetId });
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const cell = copied[i % height]?.[j % width];
      const row = destination.startRowIndex + i;
      const column = destination.startColumnIndex + j;
      const offsetRows = row - (source.startRowIndex + (i % height));
      const offsetColumns = column - (source.startColumnIndex + (j % width));
      to.setCell(
        row,
        column,
        cell?.formula === undefined
          ? cell
          : { ...cell, formula: translateFormula(cell.formula, offsetRows, offsetColumns) },
      );
    }
  }
  const pasted: BoundedRange = {
    sheet: to,
    startRowIndex: destination.startRowIndex,
    endRowIndex: destination.startRowIndex + rows,
    startColumnIndex: destination.startColumnIndex,
    endColumnIndex: destination.startColumnIndex + columns,
  };
  emit({ kind: 'values', sheetId: to.sheetId, range: gridRange(pasted) });
  return pasted;
}
