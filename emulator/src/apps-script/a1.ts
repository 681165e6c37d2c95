/**
 * A1 notation as Apps Script's `getRange(a1)` accepts it: `B2`, `A1:C3`, open `A:C` and `2:5`,
 * optionally prefixed with a (quoted) sheet name. Open ends extend to the sheet's grid.
 */
export interface ParsedA1 {
  sheetName: string | null;
  row: number;
  column: number;
  /** null: to the end of the grid. */
  endRow: number | null;
  endColumn: number | null;
}

const CELL = /^([A-Za-z]*)(\d*)$/;

export function parseA1(notation: string): ParsedA1 | null {
  let sheetName: string | null = null;
  let rest = notation.trim();
  const bang = rest.lastIndexOf('!');
  if (bang >= 0) {
    sheetName = rest.slice(0, bang);
    rest = rest.slice(bang + 1);
    if (sheetName.startsWith("'") && sheetName.endsWith("'") && sheetName.length >= 2) {
      sheetName = sheetName.slice(1, -1).replaceAll("''", "'");
    }
  }
  const [first, second, extra] = rest.split(':');
  if (first === undefined || extra !== undefined) return null;
  const start = parseCell(first);
  const end = second === undefined ? start : parseCell(second);
  if (!start || !end) return null;
  const row = start.row ?? 1;
  const column = start.column ?? 1;
  const endRow = second === undefined ? (start.row ?? null) : end.row;
  const endColumn = second === undefined ? (start.column ?? null) : end.column;
  if (start.row === null && start.column === null) return null;
  if (endRow !== null && endRow < row) return { sheetName, row: endRow, column, endRow: row, endColumn };
  if (endColumn !== null && endColumn < column)
    return { sheetName, row, column: endColumn, endRow, endColumn: column };
  return { sheetName, row, column, endRow, endColumn };
}

function parseCell(text: string): { row: number | null; column: number | null } | null {
  const match = CELL.exec(text.replaceAll('$', ''));
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const letters = match[1]!.toUpperCase();
  const column = letters ? columnNumber(letters) : null;
  const row = match[2] ? Number(match[2]) : null;
  if (row === 0) return null;
  return { row, column };
}

export function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

export function columnLetters(column: number): string {
  let letters = '';
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26))
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

/** `A1`, `A1:B2` as Apps Script's `Range.getA1Notation()` writes them (no sheet name). */
export function formatA1(row: number, column: number, numRows: number, numColumns: number): string {
  const start = `${columnLetters(column)}${row}`;
  if (numRows === 1 && numColumns === 1) return start;
  return `${start}:${columnLetters(column + numColumns - 1)}${row + numRows - 1}`;
}
