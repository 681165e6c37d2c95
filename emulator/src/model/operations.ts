/**
 * The mutations both the Sheets API and user actions perform, each validating its input with
 * Google's wording and reporting what it changed through `emit`. Call them inside
 * `SpreadsheetStore.mutate`, which makes them atomic and tags their events with a source.
 */
import type { GridRange } from './a1.ts';
import type { CellValue } from './cell.ts';
import { invalidArgument } from './errors.ts';
import { shiftFormulaReferences } from './formula-references.ts';
import type { Dimension, DimensionMeta, Sheet } from './sheet.ts';
import { effective, gridRange, requireSheet } from './sheet-lookup.ts';
import type { BoundedRange, Spreadsheet } from './spreadsheet.ts';
import type { Emit } from './store.ts';
import { clearValues, type WriteOptions, type WriteResult, writeValues } from './values.ts';

export { effective, gridRange, requireSheet } from './sheet-lookup.ts';

export interface DimensionRange {
  sheetId: number;
  dimension: Dimension;
  startIndex?: number;
  endIndex?: number;
}

/** Writes values at an A1 range (values.update, a user edit or paste). */
export function writeA1(
  spreadsheet: Spreadsheet,
  emit: Emit,
  a1: string,
  values: (CellValue | null | undefined)[][],
  options: Omit<WriteOptions, 'requestedRange'>,
): WriteResult {
  const bounded = writeTarget(spreadsheet, a1);
  return writeBounded(spreadsheet, emit, bounded, values, { ...options, requestedRange: a1 });
}

/**
 * Where a write to an A1 range may go. A single cell is only the anchor of the write (values
 * spread right and down from it); an open side (`A:B`, `A2:Z`) is unbounded; otherwise values
 * must fit inside the range.
 */
export function writeTarget(
  spreadsheet: Spreadsheet,
  a1: string,
): BoundedRange & { openRows: boolean; openColumns: boolean } {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  const bounded = spreadsheet.bound(sheet, range);
  const singleCell =
    bounded.endRowIndex - bounded.startRowIndex === 1 &&
    bounded.endColumnIndex - bounded.startColumnIndex === 1;
  return {
    ...bounded,
    openRows: singleCell || range.endRowIndex === undefined,
    openColumns: singleCell || range.endColumnIndex === undefined,
  };
}

export function writeBounded(
  spreadsheet: Spreadsheet,
  emit: Emit,
  range: BoundedRange & { openRows?: boolean; openColumns?: boolean },
  values: (CellValue | null | undefined)[][],
  options: WriteOptions,
): WriteResult {
  const { sheet } = range;
  const oldValue = effective(spreadsheet, sheet, sheet.getCell(range.startRowIndex, range.startColumnIndex));
  const result = writeValues(spreadsheet, range, values, options);
  const { written } = result;
  if (result.updatedCells === 0) return result;
  const single =
    result.updatedCells === 1 &&
    written.endRowIndex - written.startRowIndex === 1 &&
    written.endColumnIndex - written.startColumnIndex === 1;
  emit({
    kind: 'values',
    sheetId: sheet.sheetId,
    range: gridRange(written),
    ...(single
      ? {
          oldValue,
          newValue: effective(
            spreadsheet,
            sheet,
            sheet.getCell(written.startRowIndex, written.startColumnIndex),
          ),
        }
      : {}),
  });
  return result;
}

/** Clears values at an A1 range; returns the bounded range cleared (values.clear's clearedRange). */
export function clearA1(spreadsheet: Spreadsheet, emit: Emit, a1: string): BoundedRange {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  const bounded = spreadsheet.bound(sheet, range);
  if (clearValues(bounded) > 0) emit({ kind: 'clear', sheetId: sheet.sheetId, range: gridRange(bounded) });
  return bounded;
}

function dimensionSpan(sheet: Sheet, range: DimensionRange, label: string): { start: number; end: number } {
  const size = range.dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  const start = range.startIndex ?? 0;
  const end = range.endIndex ?? size;
  if (start < 0 || end < start)
    throw invalidArgument(`Invalid ${label}: startIndex must be less than endIndex.`);
  return { start, end };
}

function checkDimension(dimension: string | undefined): Dimension {
  if (dimension !== 'ROWS' && dimension !== 'COLUMNS')
    throw invalidArgument('Invalid dimension: must be ROWS or COLUMNS.');
  return dimension;
}

/** insertDimension: new rows or columns before `startIndex`. */
export function insertDimension(spreadsheet: Spreadsheet, emit: Emit, range: DimensionRange): void {
  const sheet = requireSheet(spreadsheet, range.sheetId);
  const dimension = checkDimension(range.dimension);
  const { start, end } = dimensionSpan(sheet, range, 'insertDimension');
  const size = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  if (start > size) {
    throw invalidArgument(
      `Cannot insert ${dimension === 'ROWS' ? 'rows' : 'columns'} at index ${start}: the sheet has only ${size}.`,
    );
  }
  const count = end - start;
  if (count === 0) return;
  spreadsheet.checkCellLimit(count * (dimension === 'ROWS' ? sheet.columnCount : sheet.rowCount));
  sheet.insertDimension(dimension, start, count);
  shiftFormulaReferences(spreadsheet, { sheet, dimension, start, delta: count });
  emit({
    kind: 'insertDimension',
    sheetId: sheet.sheetId,
    dimension,
    range: dimensionGridRange(sheet, dimension, start, end),
  });
}

/** appendDimension: rows or columns added at the end. */
export function appendDimension(
  spreadsheet: Spreadsheet,
  emit: Emit,
  sheetId: number,
  dimension: Dimension,
  length: number,
): void {
  const sheet = requireSheet(spreadsheet, sheetId);
  if (!(length > 0)) throw invalidArgument('Invalid requests[0].appendDimension: length must be positive.');
  const start = checkDimension(dimension) === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  insertDimension(spreadsheet, emit, { sheetId, dimension, startIndex: start, endIndex: start + length });
}

export function deleteDimension(spreadsheet: Spreadsheet, emit: Emit, range: DimensionRange): void {
  const sheet = requireSheet(spreadsheet, range.sheetId);
  const dimension = checkDimension(range.dimension);
  const { start, end } = dimensionSpan(sheet, range, 'deleteDimension');
  const size = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  if (end > size) {
    throw invalidArgument(
      `Range ('${sheet.title}'!${dimension === 'ROWS' ? `${start + 1}:${end}` : `${start}:${end}`}) exceeds grid limits. Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`,
    );
  }
  if (start === 0 && end === size) {
    throw invalidArgument(
      `You can't delete all the ${dimension === 'ROWS' ? 'rows' : 'columns'} on the sheet.`,
    );
  }
  if (end === start) return;
  sheet.deleteDimension(dimension, start, end);
  shiftFormulaReferences(spreadsheet, { sheet, dimension, start, delta: start - end });
  emit({
    kind: 'deleteDimension',
    sheetId: sheet.sheetId,
    dimension,
    range: dimensionGridRange(sheet, dimension, start, end),
  });
}

export function moveDimension(
  spreadsheet: Spreadsheet,
  emit: Emit,
  source: DimensionRange,
  destinationIndex: number,
): void {
  const sheet = requireSheet(spreadsheet, source.sheetId);
  const dimension = checkDimension(source.dimension);
  const { start, end } = dimensionSpan(sheet, source, 'moveDimension');
  const size = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  if (end > size || destinationIndex < 0 || destinationIndex > size) {
    throw invalidArgument(
      `Invalid moveDimension: index out of range (the sheet has ${size} ${dimension.toLowerCase()}).`,
    );
  }
  sheet.moveDimension(dimension, start, end, destinationIndex);
  emit({
    kind: 'moveDimension',
    sheetId: sheet.sheetId,
    dimension,
    range: dimensionGridRange(sheet, dimension, start, end),
    destinationIndex,
  });
}

export function updateDimensionProperties(
  spreadsheet: Spreadsheet,
  emit: Emit,
  range: DimensionRange,
  properties: DimensionMeta,
): void {
  const sheet = requireSheet(spreadsheet, range.sheetId);
  const dimension = checkDimension(range.dimension);
  const { start, end } = dimensionSpan(sheet, range, 'updateDimensionProperties');
  sheet.setDimensionMeta(
    dimension,
    start,
    Math.min(end, dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount),
    properties,
  );
  emit({
    kind: 'dimensionProperties',
    sheetId: sheet.sheetId,
    dimension,
    range: dimensionGridRange(sheet, dimension, start, end),
  });
}

function dimensionGridRange(sheet: Sheet, dimension: Dimension, start: number, end: number): GridRange {
  return dimension === 'ROWS'
    ? { sheetId: sheet.sheetId, startRowIndex: start, endRowIndex: end }
    : { sheetId: sheet.sheetId, startColumnIndex: start, endColumnIndex: end };
}

export { type SortSpec, sortRange } from './sort-range.ts';
