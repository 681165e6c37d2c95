/**
 * updateCells and appendCells
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#updatecellsrequest):
 * CellData written under a `fields` mask. With `range`, "every cell in the range not covered
 * by the rows" is cleared of the masked fields; with `start`, only the given cells are touched.
 */
import type { GridRange } from '../model/a1.ts';
import { exceedsGridLimits } from '../model/a1.ts';
import type { Cell, CellFormat, CellValue, DataValidationRule } from '../model/cell.ts';
import { checkRule } from '../model/data-validation.ts';
import { invalidArgument } from '../model/errors.ts';
import { gridRange, requireSheet } from '../model/operations.ts';
import type { Sheet } from '../model/sheet.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { checkCellLength } from '../model/user-input.ts';
import { growToFit } from '../model/values.ts';

interface ExtendedValue {
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
  formulaValue?: string;
}

export interface CellData {
  userEnteredValue?: ExtendedValue;
  userEnteredFormat?: CellFormat;
  note?: string;
  dataValidation?: DataValidationRule;
}

export interface RowData {
  values?: CellData[];
}

interface Mask {
  value: boolean;
  /** The whole format, or only these members of it (`userEnteredFormat.numberFormat`). */
  format: boolean | string[];
  note: boolean;
  validation: boolean;
}

function parseMask(fields: string | undefined): Mask {
  if (!fields) throw invalidArgument("At least one field must be specified in 'fields'.");
  const list = fields.split(',').map((f) => f.trim());
  const has = (name: string) => list.some((f) => f === '*' || f === name || f.startsWith(`${name}.`));
  const wholeFormat = list.some((f) => f === '*' || f === 'userEnteredFormat');
  const formatMembers = [
    ...new Set(list.flatMap((f) => (f.startsWith('userEnteredFormat.') ? [f.split('.')[1] ?? ''] : []))),
  ];
  return {
    value: has('userEnteredValue'),
    format: wholeFormat || (formatMembers.length > 0 ? formatMembers : false),
    note: has('note'),
    validation: has('dataValidation'),
  };
}

function mergeFormat(before: CellFormat | undefined, given: CellFormat | undefined, mask: Mask) {
  if (mask.format === true) return given;
  if (mask.format === false) return before;
  const next: CellFormat = { ...before };
  for (const member of mask.format) {
    if (given?.[member] === undefined) delete next[member];
    else next[member] = given[member];
  }
  return Object.keys(next).length > 0 ? next : undefined;
}

function enteredValue(value: ExtendedValue): { value?: CellValue; formula?: string } {
  if (value.formulaValue !== undefined) {
    checkCellLength(value.formulaValue);
    return { formula: value.formulaValue };
  }
  if (value.stringValue !== undefined) {
    checkCellLength(value.stringValue);
    return { value: value.stringValue };
  }
  if (value.numberValue !== undefined) return { value: value.numberValue };
  if (value.boolValue !== undefined) return { value: value.boolValue };
  return {};
}

function merge(before: Cell | undefined, data: CellData | undefined, mask: Mask): Cell | undefined {
  const next: {
    value?: CellValue;
    formula?: string;
    format?: CellFormat;
    note?: string;
    dataValidation?: DataValidationRule;
  } = {};
  if (mask.value) Object.assign(next, data?.userEnteredValue ? enteredValue(data.userEnteredValue) : {});
  else Object.assign(next, { value: before?.value, formula: before?.formula });
  next.format = mergeFormat(before?.format, data?.userEnteredFormat, mask);
  next.note = mask.note ? data?.note : before?.note;
  next.dataValidation = mask.validation ? data?.dataValidation : before?.dataValidation;
  for (const key of Object.keys(next) as (keyof typeof next)[]) if (next[key] === undefined) delete next[key];
  return Object.keys(next).length > 0 ? next : undefined;
}

/** Rules are checked before anything is written, and stored in the form checkRule gives. */
function withCheckedRules(rows: RowData[], mask: Mask): RowData[] {
  if (!mask.validation) return rows;
  return rows.map((row) => ({
    values: row.values?.map((data) =>
      data?.dataValidation ? { ...data, dataValidation: checkRule(data.dataValidation) } : data,
    ),
  }));
}

function writeRows(sheet: Sheet, startRow: number, startColumn: number, rows: RowData[], mask: Mask): void {
  rows.forEach((row, i) => {
    (row.values ?? []).forEach((data, j) => {
      const r = startRow + i;
      const c = startColumn + j;
      sheet.setCell(r, c, merge(sheet.getCell(r, c), data, mask));
    });
  });
}

export function updateCells(
  spreadsheet: Spreadsheet,
  emit: Emit,
  request: {
    rows?: RowData[];
    fields?: string;
    start?: { sheetId?: number; rowIndex?: number; columnIndex?: number };
    range?: GridRange;
  },
): void {
  const mask = parseMask(request.fields);
  const rows = withCheckedRules(request.rows ?? [], mask);
  const width = Math.max(0, ...rows.map((row) => row.values?.length ?? 0));
  if (request.range) {
    const sheet = requireSheet(spreadsheet, request.range.sheetId);
    const bounded = spreadsheet.bound(sheet, request.range);
    if (bounded.endRowIndex > sheet.rowCount || bounded.endColumnIndex > sheet.columnCount) {
      throw exceedsGridLimits(sheet, bounded);
    }
    // Cells of the range beyond the given rows lose the masked fields.
    for (let r = bounded.startRowIndex; r < Math.min(bounded.endRowIndex, sheet.rows.length); r++) {
      for (let c = bounded.startColumnIndex; c < bounded.endColumnIndex; c++) {
        const i = r - bounded.startRowIndex;
        const j = c - bounded.startColumnIndex;
        if (rows[i]?.values?.[j] === undefined && sheet.getCell(r, c))
          sheet.setCell(r, c, merge(sheet.getCell(r, c), undefined, mask));
      }
    }
    const clipped = rows.slice(0, bounded.endRowIndex - bounded.startRowIndex).map((row) => ({
      values: row.values?.slice(0, bounded.endColumnIndex - bounded.startColumnIndex),
    }));
    writeRows(sheet, bounded.startRowIndex, bounded.startColumnIndex, clipped, mask);
    emit({ kind: 'values', sheetId: sheet.sheetId, range: gridRange(bounded) });
    return;
  }
  const start = request.start ?? {};
  const sheet = requireSheet(spreadsheet, start.sheetId);
  const row = start.rowIndex ?? 0;
  const column = start.columnIndex ?? 0;
  if (row + rows.length > sheet.rowCount || column + width > sheet.columnCount) {
    throw exceedsGridLimits(sheet, {
      startRowIndex: row,
      endRowIndex: row + Math.max(rows.length, 1),
      startColumnIndex: column,
      endColumnIndex: column + Math.max(width, 1),
    });
  }
  writeRows(sheet, row, column, rows, mask);
  emit({
    kind: 'values',
    sheetId: sheet.sheetId,
    range: {
      sheetId: sheet.sheetId,
      startRowIndex: row,
      endRowIndex: row + rows.length,
      startColumnIndex: column,
      endColumnIndex: column + width,
    },
  });
}

/** "Appends new cells after the last row with data in a sheet, inserting new rows into the sheet if necessary." */
export function appendCells(
  spreadsheet: Spreadsheet,
  emit: Emit,
  request: { sheetId?: number; rows?: RowData[]; fields?: string },
): void {
  const mask = parseMask(request.fields);
  const sheet = requireSheet(spreadsheet, request.sheetId);
  const rows = withCheckedRules(request.rows ?? [], mask);
  const width = Math.max(0, ...rows.map((row) => row.values?.length ?? 0));
  if (width > sheet.columnCount) {
    // appendCells inserts rows, never columns (Google: "Attempting to write column: 26, beyond
    // the last requested column of: 25").
    throw invalidArgument(
      `Attempting to write column: ${sheet.columnCount}, beyond the last requested column of: ${sheet.columnCount - 1}`,
    );
  }
  const start = sheet.dataExtent().rows;
  growToFit(spreadsheet, sheet, start + rows.length, width);
  writeRows(sheet, start, 0, rows, mask);
  emit({
    kind: 'values',
    sheetId: sheet.sheetId,
    range: {
      sheetId: sheet.sheetId,
      startRowIndex: start,
      endRowIndex: start + rows.length,
      startColumnIndex: 0,
      endColumnIndex: width,
    },
  });
}

/**
 * repeatCell (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#RepeatCellRequest):
 * "Updates all cells in the range to the values in the given Cell object. Only the fields listed
 * in the fields field are updated; others are unchanged."
 */
export function repeatCell(
  spreadsheet: Spreadsheet,
  emit: Emit,
  request: { range?: GridRange; cell?: CellData; fields?: string },
): void {
  const mask = parseMask(request.fields);
  if (!request.range) throw invalidArgument('range is required.');
  const sheet = requireSheet(spreadsheet, request.range.sheetId);
  const bounded = spreadsheet.bound(sheet, request.range);
  if (bounded.endRowIndex > sheet.rowCount || bounded.endColumnIndex > sheet.columnCount) {
    throw exceedsGridLimits(sheet, bounded);
  }
  const given = request.cell ?? {};
  // Checked once, not per cell: a bad rule fails the request before anything changes.
  const data =
    mask.validation && given.dataValidation
      ? { ...given, dataValidation: checkRule(given.dataValidation) }
      : given;
  for (let r = bounded.startRowIndex; r < bounded.endRowIndex; r++) {
    for (let c = bounded.startColumnIndex; c < bounded.endColumnIndex; c++) {
      sheet.setCell(r, c, merge(sheet.getCell(r, c), data, mask));
    }
  }
  emit({ kind: 'values', sheetId: sheet.sheetId, range: gridRange(bounded) });
}

/**
 * setDataValidation (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#SetDataValidationRequest):
 * "Sets a data validation rule to every cell in the range. To clear validation in a range, call
 * this with no rule specified."
 */
export function setDataValidation(
  spreadsheet: Spreadsheet,
  emit: Emit,
  request: { range?: GridRange; rule?: unknown; filteredRowsIncluded?: boolean },
): void {
  repeatCell(spreadsheet, emit, {
    range: request.range,
    cell: request.rule === undefined ? {} : { dataValidation: request.rule as DataValidationRule },
    fields: 'dataValidation',
  });
}
