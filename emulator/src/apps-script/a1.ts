/**
 * A1 notation as Apps Script's `getRange(a1)` takes it, through the model's parser (one A1
 * grammar for the whole emulator): `B2`, `A1:C3`, open `A:C`, `A2:Z` and `2:5`, optionally
 * after a (quoted) sheet name. Positions here are 1-based like Apps Script's; an open end is null
 * (to the end of the grid).
 */
import { columnLetters, parseA1 as parseModelA1 } from '../model/a1.ts';

export interface ParsedA1 {
  sheetName: string | null;
  row: number;
  column: number;
  endRow: number | null;
  endColumn: number | null;
}

/** null when the text is not a range (Apps Script then throws "Range not found"). */
export function parseA1(notation: string): ParsedA1 | null {
  let reference: ReturnType<typeof parseModelA1>;
  try {
    reference = parseModelA1(notation);
  } catch {
    return null;
  }
  const bounds = reference.bounds;
  if (!bounds) return null;
  return {
    sheetName: reference.sheetTitle ?? null,
    row: (bounds.startRowIndex ?? 0) + 1,
    column: (bounds.startColumnIndex ?? 0) + 1,
    endRow: bounds.endRowIndex ?? null,
    endColumn: bounds.endColumnIndex ?? null,
  };
}

/** `A1`, `A1:B2` as Apps Script's `Range.getA1Notation()` writes them (no sheet name). */
export function formatA1(row: number, column: number, numRows: number, numColumns: number): string {
  const start = `${columnLetters(column - 1)}${row}`;
  if (numRows === 1 && numColumns === 1) return start;
  return `${start}:${columnLetters(column + numColumns - 2)}${row + numRows - 1}`;
}
