/**
 * What the Apps Script host needs from the spreadsheet model. The emulator implements it over
 * its model (model-backend.ts); a test may implement it in memory. Methods throw the model's
 * SheetsApiError on bad input; the host turns that into a script exception with its message.
 */
import type {
  CellDecoration,
  CellValue,
  GridBox,
  PropertyStore,
  SheetShape,
  SpreadsheetShape,
  TriggerShape,
  WritableCellValue,
} from './protocol.ts';

/** What a bound script keeps with its spreadsheet: its properties and installed triggers. */
export interface ScriptState {
  properties: Record<PropertyStore, Record<string, string>>;
  triggers: TriggerShape[];
}

export const emptyScriptState = (): ScriptState => ({
  properties: { script: {}, document: {}, user: {} },
  triggers: [],
});

export interface ScriptSpreadsheetBackend {
  describe(spreadsheetId: string): SpreadsheetShape;
  read(spreadsheetId: string, box: GridBox, render: 'value' | 'display' | 'formula'): CellValue[][];
  /** Strings are parsed as typed input (USER_ENTERED); `{epochMs}` is a date-time. */
  write(spreadsheetId: string, box: GridBox, values: WritableCellValue[][]): void;
  clear(spreadsheetId: string, box: GridBox): void;
  /** Range.setNote, Range.setBackground: the note or the fill of every cell (null: removed). */
  decorate(spreadsheetId: string, box: GridBox, change: CellDecoration): void;
  /**
   * Sheet.appendRow in one step: the values (parsed as typed input) in the row below the last row
   * with content, the grid grown by a row when that row is past its end.
   */
  appendRow(spreadsheetId: string, sheetId: number, values: WritableCellValue[]): void;
  /** 1-based last row and column with content; 0 when the sheet is empty. */
  extent(spreadsheetId: string, sheetId: number): { lastRow: number; lastColumn: number };
  insertSheet(spreadsheetId: string, title: string, index: number | null): SheetShape;
  setSheetHidden(spreadsheetId: string, sheetId: number, hidden: boolean): void;
  dimension(
    spreadsheetId: string,
    sheetId: number,
    change: 'insert' | 'delete' | 'hide' | 'show',
    dimension: 'ROWS' | 'COLUMNS',
    startIndex: number,
    count: number,
  ): void;
  protect(
    spreadsheetId: string,
    target: GridBox | { sheetId: number },
    description: string,
    warningOnly: boolean,
  ): { protectedRangeId: number };
  updateProtection(
    spreadsheetId: string,
    protectedRangeId: number,
    change: { description?: string; warningOnly?: boolean },
  ): void;
  removeProtection(spreadsheetId: string, protectedRangeId: number): void;
  /** The script's saved state for this spreadsheet (empty when none was saved). */
  loadScriptState(spreadsheetId: string): ScriptState;
  saveScriptState(spreadsheetId: string, state: ScriptState): void;
  spreadsheetIds(): string[];
}
