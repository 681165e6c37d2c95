/**
 * Reading and writing cell values over ranges, with the API's render and input options
 * (https://developers.google.com/sheets/api/reference/rest/v4/ValueRenderOption,
 * .../DateTimeRenderOption, .../ValueInputOption, .../Dimension).
 */
import { columnLetters, exceedsGridLimits, formatA1 } from './a1.ts';
import type { Cell, CellValue } from './cell.ts';
import { invalidArgument } from './errors.ts';
import { evaluateCell } from './formula.ts';
import { formatValue } from './number-format.ts';
import type { Sheet } from './sheet.ts';
import type { BoundedRange, Spreadsheet } from './spreadsheet.ts';
import { parseRaw, parseUserEntered } from './user-input.ts';

export type ValueRenderOption = 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE' | 'FORMULA';
export type DateTimeRenderOption = 'SERIAL_NUMBER' | 'FORMATTED_STRING';
export type MajorDimension = 'ROWS' | 'COLUMNS';
export type ValueInputOption = 'RAW' | 'USER_ENTERED';

export interface RenderOptions {
  valueRenderOption?: ValueRenderOption;
  dateTimeRenderOption?: DateTimeRenderOption;
}

export interface ValueRange {
  range: string;
  majorDimension: MajorDimension;
  values?: CellValue[][];
}

const dateTypes = new Set(['DATE', 'TIME', 'DATE_TIME']);

/** One cell as the values API returns it; '' for an empty cell. */
export function renderCell(
  spreadsheet: Spreadsheet,
  sheet: Sheet,
  cell: Cell | undefined,
  options: RenderOptions = {},
): CellValue {
  if (!cell) return '';
  const render = options.valueRenderOption ?? 'FORMATTED_VALUE';
  if (render === 'FORMULA' && cell.formula !== undefined) return cell.formula;
  let value: CellValue;
  if (cell.formula === undefined) {
    // The hot path of a 100k-row read: a plain value, no allocation.
    if (cell.value === undefined) return '';
    value = cell.value;
  } else {
    const effective = evaluateCell(spreadsheet, sheet, cell);
    if (effective === undefined) return '';
    if ('error' in effective) return effective.error;
    value = effective.value;
  }
  const numberFormat = cell.format?.numberFormat;
  if (render === 'FORMATTED_VALUE') {
    return typeof value === 'string' && numberFormat?.type !== 'TEXT'
      ? value
      : formatValue(value, numberFormat);
  }
  // "Only applies if valueRenderOption is not FORMATTED_VALUE"; SERIAL_NUMBER is the default.
  if (
    typeof value === 'number' &&
    options.dateTimeRenderOption === 'FORMATTED_STRING' &&
    numberFormat &&
    dateTypes.has(numberFormat.type)
  ) {
    return formatValue(value, numberFormat);
  }
  return value;
}

/**
 * Reads a bounded range. Google omits trailing empty rows and, per row, trailing empty cells;
 * `values` is absent when nothing is left ("Empty trailing rows and columns are omitted").
 */
export function readValues(
  spreadsheet: Spreadsheet,
  range: BoundedRange,
  options: RenderOptions & { majorDimension?: MajorDimension } = {},
): ValueRange {
  const { sheet } = range;
  const majorDimension = options.majorDimension ?? 'ROWS';
  const result: ValueRange = { range: formatA1(sheet.title, range), majorDimension };
  const endRow = Math.min(range.endRowIndex, sheet.rows.length);
  const grid: CellValue[][] = [];
  for (let r = range.startRowIndex; r < endRow; r++) {
    const cells = sheet.rows[r];
    const line: CellValue[] = [];
    if (cells) {
      const endColumn = Math.min(range.endColumnIndex, cells.length);
      for (let c = range.startColumnIndex; c < endColumn; c++) {
        line.push(renderCell(spreadsheet, sheet, cells[c], options));
      }
      trimLine(line);
    }
    grid.push(line);
  }
  let values = majorDimension === 'ROWS' ? grid : transpose(grid);
  if (majorDimension === 'COLUMNS') for (const line of values) trimLine(line);
  let n = values.length;
  while (n > 0 && values[n - 1]?.length === 0) n--;
  values = values.slice(0, n);
  if (values.length > 0) result.values = values;
  return result;
}

function trimLine(line: CellValue[]): void {
  let n = line.length;
  while (n > 0 && line[n - 1] === '') n--;
  line.length = n;
}

function transpose(grid: CellValue[][]): CellValue[][] {
  let width = 0;
  for (const line of grid) width = Math.max(width, line.length);
  const out: CellValue[][] = [];
  for (let c = 0; c < width; c++) out.push(grid.map((line) => line[c] ?? ''));
  return out;
}

export interface WriteOptions {
  valueInputOption: ValueInputOption;
  majorDimension?: MajorDimension;
  /** The range as requested, for the "Requested writing within range" error. */
  requestedRange?: string;
  /**
   * Add rows and columns when the values pass the grid's end, as values.append and a paste in
   * the UI do. Without it such a write fails with "exceeds grid limits", as values.update does.
   */
  growGrid?: boolean;
}

export interface WriteResult {
  /** The bounding box of the written values (Google's updatedRange). */
  written: BoundedRange;
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
}

/**
 * Writes `values` with their top-left corner at the range's start. `null` (or a missing value)
 * skips a cell and `''` clears it: "null values will be skipped. To set a cell to an empty
 * value, set the string value to an empty string" (ValueRange.values). The grid grows to fit,
 * within the 10M-cell cap. When the range is bounded, values must fit inside it.
 */
export function writeValues(
  spreadsheet: Spreadsheet,
  range: BoundedRange & { openRows?: boolean; openColumns?: boolean },
  input: (CellValue | null | undefined)[][],
  options: WriteOptions,
): WriteResult {
  const { sheet } = range;
  const byRows = (options.majorDimension ?? 'ROWS') === 'ROWS';
  const lines = input.length;
  let width = 0;
  for (const line of input) width = Math.max(width, line?.length ?? 0);
  const height = byRows ? lines : width;
  const breadth = byRows ? width : lines;
  const limitRows = range.openRows ? Number.POSITIVE_INFINITY : range.endRowIndex - range.startRowIndex;
  const limitColumns = range.openColumns
    ? Number.POSITIVE_INFINITY
    : range.endColumnIndex - range.startColumnIndex;
  const label = options.requestedRange ?? formatA1(sheet.title, range);
  if (height > limitRows) {
    throw invalidArgument(
      `Requested writing within range [${label}], but tried writing to row [${range.startRowIndex + height}]`,
    );
  }
  if (breadth > limitColumns) {
    throw invalidArgument(
      `Requested writing within range [${label}], but tried writing to column [${columnLetters(range.startColumnIndex + breadth - 1)}]`,
    );
  }
  const needRows = range.startRowIndex + height;
  const needColumns = range.startColumnIndex + breadth;
  if (!options.growGrid && (needRows > sheet.rowCount || needColumns > sheet.columnCount)) {
    throw exceedsGridLimits(sheet, {
      startRowIndex: range.startRowIndex,
      endRowIndex: range.startRowIndex + Math.max(height, 1),
      startColumnIndex: range.startColumnIndex,
      endColumnIndex: range.startColumnIndex + Math.max(breadth, 1),
    });
  }
  growToFit(spreadsheet, sheet, needRows, needColumns);
  const parse = options.valueInputOption === 'RAW' ? parseRaw : parseUserEntered;
  // Counted per line and per position rather than per cell: this loop runs 10^5..10^6 times.
  const touchedPositions = new Uint8Array(breadth);
  let touchedLines = 0;
  let updatedCells = 0;
  for (let i = 0; i < lines; i++) {
    const line = input[i] ?? [];
    let touched = false;
    for (let j = 0; j < line.length; j++) {
      const value = line[j];
      if (value === null || value === undefined) continue;
      const row = range.startRowIndex + (byRows ? i : j);
      const column = range.startColumnIndex + (byRows ? j : i);
      const parsed = parse(value);
      const before = sheet.getCell(row, column);
      // Typing over a cell keeps its formatting unless the entry brings its own (a date, a %).
      let cell = parsed && before?.format && !parsed.format ? { ...parsed, format: before.format } : parsed;
      // A written value keeps the cell's note and validation rule (they are the cell's, not the
      // value's): values.update and typing change neither.
      if (before?.note || before?.dataValidation) {
        cell = withoutUndefined({ ...cell, note: before.note, dataValidation: before.dataValidation });
      }
      sheet.setCell(row, column, cell);
      touched = true;
      touchedPositions[j] = 1;
      updatedCells++;
    }
    if (touched) touchedLines++;
  }
  let touchedAcross = 0;
  for (const flag of touchedPositions) touchedAcross += flag;
  const touchedRows = { size: byRows ? touchedLines : touchedAcross };
  const touchedColumns = { size: byRows ? touchedAcross : touchedLines };
  return {
    written: {
      sheet,
      startRowIndex: range.startRowIndex,
      endRowIndex: range.startRowIndex + Math.max(height, 1),
      startColumnIndex: range.startColumnIndex,
      endColumnIndex: range.startColumnIndex + Math.max(breadth, 1),
    },
    updatedRows: touchedRows.size,
    updatedColumns: touchedColumns.size,
    updatedCells,
  };
}

/** Adds rows and columns so the grid holds `rows` x `columns`, within the 10M-cell cap. */
export function growToFit(spreadsheet: Spreadsheet, sheet: Sheet, rows: number, columns: number): void {
  const addRows = Math.max(0, rows - sheet.rowCount);
  const addColumns = Math.max(0, columns - sheet.columnCount);
  if (addRows === 0 && addColumns === 0) return;
  spreadsheet.checkCellLimit(
    (sheet.rowCount + addRows) * (sheet.columnCount + addColumns) - sheet.rowCount * sheet.columnCount,
  );
  sheet.properties.rowCount += addRows;
  sheet.properties.columnCount += addColumns;
}

/** Clears values and formulas, keeping formatting, as values.clear documents ("Only values are cleared"). */
export function clearValues(range: BoundedRange): number {
  const { sheet } = range;
  let cleared = 0;
  const endRow = Math.min(range.endRowIndex, sheet.rows.length);
  for (let r = range.startRowIndex; r < endRow; r++) {
    const cells = sheet.rows[r];
    if (!cells) continue;
    const endColumn = Math.min(range.endColumnIndex, cells.length);
    for (let c = range.startColumnIndex; c < endColumn; c++) {
      const cell = cells[c];
      if (!cell) continue;
      cleared++;
      sheet.setCell(
        r,
        c,
        cell.format || cell.note || cell.dataValidation
          ? withoutUndefined({ format: cell.format, note: cell.note, dataValidation: cell.dataValidation })
          : undefined,
      );
    }
  }
  return cleared;
}

function withoutUndefined<T extends object>(cell: T): T {
  for (const key of Object.keys(cell) as (keyof T)[]) if (cell[key] === undefined) delete cell[key];
  return cell;
}
