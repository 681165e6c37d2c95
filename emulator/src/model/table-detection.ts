/**
 * The "table" spreadsheets.values.append looks for: "The input range is used to search for
 * existing data and find a 'table' within that range. Values will be appended to the next row of
 * the table, starting with the first column of the table"
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/append).
 *
 * The search starts at the first cell with data in the range (row by row, within the range's
 * columns); the table is the contiguous block of data around it: the smallest rectangle with no
 * data in the rows and columns bordering it, corners included, so a row whose first cells are
 * empty, or a cell touching the block diagonally, belongs to the table, while a block past an
 * empty row or column does not.
 */
import { isEmptyCell } from './cell.ts';
import type { Sheet } from './sheet.ts';
import type { BoundedRange } from './spreadsheet.ts';

/** The table found from `range`, or undefined when the range holds no data. */
export function findTable(range: BoundedRange): BoundedRange | undefined {
  const { sheet } = range;
  const seed = firstDataCell(range);
  if (!seed) return undefined;
  let top = seed.row;
  let bottom = seed.row + 1;
  let left = seed.column;
  let right = seed.column + 1;
  const rowCount = sheet.rows.length;
  const columnCount = widestRow(sheet);
  // Each side grows while the line bordering it (corners included) holds data. A side's growth
  // can uncover data beside another side, so repeat until no side grows.
  for (let grew = true; grew; ) {
    grew = false;
    while (bottom < rowCount && rowHasData(sheet, bottom, left - 1, right + 1)) {
      bottom++;
      grew = true;
    }
    while (top > 0 && rowHasData(sheet, top - 1, left - 1, right + 1)) {
      top--;
      grew = true;
    }
    while (right < columnCount && columnHasData(sheet, right, top - 1, bottom + 1)) {
      right++;
      grew = true;
    }
    while (left > 0 && columnHasData(sheet, left - 1, top - 1, bottom + 1)) {
      left--;
      grew = true;
    }
  }
  return { sheet, startRowIndex: top, endRowIndex: bottom, startColumnIndex: left, endColumnIndex: right };
}

function firstDataCell(range: BoundedRange): { row: number; column: number } | undefined {
  const { sheet } = range;
  const lastRow = Math.min(range.endRowIndex, sheet.rows.length);
  for (let r = range.startRowIndex; r < lastRow; r++) {
    const cells = sheet.rows[r];
    if (!cells) continue;
    const lastColumn = Math.min(range.endColumnIndex, cells.length);
    for (let c = range.startColumnIndex; c < lastColumn; c++) {
      if (!isEmptyCell(cells[c])) return { row: r, column: c };
    }
  }
  return undefined;
}

/** Whether row `r` has data in columns [from, to), clipped to the grid. */
function rowHasData(sheet: Sheet, r: number, from: number, to: number): boolean {
  const cells = sheet.rows[r];
  if (!cells) return false;
  const end = Math.min(to, cells.length);
  for (let c = Math.max(from, 0); c < end; c++) if (!isEmptyCell(cells[c])) return true;
  return false;
}

/** Whether column `c` has data in rows [from, to), clipped to the grid. */
function columnHasData(sheet: Sheet, c: number, from: number, to: number): boolean {
  const end = Math.min(to, sheet.rows.length);
  for (let r = Math.max(from, 0); r < end; r++) if (!isEmptyCell(sheet.rows[r]?.[c])) return true;
  return false;
}

function widestRow(sheet: Sheet): number {
  let width = 0;
  for (const cells of sheet.rows) if (cells && cells.length > width) width = cells.length;
  return width;
}
