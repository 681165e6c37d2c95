/** Spreadsheets to and from plain JSON, for the state file. */
import type { Cell } from './cell.ts';
import { type DimensionMeta, type ProtectedRange, Sheet, type SheetProperties } from './sheet.ts';
import { Spreadsheet, type SpreadsheetProperties } from './spreadsheet.ts';

export interface SheetState {
  properties: SheetProperties;
  /** Row-major; `null` for an empty row or cell. */
  rows: ((Cell | null)[] | null)[];
  rowMeta: (DimensionMeta | null)[];
  columnMeta: (DimensionMeta | null)[];
  protectedRanges: ProtectedRange[];
}

export interface SpreadsheetState {
  spreadsheetId: string;
  properties: SpreadsheetProperties;
  nextProtectedRangeId: number;
  sheets: SheetState[];
  /** The bound Apps Script's properties and triggers (emulator/src/apps-script/backend.ts ScriptState). */
  appsScript?: unknown;
}

const orNull = <T>(items: (T | undefined)[]): (T | null)[] => Array.from(items, (item) => item ?? null);
const orUndefined = <T>(items: (T | null)[]): (T | undefined)[] => items.map((item) => item ?? undefined);

export function serializeSpreadsheet(spreadsheet: Spreadsheet): SpreadsheetState {
  return {
    spreadsheetId: spreadsheet.spreadsheetId,
    properties: spreadsheet.properties,
    nextProtectedRangeId: spreadsheet.nextProtectedRangeId,
    sheets: spreadsheet.sheets.map((sheet) => ({
      properties: sheet.properties,
      rows: Array.from(sheet.rows, (row) => (row ? orNull(row) : null)),
      rowMeta: orNull(sheet.rowMeta),
      columnMeta: orNull(sheet.columnMeta),
      protectedRanges: sheet.protectedRanges,
    })),
    ...(spreadsheet.appsScript === undefined ? {} : { appsScript: spreadsheet.appsScript }),
  };
}

export function restoreSpreadsheet(state: SpreadsheetState): Spreadsheet {
  const spreadsheet = new Spreadsheet(state.spreadsheetId, state.properties);
  spreadsheet.nextProtectedRangeId = state.nextProtectedRangeId;
  spreadsheet.appsScript = state.appsScript;
  for (const sheetState of state.sheets) {
    const sheet = new Sheet(sheetState.properties);
    sheet.rows = sheetState.rows.map((row) => (row ? orUndefined(row) : undefined));
    sheet.rowMeta = orUndefined(sheetState.rowMeta);
    sheet.columnMeta = orUndefined(sheetState.columnMeta);
    sheet.protectedRanges = sheetState.protectedRanges;
    spreadsheet.sheets.push(sheet);
  }
  return spreadsheet;
}
