import { formatA1 } from '../model/a1.ts';
import { insertDimension, writeBounded } from '../model/operations.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { findTable } from '../model/table-detection.ts';
import { dimensions, enumParam, valuesOf } from './params.ts';
import { type responseDataOptions, updateResponse } from './value-ranges.ts';

/**
 * values.append: "The input range is used to search for existing data and find a 'table'
 * within that range. Values will be appended to the next row of the table, starting with the
 * first column of the table." How the table is found: table-detection.ts.
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
  const table = findTable(spreadsheet.bound(sheet, range));
  // No table: the values go at the range's start.
  const writeRow = table ? table.endRowIndex : (range.startRowIndex ?? 0);
  const writeColumn = table ? table.startColumnIndex : (range.startColumnIndex ?? 0);
  const tableRange = table ? formatA1(sheet.title, table) : undefined;
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
