/**
 * The user actions that change cell values: typing or pasting text (`edit`), selecting cells and
 * pressing Delete (`clear`), and copying cells and pasting them (`copyPaste`). Each fires one
 * onEdit for the cells it changed and onChange `EDIT`
 * (https://developers.google.com/apps-script/guides/triggers/events). e.value and e.oldValue:
 * "Only available if the edited range is a single cell"; oldValue "Will be undefined if the cell
 * had no previous content"; value is absent when the cell is left empty.
 */
import type { UserActionFiring } from '../apps-script/runtime.ts';
import { exceedsGridLimits, formatA1 } from '../model/a1.ts';
import { copyPaste } from '../model/copy-paste.ts';
import { rejectionMessage, satisfies } from '../model/data-validation.ts';
import { invalidArgument } from '../model/errors.ts';
import { clearA1, writeBounded, writeTarget } from '../model/operations.ts';
import type { BoundedRange, Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { parseUserEntered } from '../model/user-input.ts';
import { boxOf, effectiveText } from './firing.ts';
import type { AppliedAction, UserAction } from './schema.ts';

type Action<T extends UserAction['type']> = Extract<UserAction, { type: T }>;

/** Typing into a cell, or pasting a block of text with that cell as its top-left anchor. */
export function edit(spreadsheet: Spreadsheet, emit: Emit, action: Action<'edit'>): AppliedAction {
  const bounded = writeTarget(spreadsheet, action.range);
  refuseInvalidEntry(bounded, action.values);
  const before = effectiveText(spreadsheet, bounded.sheet, bounded.startRowIndex, bounded.startColumnIndex);
  const written = writeBounded(spreadsheet, emit, bounded, action.values, {
    valueInputOption: 'USER_ENTERED',
    // A paste past the last row or column grows the grid, as it does in the UI.
    growGrid: true,
    requestedRange: action.range,
  });
  const edit = singleCellValues(spreadsheet, written.written, before);
  return {
    result: {
      updatedRange: formatA1(bounded.sheet.title, written.written),
      updatedCells: written.updatedCells,
    },
    firing: { edit, change: 'EDIT' },
  };
}

/**
 * Delete pressed over a selection: values and formulas go, formats and notes stay, as
 * values.clear ("Only values are cleared"). onEdit fires even when the cells were empty.
 */
export function clear(spreadsheet: Spreadsheet, emit: Emit, action: Action<'clear'>): AppliedAction {
  const { sheet, range } = spreadsheet.resolveA1(action.range);
  const bounded = spreadsheet.bound(sheet, range);
  // A selection lies inside the grid.
  if (bounded.endRowIndex > sheet.rowCount || bounded.endColumnIndex > sheet.columnCount) {
    throw exceedsGridLimits(sheet, bounded);
  }
  const before = effectiveText(spreadsheet, sheet, bounded.startRowIndex, bounded.startColumnIndex);
  clearA1(spreadsheet, emit, action.range);
  return {
    result: { clearedRange: formatA1(sheet.title, bounded) },
    firing: { edit: singleCellValues(spreadsheet, bounded, before), change: 'EDIT' },
  };
}

/**
 * Cells copied and pasted inside the spreadsheet (copy-paste.ts). A paste fires onEdit without
 * value or oldValue, even for one cell: public reports of observed behaviour, not Google's
 * documentation (README).
 */
export function paste(spreadsheet: Spreadsheet, emit: Emit, action: Action<'copyPaste'>): AppliedAction {
  const source = resolve(spreadsheet, action.source);
  const destination = resolve(spreadsheet, action.destination);
  const pasted = copyPaste(spreadsheet, emit, source, destination);
  return {
    result: { pastedRange: formatA1(pasted.sheet.title, pasted) },
    firing: { edit: { box: boxOf(pasted) }, change: 'EDIT' },
  };
}

function resolve(spreadsheet: Spreadsheet, a1: string): BoundedRange {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  return spreadsheet.bound(sheet, range);
}

function singleCellValues(
  spreadsheet: Spreadsheet,
  range: BoundedRange,
  before: string | undefined,
): NonNullable<UserActionFiring['edit']> {
  const box = boxOf(range);
  if (box.numRows !== 1 || box.numColumns !== 1) return { box };
  const after = effectiveText(spreadsheet, range.sheet, range.startRowIndex, range.startColumnIndex);
  return {
    box,
    ...(after === undefined ? {} : { value: after }),
    ...(before === undefined ? {} : { oldValue: before }),
  };
}

/**
 * A value typed into one cell whose rule is strict ("True if invalid data should be rejected",
 * DataValidationRule.strict) is refused and the cell keeps what it had, as the Sheets UI's
 * "Reject the input". A pasted block is not checked: public reports say pasting bypasses
 * validation, and Google documents no check for it.
 */
function refuseInvalidEntry(bounded: BoundedRange, values: Action<'edit'>['values']): void {
  if (values.length !== 1 || values[0]?.length !== 1) return;
  const input = values[0][0];
  const { sheet } = bounded;
  const rule = sheet.getCell(bounded.startRowIndex, bounded.startColumnIndex)?.dataValidation;
  if (!rule?.strict || input === null || input === undefined) return;
  const entered = parseUserEntered(input);
  if (satisfies(rule, entered)) return;
  const cell = formatA1(sheet.title, {
    ...bounded,
    endRowIndex: bounded.startRowIndex + 1,
    endColumnIndex: bounded.startColumnIndex + 1,
  });
  throw invalidArgument(`There was a problem with ${cell}: ${rejectionMessage(rule)}`);
}
