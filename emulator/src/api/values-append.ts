import { formatA1 } from '../model/a1.ts';
import { insertDimension, writeBounded } from '../model/operations.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { dimensions, enumParam, valuesOf } from './params.ts';
import { type responseDataOptions, updateResponse } from './value-ranges.ts';

/**
 * values.append: "The input range is used to search for existing data and find a 'table'
 * within that range. Values will be appended to the next row of the table, starting with the
 * first column of the table." The table is the first block of consecutive non-empty rows (within
 * the range's columns) at or below the range's first row.
 */
export function append(
  spreadsheet: Spreadsheet,
  emit: Emit,
  a1: string,
  body: Record<string, unknown>,
  options: {
    valueInputOption: 'RAW' | 'USER_ENTERED';
    insertRows: boolean;
    responseData: ReturnType<typeof responseDataOptions>;
  },
): Record<string, unknown> {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  const bounded = spreadsheet.bound(sheet, range);
  const firstColumn = bounded.startColumnIndex;
  const lastColumn = Math.min(bounded.endColumnIndex, sheet.columnCount);
  const occupied = (r: number): [number, number] | undefined => {
    const cells = sheet.rows[r];
    if (!cells) return undefined;
    let lo = -1;
    let hi = -1;
    for (let c = firstColumn; c < Math.min(lastColumn, cells.length); c++) {
      const cell = cells[c];
      if (cell && (cell.value !== undefined || cell.formula !== undefined)) {
        if (lo < 0) lo = c;
        hi = c;
      }
    }
    return lo < 0 ? undefined : [lo, hi];
  };
  const lastRow = Math.min(bounded.endRowIndex, sheet.rows.length);
  let tableStart = -1;
  for (let r = bounded.startRowIndex; r < lastRow; r++) {
    if (occupied(r)) {
      tableStart = r;
      break;
    }
  }
  let writeRow = bounded.startRowIndex;
  let writeColumn = firstColumn;
  let tableRange: string | undefined;
  if (tableStart >= 0) {
    let tableEnd = tableStart;
    let lo = Number.POSITIVE_INFINITY;
    let hi = -1;
    for (let span = occupied(tableEnd); span; span = occupied(++tableEnd)) {
      lo = Math.min(lo, span[0]);
      hi = Math.max(hi, span[1]);
    }
    tableRange = formatA1(sheet.title, {
      startRowIndex: tableStart,
      endRowIndex: tableEnd,
      startColumnIndex: lo,
      endColumnIndex: hi + 1,
    });
    writeRow = tableEnd;
    writeColumn = lo;
  }
  const values = valuesOf(body.values, 'values');
  const majorDimension = enumParam(body.majorDimension, 'majorDimension', 'Dimension', dimensions);
  const height =
    majorDimension === 'COLUMNS' ? Math.max(0, ...values.map((line) => line.length)) : values.length;
  if (options.insertRows && height > 0 && writeRow < sheet.rowCount) {
    insertDimension(spreadsheet, emit, {
      sheetId: sheet.sheetId,
      dimension: 'ROWS',
      startIndex: writeRow,
      endIndex: writeRow + height,
    });
  }
  const target = {
    sheet,
    startRowIndex: writeRow,
    endRowIndex: writeRow + 1,
    startColumnIndex: writeColumn,
    endColumnIndex: writeColumn + 1,
    openRows: true,
    openColumns: true,
  };
  // InsertDataOption OVERWRITE: "adding data to the end of the sheet will still insert new rows
  // or columns so the data can be written."
  const result = writeBounded(spreadsheet, emit, target, values, {
    valueInputOption: options.valueInputOption,
    majorDimension,
    growGrid: true,
  });
  const reply: Record<string, unknown> = { spreadsheetId: spreadsheet.spreadsheetId };
  if (tableRange) reply.tableRange = tableRange;
  reply.updates = updateResponse(spreadsheet, result, options.responseData);
  return reply;
}
