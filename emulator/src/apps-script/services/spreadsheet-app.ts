/**
 * SpreadsheetApp, Spreadsheet, Sheet and Range, as far as a sync script needs them
 * (https://developers.google.com/apps-script/reference/spreadsheet). Every read goes to the
 * host, so a script sees writes made through the API by other parties at once, as on Google.
 * Writes made here never fire triggers (Apps Script: "Script executions and API requests do
 * not cause triggers to run").
 */
import { parseA1 } from '../a1.ts';
import { ScriptException } from '../host-call.ts';
import type { SheetShape } from '../protocol.ts';
import { fromScriptValue } from './cell-values.ts';
import { createProtection, type Protection } from './protection.ts';
import { Range } from './range.ts';
import type { SpreadsheetEnv } from './spreadsheet-env.ts';
import { createUi } from './ui.ts';

export function createSpreadsheetApp(env: SpreadsheetEnv) {
  const active = () => new Spreadsheet(env, env.spreadsheetId);
  return {
    getActive: active,
    getActiveSpreadsheet: active,
    getActiveSheet: () => active().getActiveSheet(),
    openById: (id: string) => {
      env.call('spreadsheet.describe', String(id));
      return new Spreadsheet(env, String(id));
    },
    flush: () => undefined,
    getUi: () => {
      // "A script can only interact with the UI for the current instance of an open editor":
      // from a trigger, Google throws this.
      if (!env.hasUi) throw new ScriptException('Cannot call SpreadsheetApp.getUi() from this context.');
      return createUi(env.log);
    },
    ProtectionType: { RANGE: 'RANGE', SHEET: 'SHEET' },
  };
}

export class Spreadsheet {
  constructor(
    private readonly env: SpreadsheetEnv,
    private readonly id: string,
  ) {}
  private describe() {
    return this.env.call('spreadsheet.describe', this.id);
  }
  getId() {
    return this.id;
  }
  getName() {
    return this.describe().title;
  }
  getUrl() {
    return this.describe().url;
  }
  getSpreadsheetTimeZone() {
    return this.describe().timeZone;
  }
  getSheets() {
    return this.env.toScript(
      this.describe().sheets.map((s) => new Sheet(this.env, this, s.sheetId)),
    ) as Sheet[];
  }
  getSheetByName(name: string) {
    const shape = this.describe().sheets.find((s) => s.title === String(name));
    return shape ? new Sheet(this.env, this, shape.sheetId) : null;
  }
  getSheetById(sheetId: number) {
    const shape = this.describe().sheets.find((s) => s.sheetId === Number(sheetId));
    return shape ? new Sheet(this.env, this, shape.sheetId) : null;
  }
  getActiveSheet() {
    const sheets = this.describe().sheets;
    const active =
      this.id === this.env.spreadsheetId
        ? sheets.find((s) => s.sheetId === this.env.activeSheetId)
        : undefined;
    const first = active ?? sheets[0];
    if (!first) throw new ScriptException('The spreadsheet has no sheets.');
    return new Sheet(this.env, this, first.sheetId);
  }
  getRange(a1: string) {
    const parsed = parseA1(String(a1));
    const sheet = parsed?.sheetName ? this.getSheetByName(parsed.sheetName) : this.getActiveSheet();
    if (!parsed || !sheet) throw new ScriptException(`Range not found`);
    return sheet.getRange(String(a1).slice(String(a1).lastIndexOf('!') + 1));
  }
  insertSheet(name?: string, index?: number) {
    const title = name ?? `Sheet${this.describe().sheets.length + 1}`;
    const shape = this.env.call('sheet.insert', this.id, String(title), index ?? null);
    return new Sheet(this.env, this, shape.sheetId);
  }
  toast(message: string) {
    this.env.log(`toast: ${message}`);
  }
}

export class Sheet {
  constructor(
    private readonly env: SpreadsheetEnv,
    private readonly spreadsheet: Spreadsheet,
    private readonly sheetId: number,
  ) {}
  /**
   * @internal The range of a trigger's event: where the edit was, unchecked against the grid. The
   * trigger may run after the person deleted rows; Google's event range is its four coordinates
   * (see Range), and only reading cells past the grid fails.
   */
  eventRange(box: { row: number; column: number; numRows: number; numColumns: number }): Range {
    return new Range(this.env, this, { sheetId: this.sheetId, ...box });
  }
  /** @internal */
  shape(): SheetShape {
    const shape = this.env
      .call('spreadsheet.describe', this.spreadsheet.getId())
      .sheets.find((s) => s.sheetId === this.sheetId);
    if (!shape) throw new ScriptException('The sheet was deleted.');
    return shape;
  }
  getName() {
    return this.shape().title;
  }
  getSheetName() {
    return this.shape().title;
  }
  getSheetId() {
    return this.sheetId;
  }
  getIndex() {
    return this.shape().index + 1;
  }
  getParent() {
    return this.spreadsheet;
  }
  getMaxRows() {
    return this.shape().rowCount;
  }
  getMaxColumns() {
    return this.shape().columnCount;
  }
  getLastRow() {
    return this.env.call('sheet.extent', this.spreadsheet.getId(), this.sheetId).lastRow;
  }
  getLastColumn() {
    return this.env.call('sheet.extent', this.spreadsheet.getId(), this.sheetId).lastColumn;
  }
  getDataRange() {
    const { lastRow, lastColumn } = this.env.call('sheet.extent', this.spreadsheet.getId(), this.sheetId);
    return this.box(1, 1, Math.max(lastRow, 1), Math.max(lastColumn, 1));
  }
  getRange(rowOrA1: number | string, column?: number, numRows = 1, numColumns = 1): Range {
    if (typeof rowOrA1 === 'string') {
      const parsed = parseA1(rowOrA1);
      if (!parsed) throw new ScriptException('Range not found');
      const { rowCount, columnCount } = this.shape();
      const endRow = parsed.endRow ?? rowCount;
      const endColumn = parsed.endColumn ?? columnCount;
      return this.box(parsed.row, parsed.column, endRow - parsed.row + 1, endColumn - parsed.column + 1);
    }
    if (column === undefined)
      throw new ScriptException(
        "The parameters (number) don't match the method signature for SpreadsheetApp.Sheet.getRange.",
      );
    return this.box(Number(rowOrA1), Number(column), Number(numRows), Number(numColumns));
  }
  /** Validates like Google: 1-based start, at least one row and column, inside the grid. */
  private box(row: number, column: number, numRows: number, numColumns: number): Range {
    if (row < 1) throw new ScriptException('The starting row of the range is too small.');
    if (column < 1) throw new ScriptException('The starting column of the range is too small.');
    if (numRows < 1) throw new ScriptException('The number of rows in the range must be at least 1.');
    if (numColumns < 1) throw new ScriptException('The number of columns in the range must be at least 1.');
    const { rowCount, columnCount } = this.shape();
    if (row + numRows - 1 > rowCount || column + numColumns - 1 > columnCount) {
      throw new ScriptException('The coordinates of the range are outside the dimensions of the sheet.');
    }
    return new Range(this.env, this, { sheetId: this.sheetId, row, column, numRows, numColumns });
  }
  private dimension(
    change: 'insert' | 'delete' | 'hide' | 'show',
    dim: 'ROWS' | 'COLUMNS',
    start: number,
    count: number,
  ) {
    this.env.call('sheet.dimension', this.spreadsheet.getId(), this.sheetId, change, dim, start - 1, count);
    return this;
  }
  insertColumnAfter(afterPosition: number) {
    return this.dimension('insert', 'COLUMNS', afterPosition + 1, 1);
  }
  insertColumnBefore(beforePosition: number) {
    return this.dimension('insert', 'COLUMNS', beforePosition, 1);
  }
  insertColumnsAfter(afterPosition: number, howMany: number) {
    return this.dimension('insert', 'COLUMNS', afterPosition + 1, howMany);
  }
  insertRowAfter(afterPosition: number) {
    return this.dimension('insert', 'ROWS', afterPosition + 1, 1);
  }
  insertRowsAfter(afterPosition: number, howMany: number) {
    return this.dimension('insert', 'ROWS', afterPosition + 1, howMany);
  }
  insertRowBefore(beforePosition: number) {
    return this.dimension('insert', 'ROWS', beforePosition, 1);
  }
  deleteRow(rowPosition: number) {
    return this.dimension('delete', 'ROWS', rowPosition, 1);
  }
  deleteRows(rowPosition: number, howMany: number) {
    return this.dimension('delete', 'ROWS', rowPosition, howMany);
  }
  deleteColumn(columnPosition: number) {
    return this.dimension('delete', 'COLUMNS', columnPosition, 1);
  }
  hideColumns(columnIndex: number, numColumns = 1) {
    this.dimension('hide', 'COLUMNS', columnIndex, numColumns);
  }
  showColumns(columnIndex: number, numColumns = 1) {
    this.dimension('show', 'COLUMNS', columnIndex, numColumns);
  }
  hideColumn(column: Range) {
    this.hideColumns(column.getColumn(), column.getNumColumns());
  }
  isColumnHiddenByUser(columnPosition: number) {
    return this.shape().hiddenColumns.includes(columnPosition - 1);
  }
  /** "If a cell's content begins with =, it's interpreted as a formula": typed input, like setValues. */
  appendRow(rowContents: unknown[]) {
    this.env.call(
      'sheet.appendRow',
      this.spreadsheet.getId(),
      this.sheetId,
      Array.from(rowContents, fromScriptValue),
    );
    return this;
  }
  protect(): Protection<Range> {
    return createProtection(this.env, { sheetId: this.sheetId }, () =>
      this.getRange(1, 1, this.getMaxRows(), this.getMaxColumns()),
    );
  }
  hideSheet() {
    this.env.call('sheet.setHidden', this.spreadsheet.getId(), this.sheetId, true);
    return this;
  }
  showSheet() {
    this.env.call('sheet.setHidden', this.spreadsheet.getId(), this.sheetId, false);
    return this;
  }
  isSheetHidden() {
    return this.shape().hidden;
  }
  getFrozenRows() {
    return 0;
  }
}
