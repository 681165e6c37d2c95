/**
 * sortRange (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#sortrangerequest):
 * rows of the range reordered by the specs, whole cells (value, formula, format) moving
 * together. Blank cells sort last in either order; otherwise numbers come before text before
 * booleans, text compared case-insensitively; equal rows keep their order.
 */
import type { GridRange } from './a1.ts';
import type { Cell, CellValue } from './cell.ts';
import { invalidArgument } from './errors.ts';
import type { Row } from './sheet.ts';
import { effective, gridRange, requireSheet } from './sheet-lookup.ts';
import type { Spreadsheet } from './spreadsheet.ts';
import type { Emit } from './store.ts';

export interface SortSpec {
  dimensionIndex?: number;
  sortOrder?: 'ASCENDING' | 'DESCENDING' | 'SORT_ORDER_UNSPECIFIED';
}

export function sortRange(
  spreadsheet: Spreadsheet,
  emit: Emit,
  range: GridRange,
  sortSpecs: SortSpec[],
): void {
  const sheet = requireSheet(spreadsheet, range.sheetId);
  const bounded = spreadsheet.bound(sheet, range);
  const { startRowIndex: top, startColumnIndex: left, endColumnIndex: right } = bounded;
  const specs = sortSpecs.length ? sortSpecs : [{ dimensionIndex: left }];
  const columns = specs.map((spec) => {
    const column = spec.dimensionIndex ?? 0;
    if (column < left || column >= right) {
      throw invalidArgument(`Invalid sortRange: dimensionIndex ${column} is outside the range.`);
    }
    return column;
  });
  const descending = specs.map((spec) => spec.sortOrder === 'DESCENDING');
  const endRow = Math.min(bounded.endRowIndex, Math.max(sheet.rows.length, top));
  // Whole rows when the range spans every column: reorder row references, copy nothing.
  const wholeRows = left === 0 && right >= sheet.columnCount;
  const lines: (Row | undefined)[] = [];
  for (let r = top; r < endRow; r++) {
    const cells = sheet.rows[r];
    lines.push(wholeRows ? cells : cells?.slice(left, right));
  }
  const keyed = lines.map((line, position) => ({
    line,
    position,
    keys: columns.map((column) => sortKey(effective(spreadsheet, sheet, line?.[column - left]))),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < columns.length; i++) {
      const order = compareForSort(a.keys[i], b.keys[i], descending[i] === true);
      if (order !== 0) return order;
    }
    return a.position - b.position;
  });
  if (wholeRows) {
    keyed.forEach(({ line }, i) => {
      sheet.rows[top + i] = line;
    });
  } else {
    keyed.forEach(({ line, position }, i) => {
      if (position === i) return;
      for (let c = left; c < right; c++) {
        const cell: Cell | undefined = line?.[c - left];
        if (sheet.getCell(top + i, c) !== cell) sheet.setCell(top + i, c, cell);
      }
    });
  }
  emit({ kind: 'sortRange', sheetId: sheet.sheetId, range: gridRange(bounded) });
}

type SortKey = undefined | number | { text: string } | boolean;

/** Text compares case-insensitively; the lower-cased form is computed once per row. */
function sortKey(value: CellValue | undefined): SortKey {
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' ? { text: value.toLowerCase() } : value;
}

function compareForSort(a: SortKey, b: SortKey, descending: boolean): number {
  // Blank cells go last whatever the order.
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const rank = (v: Exclude<SortKey, undefined>) =>
    typeof v === 'number' ? 0 : typeof v === 'object' ? 1 : 2;
  let order = rank(a) - rank(b);
  if (order === 0) {
    if (typeof a === 'object' && typeof b === 'object')
      order = a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
    else order = Number(a) - Number(b);
  }
  return descending ? -order : order;
}
