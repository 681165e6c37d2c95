/**
 * What a user action tells the trigger runtime about the cells it touched: the box of e.range
 * (1-based, as Apps Script's Range), and a cell's text as e.value and e.oldValue carry it.
 */
import type { GridBox } from '../apps-script/protocol.ts';
import type { CellValue } from '../model/cell.ts';
import { evaluateCell } from '../model/formula.ts';
import type { Sheet } from '../model/sheet.ts';
import type { BoundedRange, Spreadsheet } from '../model/spreadsheet.ts';

/** The cells of `range` as the box of an onEdit event's range. */
export function boxOf(range: BoundedRange): GridBox {
  return {
    sheetId: range.sheet.sheetId,
    row: range.startRowIndex + 1,
    column: range.startColumnIndex + 1,
    numRows: range.endRowIndex - range.startRowIndex,
    numColumns: range.endColumnIndex - range.startColumnIndex,
  };
}

/** The cell's effective value as the string Google puts in e.value / e.oldValue; undefined when empty. */
export function effectiveText(
  spreadsheet: Spreadsheet,
  sheet: Sheet,
  row: number,
  column: number,
): string | undefined {
  const value = evaluateCell(spreadsheet, sheet, sheet.getCell(row, column));
  if (value === undefined) return undefined;
  const v: CellValue = 'error' in value ? value.error : value.value;
  if (v === '') return undefined;
  return typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v);
}
