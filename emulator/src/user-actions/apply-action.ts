/**
 * Applies one user action to the model (source `'user'`) and says which installable triggers a
 * person's action of that kind fires on Google
 * (https://developers.google.com/apps-script/guides/triggers/events):
 *
 * | action                      | onEdit                                    | onChange     |
 * |-----------------------------|-------------------------------------------|--------------|
 * | edit of one cell (typing)   | e.range = the cell, value and oldValue    | EDIT         |
 * | edit of a block (paste)     | e.range = the block, no value or oldValue | EDIT         |
 * | insertRows                  | none                                      | INSERT_ROW   |
 * | deleteRows                  | none                                      | REMOVE_ROW   |
 * | insertColumns               | none                                      | INSERT_COLUMN|
 * | deleteColumns               | none                                      | REMOVE_COLUMN|
 * | sortRange                   | e.range = the sorted range                | OTHER        |
 * | moveRows (rows with data)   | e.range = the moved rows, full width      | OTHER        |
 * | moveRows (empty rows)       | none                                      | OTHER        |
 *
 * `value` is absent when the edit empties the cell and `oldValue` when the cell was empty
 * ("Will be undefined if the cell had no previous content"); both are strings, as Google sends.
 * The sort and move rows are the best public evidence, not Google's documentation: see README.
 */
import { formatA1 } from '../apps-script/a1.ts';
import type { UserActionFiring } from '../apps-script/runtime.ts';
import type { CellValue } from '../model/cell.ts';
import { invalidArgument } from '../model/errors.ts';
import { evaluateCell } from '../model/formula.ts';
import {
  deleteDimension,
  insertDimension,
  moveDimension,
  requireSheet,
  sortRange,
  writeBounded,
  writeTarget,
} from '../model/operations.ts';
import type { Sheet } from '../model/sheet.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import type { UserAction } from './schema.ts';

export interface AppliedAction {
  /** What the action changed, for the response. */
  result: Record<string, unknown>;
  firing: UserActionFiring;
}

export function applyUserAction(
  model: SpreadsheetStore,
  spreadsheetId: string,
  action: UserAction,
): AppliedAction {
  return model.mutate(spreadsheetId, 'user', (spreadsheet, emit) => {
    switch (action.type) {
      case 'edit': {
        // Typing into a cell, or pasting a block with that cell as its top-left anchor.
        const bounded = writeTarget(spreadsheet, action.range);
        const { sheet } = bounded;
        const before = effectiveText(spreadsheet, sheet, bounded.startRowIndex, bounded.startColumnIndex);
        const written = writeBounded(spreadsheet, emit, bounded, action.values, {
          valueInputOption: 'USER_ENTERED',
          // A paste past the last row or column grows the grid, as it does in the UI.
          growGrid: true,

          requestedRange: action.range,
        });
        const w = written.written;
        const box = {
          sheetId: sheet.sheetId,
          row: w.startRowIndex + 1,
          column: w.startColumnIndex + 1,
          numRows: w.endRowIndex - w.startRowIndex,
          numColumns: w.endColumnIndex - w.startColumnIndex,
        };
        const edit: NonNullable<UserActionFiring['edit']> = { box };
        if (box.numRows === 1 && box.numColumns === 1) {
          const after = effectiveText(spreadsheet, sheet, w.startRowIndex, w.startColumnIndex);
          if (after !== undefined) edit.value = after;
          if (before !== undefined) edit.oldValue = before;
        }
        return {
          result: {
            updatedRange: `${sheet.title}!${formatA1(box.row, box.column, box.numRows, box.numColumns)}`,
            updatedCells: written.updatedCells,
          },
          firing: { edit, change: 'EDIT' },
        };
      }
      case 'insertRows': {
        const sheet = sheetOf(spreadsheet, action.sheet);
        insertDimension(spreadsheet, emit, {
          sheetId: sheet.sheetId,
          dimension: 'ROWS',
          startIndex: action.index,
          endIndex: action.index + action.count,
        });
        return {
          result: { sheetId: sheet.sheetId, rowCount: sheet.rowCount },
          firing: { change: 'INSERT_ROW' },
        };
      }
      case 'deleteRows': {
        const sheet = sheetOf(spreadsheet, action.sheet);
        deleteDimension(spreadsheet, emit, {
          sheetId: sheet.sheetId,
          dimension: 'ROWS',
          startIndex: action.index,
          endIndex: action.index + action.count,
        });
        return {
          result: { sheetId: sheet.sheetId, rowCount: sheet.rowCount },
          firing: { change: 'REMOVE_ROW' },
        };
      }
      case 'insertColumns':
      case 'deleteColumns': {
        const sheet = sheetOf(spreadsheet, action.sheet);
        const range = {
          sheetId: sheet.sheetId,
          dimension: 'COLUMNS' as const,
          startIndex: action.index,
          endIndex: action.index + action.count,
        };
        if (action.type === 'insertColumns') insertDimension(spreadsheet, emit, range);
        else deleteDimension(spreadsheet, emit, range);
        return {
          result: { sheetId: sheet.sheetId, columnCount: sheet.columnCount },
          firing: { change: action.type === 'insertColumns' ? 'INSERT_COLUMN' : 'REMOVE_COLUMN' },
        };
      }
      case 'sortRange': {
        const { sheet, range } = spreadsheet.resolveA1(action.range);
        const bounded = spreadsheet.bound(sheet, range);
        sortRange(spreadsheet, emit, range, action.sortSpecs);
        const box = {
          sheetId: sheet.sheetId,
          row: bounded.startRowIndex + 1,
          column: bounded.startColumnIndex + 1,
          numRows: bounded.endRowIndex - bounded.startRowIndex,
          numColumns: bounded.endColumnIndex - bounded.startColumnIndex,
        };
        return {
          result: {
            sortedRange: `${sheet.title}!${formatA1(box.row, box.column, box.numRows, box.numColumns)}`,
          },
          firing: { edit: { box }, change: 'OTHER' },
        };
      }
      case 'moveRows': {
        const sheet = sheetOf(spreadsheet, action.sheet);
        const end = action.index + action.count;
        if (action.destinationIndex > action.index && action.destinationIndex < end) {
          throw invalidArgument('Invalid moveRows: destinationIndex must not be inside the rows moved.');
        }
        let hadData = false;
        for (let r = action.index; r < end && !hadData; r++) hadData = (sheet.rows[r]?.length ?? 0) > 0;
        moveDimension(
          spreadsheet,
          emit,
          { sheetId: sheet.sheetId, dimension: 'ROWS', startIndex: action.index, endIndex: end },
          action.destinationIndex,
        );
        // moveDimension's destinationIndex counts positions before the move.
        const newStart =
          action.destinationIndex > action.index
            ? action.destinationIndex - action.count
            : action.destinationIndex;
        const box = {
          sheetId: sheet.sheetId,
          row: newStart + 1,
          column: 1,
          numRows: action.count,
          numColumns: sheet.columnCount,
        };
        return {
          result: { sheetId: sheet.sheetId, movedTo: newStart },
          firing: hadData ? { edit: { box }, change: 'OTHER' } : { change: 'OTHER' },
        };
      }
    }
  });
}

function sheetOf(spreadsheet: Spreadsheet, ref: string | number): Sheet {
  if (typeof ref === 'number') return requireSheet(spreadsheet, ref);
  const sheet = spreadsheet.sheetByTitle(ref);
  if (!sheet) throw invalidArgument(`Unable to parse range: ${ref}`);
  return sheet;
}

/** The cell's effective value as the string Google puts in e.value / e.oldValue; undefined when empty. */
function effectiveText(
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
