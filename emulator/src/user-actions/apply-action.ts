/**
 * Applies one user action to the model (source `'user'`) and says which installable triggers a
 * person's action of that kind fires on Google
 * (https://developers.google.com/apps-script/guides/triggers/events):
 *
 * | action                        | onEdit                                      | onChange      |
 * |-------------------------------|---------------------------------------------|---------------|
 * | edit of one cell (typing)     | e.range = the cell, value and oldValue      | EDIT          |
 * | edit of a block (paste)       | e.range = the block, no value or oldValue   | EDIT          |
 * | clear (Delete)                | e.range = the cells, oldValue for one cell  | EDIT          |
 * | copyPaste                     | e.range = the pasted cells, no value        | EDIT          |
 * | insertRows / deleteRows       | none                                        | INSERT_ROW / REMOVE_ROW |
 * | insertColumns / deleteColumns | none                                        | INSERT_COLUMN / REMOVE_COLUMN |
 * | sortRange                     | e.range = the sorted range                  | OTHER         |
 * | moveRows / moveColumns        | e.range = the moved rows or columns at their new place, whole sheet; none when they were empty | OTHER |
 * | renameSheet                   | none                                        | OTHER         |
 *
 * `value` is absent when the edit empties the cell and `oldValue` when the cell was empty
 * ("Will be undefined if the cell had no previous content"); both are strings, as Google sends.
 * Sort, move, rename and paste events are the best public evidence, not Google's documentation:
 * see README.
 */
import { formatA1 } from '../model/a1.ts';
import { invalidArgument } from '../model/errors.ts';
import { deleteDimension, insertDimension, requireSheet, sortRange } from '../model/operations.ts';
import { renameSheet } from '../model/rename-sheet.ts';
import type { Sheet } from '../model/sheet.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { clear, edit, paste } from './cell-actions.ts';
import { boxOf } from './firing.ts';
import { move } from './move-actions.ts';
import type { AppliedAction, UserAction } from './schema.ts';

const DIMENSION_CHANGE = {
  insertRows: 'INSERT_ROW',
  deleteRows: 'REMOVE_ROW',
  insertColumns: 'INSERT_COLUMN',
  deleteColumns: 'REMOVE_COLUMN',
} as const;

export function applyUserAction(
  model: SpreadsheetStore,
  spreadsheetId: string,
  action: UserAction,
): AppliedAction {
  return model.mutate(spreadsheetId, 'user', (spreadsheet, emit) => {
    switch (action.type) {
      case 'edit':
        return edit(spreadsheet, emit, action);
      case 'clear':
        return clear(spreadsheet, emit, action);
      case 'copyPaste':
        return paste(spreadsheet, emit, action);
      case 'insertRows':
      case 'deleteRows':
      case 'insertColumns':
      case 'deleteColumns': {
        const sheet = sheetOf(spreadsheet, action.sheet);
        const rows = action.type === 'insertRows' || action.type === 'deleteRows';
        const range = {
          sheetId: sheet.sheetId,
          dimension: rows ? ('ROWS' as const) : ('COLUMNS' as const),
          startIndex: action.index,
          endIndex: action.index + action.count,
        };
        if (action.type.startsWith('insert')) insertDimension(spreadsheet, emit, range);
        else deleteDimension(spreadsheet, emit, range);
        return {
          result: rows
            ? { sheetId: sheet.sheetId, rowCount: sheet.rowCount }
            : { sheetId: sheet.sheetId, columnCount: sheet.columnCount },
          firing: { change: DIMENSION_CHANGE[action.type] },
        };
      }
      case 'moveRows':
      case 'moveColumns':
        return move(spreadsheet, emit, {
          sheet: sheetOf(spreadsheet, action.sheet),
          dimension: action.type === 'moveRows' ? 'ROWS' : 'COLUMNS',
          index: action.index,
          count: action.count,
          destinationIndex: action.destinationIndex,
        });
      case 'sortRange': {
        const { sheet, range } = spreadsheet.resolveA1(action.range);
        const bounded = spreadsheet.bound(sheet, range);
        sortRange(spreadsheet, emit, range, action.sortSpecs);
        return {
          result: { sortedRange: formatA1(sheet.title, bounded) },
          firing: { edit: { box: boxOf(bounded) }, change: 'OTHER' },
        };
      }
      case 'renameSheet': {
        const sheet = sheetOf(spreadsheet, action.sheet);
        renameSheet(spreadsheet, sheet, action.title);
        emit({ kind: 'sheetProperties', sheetId: sheet.sheetId });
        return { result: { sheetId: sheet.sheetId, title: sheet.title }, firing: { change: 'OTHER' } };
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
