/**
 * Range (https://developers.google.com/apps-script/reference/spreadsheet/range): a rectangle of
 * one sheet, 1-based. Reads and writes go to the host at each call.
 */
import { formatA1 } from '../a1.ts';
import { ScriptException } from '../host-call.ts';
import type { CellValue, GridBox } from '../protocol.ts';
import { fromScriptValue, toScriptValue } from './cell-values.ts';
import { createProtection, type Protection } from './protection.ts';
import type { SpreadsheetEnv } from './spreadsheet-env.ts';

/**
 * What a Range uses of its Sheet (spreadsheet-app.ts's Sheet, which makes Ranges): named here so
 * the two modules do not import each other.
 */
export interface RangeSheet {
  getParent(): { getId(): string };
  getRange(row: number, column: number, numRows?: number, numColumns?: number): Range;
}

export class Range {
  readonly columnStart: number;
  readonly columnEnd: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  constructor(
    private readonly env: SpreadsheetEnv,
    private readonly sheet: RangeSheet,
    private readonly grid: GridBox,
  ) {
    // Google's event ranges serialise to these four fields (JSON.stringify(e.range)).
    this.columnStart = grid.column;
    this.columnEnd = grid.column + grid.numColumns - 1;
    this.rowStart = grid.row;
    this.rowEnd = grid.row + grid.numRows - 1;
  }
  private read(render: 'value' | 'display' | 'formula'): CellValue[][] {
    return this.env.call('range.read', this.sheet.getParent().getId(), this.grid, render);
  }
  getValues() {
    return this.env.toScript(
      this.read('value').map((row) => row.map((v) => toScriptValue(v, this.env.timeZone))),
    );
  }
  getDisplayValues() {
    return this.env.toScript(this.read('display'));
  }
  getFormulas() {
    return this.env.toScript(
      this.read('formula').map((row) =>
        row.map((v) => (typeof v === 'string' && v.startsWith('=') ? v : '')),
      ),
    );
  }
  getValue() {
    return toScriptValue(this.cell().read('value')[0]?.[0] ?? '', this.env.timeZone);
  }
  getDisplayValue() {
    return String(this.cell().read('display')[0]?.[0] ?? '');
  }
  setValues(values: unknown[][]) {
    const rows = Array.from(values ?? []);
    if (rows.length !== this.grid.numRows) {
      throw new ScriptException(
        `The number of rows in the data does not match the number of rows in the range. The data has ${rows.length} but the range has ${this.grid.numRows}.`,
      );
    }
    const converted = rows.map((row) => {
      const cells = Array.from(row ?? []);
      if (cells.length !== this.grid.numColumns) {
        throw new ScriptException(
          `The number of columns in the data does not match the number of columns in the range. The data has ${cells.length} but the range has ${this.grid.numColumns}.`,
        );
      }
      return cells.map(fromScriptValue);
    });
    this.env.call('range.write', this.sheet.getParent().getId(), this.grid, converted);
    return this;
  }
  setValue(value: unknown) {
    const values = Array.from({ length: this.grid.numRows }, () =>
      Array.from({ length: this.grid.numColumns }, () => value),
    );
    return this.setValues(values);
  }
  clearContent() {
    this.env.call('range.clear', this.sheet.getParent().getId(), this.grid);
    return this;
  }
  clear() {
    return this.clearContent();
  }
  getRow() {
    return this.grid.row;
  }
  getColumn() {
    return this.grid.column;
  }
  getLastRow() {
    return this.rowEnd;
  }
  getLastColumn() {
    return this.columnEnd;
  }
  getNumRows() {
    return this.grid.numRows;
  }
  getNumColumns() {
    return this.grid.numColumns;
  }
  getHeight() {
    return this.grid.numRows;
  }
  getWidth() {
    return this.grid.numColumns;
  }
  getGridId() {
    return this.grid.sheetId;
  }
  getA1Notation() {
    return formatA1(this.grid.row, this.grid.column, this.grid.numRows, this.grid.numColumns);
  }
  getSheet() {
    return this.sheet;
  }
  getCell(row: number, column: number) {
    return this.sheet.getRange(this.grid.row + row - 1, this.grid.column + column - 1);
  }
  offset(rowOffset: number, columnOffset: number, numRows?: number, numColumns?: number) {
    return this.sheet.getRange(
      this.grid.row + rowOffset,
      this.grid.column + columnOffset,
      numRows ?? this.grid.numRows,
      numColumns ?? this.grid.numColumns,
    );
  }
  protect(): Protection<Range> {
    return createProtection(this.env, this.grid, () => this);
  }
  private cell(): Range {
    return this.grid.numRows === 1 && this.grid.numColumns === 1 ? this : this.getCell(1, 1);
  }
  /** "Sets the note to the given value." An empty note or null removes it (Range.setNote). */
  setNote(note: unknown) {
    const text = note === null || note === undefined ? null : String(note);
    this.env.call('range.decorate', this.sheet.getParent().getId(), this.grid, { note: text || null });
    return this;
  }
  /**
   * "Sets the background color of all cells in the range in CSS notation (such as '#ffffff' or
   * 'white')"; null resets it (Range.setBackground). Hex notation only here: a colour name is
   * refused, so a script relying on one fails visibly rather than being drawn wrong.
   */
  setBackground(color: unknown) {
    const background = color === null || color === undefined ? null : cssColor(String(color));
    this.env.call('range.decorate', this.sheet.getParent().getId(), this.grid, { background });
    return this;
  }
  // Other formatting is not modelled; these keep scripts that style their cells running.
  setFontWeight() {
    return this;
  }
  setNumberFormat() {
    return this;
  }
}

/** `#rgb` or `#rrggbb` as the API's Color (components 0-1). */
function cssColor(css: string): { red: number; green: number; blue: number } {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(css.trim())?.[1];
  if (!hex) throw new ScriptException(`Unsupported color "${css}": the local sheet takes #rgb or #rrggbb.`);
  const full = hex.length === 3 ? [...hex].map((d) => d + d).join('') : hex;
  const part = (i: number) => Number.parseInt(full.slice(i, i + 2), 16) / 255;
  return { red: part(0), green: part(2), blue: part(4) };
}
