/**
 * A1 notation, as the Sheets API documents it
 * (https://developers.google.com/sheets/api/guides/concepts#cell):
 * `Sheet1!A1:B2`, `Sheet1!A:A`, `Sheet1!1:2`, `Sheet1!A5:A`, `A1:B2` (first visible sheet),
 * `Sheet1` (the whole sheet), `'My Custom Sheet'!A:A` (quoted, a quote inside doubled).
 *
 * Indexes here are zero-based and end-exclusive, like the API's GridRange; an absent bound is
 * unbounded ("open").
 */
import { invalidArgument, type SheetsApiError, unparsableRange } from './errors.ts';

export interface GridRange {
  sheetId: number;
  startRowIndex?: number;
  endRowIndex?: number;
  startColumnIndex?: number;
  endColumnIndex?: number;
}

/** A parsed A1 string before its tab is resolved against a spreadsheet. */
export interface A1Reference {
  /** The tab title, or undefined when the string names no tab (the first visible sheet). */
  sheetTitle: string | undefined;
  /** Undefined when the string is a bare tab name: the whole sheet. */
  bounds: Omit<GridRange, 'sheetId'> | undefined;
}

/** Columns up to ZZZ; Google's own maximum is 18,278 columns. */
export const maxColumns = 18_278;

const cellPattern = /^(\$?([A-Za-z]{1,3}))?(\$?([0-9]{1,8}))?$/;

interface Endpoint {
  column: number | undefined;
  row: number | undefined;
}

function parseEndpoint(text: string): Endpoint | undefined {
  const match = cellPattern.exec(text);
  if (!match || text === '') return undefined;
  const column = match[2] === undefined ? undefined : columnIndex(match[2]);
  const row = match[4] === undefined ? undefined : Number(match[4]) - 1;
  if (row !== undefined && row < 0) return undefined;
  return { column, row };
}

function parseBounds(text: string): Omit<GridRange, 'sheetId'> | undefined {
  const parts = text.split(':');
  if (parts.length > 2) return undefined;
  const start = parseEndpoint(parts[0] ?? '');
  if (!start) return undefined;
  if (parts.length === 1) {
    // A single reference must be a whole cell: `A` or `5` alone is not a range.
    if (start.column === undefined || start.row === undefined) return undefined;
    return {
      startRowIndex: start.row,
      endRowIndex: start.row + 1,
      startColumnIndex: start.column,
      endColumnIndex: start.column + 1,
    };
  }
  const end = parseEndpoint(parts[1] ?? '');
  if (!end) return undefined;
  // Columns are given at both ends (`A1:B2`, `A:C`, `A2:Z`) or at neither (`2:5`).
  if ((start.column === undefined) !== (end.column === undefined)) return undefined;
  // A row-only range needs both rows; `5:` or `:5` is nothing.
  if (start.column === undefined && (start.row === undefined || end.row === undefined)) return undefined;
  const bounds: Omit<GridRange, 'sheetId'> = {};
  if (start.column !== undefined && end.column !== undefined) {
    bounds.startColumnIndex = Math.min(start.column, end.column);
    bounds.endColumnIndex = Math.max(start.column, end.column) + 1;
  } else {
    bounds.startColumnIndex = 0;
  }
  if (start.row !== undefined && end.row !== undefined) {
    // `B2:A1` is normalised to A1:B2, as Google does.
    bounds.startRowIndex = Math.min(start.row, end.row);
    bounds.endRowIndex = Math.max(start.row, end.row) + 1;
  } else {
    // `A2:Z` is open below row 2; `A:C` and `A:C5` start at the first row.
    bounds.startRowIndex = start.row ?? 0;
    if (end.row !== undefined) bounds.endRowIndex = end.row + 1;
  }
  return bounds;
}

/** Parses an A1 string; throws Google's "Unable to parse range" for anything else. */
export function parseA1(text: string): A1Reference {
  const input = text.trim();
  if (input === '') throw unparsableRange(text);
  if (input.startsWith("'")) {
    let i = 1;
    let title = '';
    for (;;) {
      const quote = input.indexOf("'", i);
      if (quote < 0) throw unparsableRange(text);
      title += input.slice(i, quote);
      if (input[quote + 1] === "'") {
        title += "'";
        i = quote + 2;
        continue;
      }
      i = quote + 1;
      break;
    }
    if (i === input.length) return { sheetTitle: title, bounds: undefined };
    if (input[i] !== '!') throw unparsableRange(text);
    const bounds = parseBounds(input.slice(i + 1));
    if (!bounds) throw unparsableRange(text);
    return { sheetTitle: title, bounds };
  }
  const bang = input.lastIndexOf('!');
  if (bang >= 0) {
    const bounds = parseBounds(input.slice(bang + 1));
    if (!bounds || bang === 0) throw unparsableRange(text);
    return { sheetTitle: input.slice(0, bang), bounds };
  }
  const bounds = parseBounds(input);
  if (bounds) return { sheetTitle: undefined, bounds };
  return { sheetTitle: input, bounds: undefined };
}

export function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

export function columnLetters(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/**
 * Google quotes a tab title in returned ranges unless it is a plain identifier that cannot be
 * read as a cell reference ("Sheet1" stays bare, "My Sheet" and "A1" are quoted).
 */
export function quoteSheetTitle(title: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(title) && !cellPattern.test(title)) return title;
  return `'${title.replaceAll("'", "''")}'`;
}

/** Formats a bounded range the way Google echoes it: `Sheet1!A1:B2`, `Sheet1!C3` for one cell. */
export function formatA1(
  title: string,
  range: { startRowIndex: number; endRowIndex: number; startColumnIndex: number; endColumnIndex: number },
): string {
  const start = `${columnLetters(range.startColumnIndex)}${range.startRowIndex + 1}`;
  const end = `${columnLetters(range.endColumnIndex - 1)}${range.endRowIndex}`;
  const cells = start === end ? start : `${start}:${end}`;
  return `${quoteSheetTitle(title)}!${cells}`;
}

/**
 * Google's error for a range outside the grid, e.g.
 * `Range ('Lighthouse Results'!A1001) exceeds grid limits. Max rows: 1000, max columns: 121`
 * or `Range (Mass!151154:151354) exceeds grid limits. ...` (the cells as requested).
 */
export function exceedsGridLimits(
  sheet: { title: string; rowCount: number; columnCount: number },
  cells:
    | string
    | { startRowIndex: number; endRowIndex: number; startColumnIndex: number; endColumnIndex: number },
): SheetsApiError {
  const a1 =
    typeof cells === 'string' ? `${quoteSheetTitle(sheet.title)}!${cells}` : formatA1(sheet.title, cells);
  return invalidArgument(
    `Range (${a1}) exceeds grid limits. Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`,
  );
}

/** The cells part of an A1 string as given (`Sheet1!A1:B2` → `A1:B2`), or undefined for a bare tab. */
export function cellsPart(text: string): string | undefined {
  const bang = text.lastIndexOf('!');
  if (bang >= 0) return text.slice(bang + 1);
  return /^[$A-Za-z]*[$0-9]*(:[$A-Za-z]*[$0-9]*)?$/.test(text) ? text : undefined;
}
