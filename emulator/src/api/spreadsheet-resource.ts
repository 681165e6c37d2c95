/**
 * The Spreadsheet resource as spreadsheets.get returns it
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets#Spreadsheet).
 * Like any proto3 JSON, false booleans and absent members are omitted.
 */
import type { GridRange } from '../model/a1.ts';
import type { Cell, CellValue } from '../model/cell.ts';
import { evaluateCell } from '../model/formula.ts';
import type { Sheet } from '../model/sheet.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import { renderCell } from '../model/values.ts';

export const defaultRowPixels = 21;
export const defaultColumnPixels = 100;

export function sheetPropertiesResource(spreadsheet: Spreadsheet, sheet: Sheet): Record<string, unknown> {
  const { properties } = sheet;
  const gridProperties: Record<string, unknown> = {
    rowCount: properties.rowCount,
    columnCount: properties.columnCount,
  };
  if (properties.frozenRowCount) gridProperties.frozenRowCount = properties.frozenRowCount;
  if (properties.frozenColumnCount) gridProperties.frozenColumnCount = properties.frozenColumnCount;
  return {
    sheetId: properties.sheetId,
    title: properties.title,
    index: spreadsheet.indexOf(sheet),
    sheetType: 'GRID',
    gridProperties,
    ...(properties.hidden ? { hidden: true } : {}),
    ...(properties.tabColor ? { tabColor: properties.tabColor } : {}),
  };
}

export function protectedRangeResource(
  protectedRange: Sheet['protectedRanges'][number],
): Record<string, unknown> {
  return {
    protectedRangeId: protectedRange.protectedRangeId,
    range: protectedRange.range,
    ...(protectedRange.description ? { description: protectedRange.description } : {}),
    ...(protectedRange.warningOnly ? { warningOnly: true } : {}),
    // The emulator's single caller owns every spreadsheet, so it may edit every range.
    requestingUserCanEdit: true,
    ...(protectedRange.editors && !protectedRange.warningOnly ? { editors: protectedRange.editors } : {}),
  };
}

export interface GridDataOptions {
  /** Per sheet, the ranges asked for; absent means the whole sheet. */
  ranges?: Map<number, GridRange[]>;
  /** Build rowData (cells); false when only dimension metadata is asked for. */
  cells: boolean;
}

/**
 * `ranges` limits the sheets returned to those the ranges touch (and the grid data to the
 * ranges); `data` asks for grid data at all.
 */
export function spreadsheetResource(
  spreadsheet: Spreadsheet,
  baseUrl: string,
  data: GridDataOptions | undefined,
  ranges: Map<number, GridRange[]> | undefined = data?.ranges,
): Record<string, unknown> {
  const sheets = spreadsheet.sheets
    .filter((sheet) => !ranges || ranges.has(sheet.sheetId))
    .map((sheet) => {
      const resource: Record<string, unknown> = { properties: sheetPropertiesResource(spreadsheet, sheet) };
      if (sheet.protectedRanges.length > 0)
        resource.protectedRanges = sheet.protectedRanges.map(protectedRangeResource);
      if (data) {
        const ranges = data.ranges?.get(sheet.sheetId) ?? [{ sheetId: sheet.sheetId }];
        resource.data = ranges.map((range) => gridData(spreadsheet, sheet, range, data.cells));
      }
      return resource;
    });
  return {
    spreadsheetId: spreadsheet.spreadsheetId,
    properties: { ...spreadsheet.properties },
    sheets,
    spreadsheetUrl: `${baseUrl}/spreadsheets/${spreadsheet.spreadsheetId}`,
  };
}

function gridData(
  spreadsheet: Spreadsheet,
  sheet: Sheet,
  range: GridRange,
  cells: boolean,
): Record<string, unknown> {
  const bounded = spreadsheet.bound(sheet, range);
  const result: Record<string, unknown> = {};
  if (bounded.startRowIndex > 0) result.startRow = bounded.startRowIndex;
  if (bounded.startColumnIndex > 0) result.startColumn = bounded.startColumnIndex;
  if (cells) {
    const rowData: { values?: Record<string, unknown>[] }[] = [];
    const endRow = Math.min(bounded.endRowIndex, sheet.rows.length);
    for (let r = bounded.startRowIndex; r < endRow; r++) {
      const row = sheet.rows[r] ?? [];
      const values: Record<string, unknown>[] = [];
      const endColumn = Math.min(bounded.endColumnIndex, row.length);
      for (let c = bounded.startColumnIndex; c < endColumn; c++)
        values.push(cellData(spreadsheet, sheet, row[c]));
      rowData.push(values.length > 0 ? { values } : {});
    }
    while (rowData.length > 0 && rowData[rowData.length - 1]?.values === undefined) rowData.pop();
    if (rowData.length > 0) result.rowData = rowData;
  }
  result.rowMetadata = dimensionMetadata(
    sheet.rowMeta,
    bounded.startRowIndex,
    bounded.endRowIndex,
    defaultRowPixels,
  );
  result.columnMetadata = dimensionMetadata(
    sheet.columnMeta,
    bounded.startColumnIndex,
    bounded.endColumnIndex,
    defaultColumnPixels,
  );
  return result;
}

function dimensionMetadata(
  metas: Sheet['rowMeta'],
  start: number,
  end: number,
  defaultPixels: number,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = start; i < end; i++) {
    const meta = metas[i];
    const entry: Record<string, unknown> = { pixelSize: meta?.pixelSize ?? defaultPixels };
    if (meta?.hiddenByUser) entry.hiddenByUser = true;
    out.push(entry);
  }
  return out;
}

export function extendedValue(value: CellValue): Record<string, CellValue> {
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return { stringValue: value };
}

/** CellData: userEnteredValue, effectiveValue, formattedValue, userEnteredFormat, note, dataValidation. */
export function cellData(
  spreadsheet: Spreadsheet,
  sheet: Sheet,
  cell: Cell | undefined,
): Record<string, unknown> {
  if (!cell) return {};
  const result: Record<string, unknown> = {};
  if (cell.formula !== undefined) result.userEnteredValue = { formulaValue: cell.formula };
  else if (cell.value !== undefined) result.userEnteredValue = extendedValue(cell.value);
  const effective = evaluateCell(spreadsheet, sheet, cell);
  if (effective && 'error' in effective) {
    result.effectiveValue = { errorValue: { type: errorType(effective.error), message: effective.message } };
    result.formattedValue = effective.error;
  } else if (effective) {
    result.effectiveValue = extendedValue(effective.value);
    result.formattedValue = renderCell(spreadsheet, sheet, cell);
  }
  if (cell.format) {
    result.userEnteredFormat = cell.format;
    result.effectiveFormat = cell.format;
  }
  if (cell.note) result.note = cell.note;
  if (cell.dataValidation) result.dataValidation = cell.dataValidation;
  return result;
}

/** ErrorValue.type (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#ErrorType). */
function errorType(code: string): string {
  const types: Record<string, string> = {
    '#NULL!': 'NULL_VALUE',
    '#DIV/0!': 'DIVIDE_BY_ZERO',
    '#VALUE!': 'VALUE',
    '#REF!': 'REF',
    '#NAME?': 'NAME',
    '#NUM!': 'NUM',
    '#N/A': 'N_A',
    '#ERROR!': 'ERROR',
  };
  return types[code] ?? 'ERROR';
}
