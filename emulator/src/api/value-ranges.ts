/**
 * ValueRange plumbing shared by the values routes: reading an A1 range as values.get does,
 * writing a ValueRange body, and UpdateValuesResponse
 * (https://developers.google.com/sheets/api/reference/rest/v4/UpdateValuesResponse).
 */
import { cellsPart, exceedsGridLimits, formatA1 } from '../model/a1.ts';
import { invalidArgument } from '../model/errors.ts';
import { writeBounded, writeTarget } from '../model/operations.ts';
import type { BoundedRange, Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { type MajorDimension, type RenderOptions, readValues, type WriteResult } from '../model/values.ts';
import {
  boolParam,
  dimensions,
  enumParam,
  rejectUnknownFields,
  renderParams,
  valueRangeFields,
  valuesOf,
} from './params.ts';

/** values.get clips an open or oversized range to the grid, as Google echoes it. */
export function readA1(
  spreadsheet: Spreadsheet,
  a1: string,
  options: RenderOptions & { majorDimension?: MajorDimension },
) {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  const bounded = spreadsheet.bound(sheet, range);
  if (bounded.startRowIndex >= sheet.rowCount || bounded.startColumnIndex >= sheet.columnCount) {
    throw exceedsGridLimits(sheet, cellsPart(a1) ?? formatA1(sheet.title, bounded).replace(/^.*!/, ''));
  }
  bounded.endRowIndex = Math.min(bounded.endRowIndex, sheet.rowCount);
  bounded.endColumnIndex = Math.min(bounded.endColumnIndex, sheet.columnCount);
  return readValues(spreadsheet, bounded, options);
}

export function readOptions(query: URLSearchParams): RenderOptions & { majorDimension?: MajorDimension } {
  return {
    ...renderParams((name) => query.get(name) ?? undefined),
    majorDimension: enumParam(query.get('majorDimension'), 'majorDimension', 'Dimension', dimensions),
  };
}

/** UpdateValuesResponse; proto3 JSON leaves out zero counts. */
export function updateResponse(
  spreadsheet: Spreadsheet,
  result: WriteResult,
  responseData: (RenderOptions & { majorDimension?: MajorDimension }) | undefined,
): Record<string, unknown> {
  const response: Record<string, unknown> = {
    spreadsheetId: spreadsheet.spreadsheetId,
    updatedRange: formatA1(result.written.sheet.title, result.written),
  };
  if (result.updatedRows) response.updatedRows = result.updatedRows;
  if (result.updatedColumns) response.updatedColumns = result.updatedColumns;
  if (result.updatedCells) response.updatedCells = result.updatedCells;
  if (responseData) response.updatedData = readValues(spreadsheet, result.written, responseData);
  return response;
}

export function responseDataOptions(
  source: (name: string) => unknown,
  majorDimension: MajorDimension | undefined,
) {
  if (!boolParam(source('includeValuesInResponse'))) return undefined;
  return { ...renderParams(source, 'response'), majorDimension };
}

export function writeValueRange(
  spreadsheet: Spreadsheet,
  emit: Emit,
  a1: string,
  body: Record<string, unknown>,
  valueInputOption: 'RAW' | 'USER_ENTERED',
  where: string,
): WriteResult {
  const majorDimension = enumParam(body.majorDimension, 'majorDimension', 'Dimension', dimensions);
  const bounded = writeTarget(spreadsheet, a1);
  return writeBounded(spreadsheet, emit, bounded, valuesOf(body.values, `${where}values`), {
    valueInputOption,
    majorDimension,
    requestedRange: formatA1(bounded.sheet.title, bounded),
  });
}

export function checkBodyRange(body: Record<string, unknown>, urlRange: string): void {
  rejectUnknownFields(body, valueRangeFields);
  if (typeof body.range === 'string' && body.range !== urlRange) {
    throw invalidArgument(
      `Requested range [${urlRange}] is not the same as the range in the request body [${body.range}]`,
    );
  }
}

export function clearedRange(range: BoundedRange): string {
  return formatA1(range.sheet.title, {
    ...range,
    endRowIndex: Math.min(range.endRowIndex, range.sheet.rowCount),
    endColumnIndex: Math.min(range.endColumnIndex, range.sheet.columnCount),
  });
}
