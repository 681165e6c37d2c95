/**
 * What the model's mutations look up on the way: a sheet by id, a cell's effective value, a
 * bounded range as a GridRange. A module of its own so that operations.ts (which re-exports it)
 * and sort-range.ts both use it without importing each other.
 */
import type { GridRange } from './a1.ts';
import type { Cell, CellValue } from './cell.ts';
import { invalidArgument } from './errors.ts';
import { evaluateCell } from './formula.ts';
import type { Sheet } from './sheet.ts';
import type { BoundedRange, Spreadsheet } from './spreadsheet.ts';

/** The sheet `sheetId` (default 0), or Google's INVALID_ARGUMENT "No grid with id". */
export function requireSheet(spreadsheet: Spreadsheet, sheetId: number | undefined): Sheet {
  const sheet = spreadsheet.sheetById(sheetId ?? 0);
  if (!sheet) throw invalidArgument(`No grid with id: ${sheetId ?? 0}`);
  return sheet;
}

/** What the cell shows: its value, or its formula's result or error. */
export function effective(
  spreadsheet: Spreadsheet,
  sheet: Sheet,
  cell: Cell | undefined,
): CellValue | undefined {
  if (cell?.formula === undefined) return cell?.value;
  const value = evaluateCell(spreadsheet, sheet, cell);
  return value === undefined ? undefined : 'error' in value ? value.error : value.value;
}

/** A bounded range as the API's GridRange (by sheet id). */
export function gridRange(range: BoundedRange): GridRange {
  const { sheet, ...bounds } = range;
  return { sheetId: sheet.sheetId, ...bounds };
}
