/** A1 notation helpers for the ranges sheetsync writes (Sheets API "A1 notation"). */

/** 0 → A, 25 → Z, 26 → AA. */
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

/** A tab title quoted for A1 notation: 'My tab' with ' doubled. */
export function quoteTitle(title: string): string {
  return `'${title.replaceAll("'", "''")}'`;
}

/** `'Tab'!C5` for zero-based column and 1-based row. */
export function cellA1(title: string, column: number, row: number): string {
  return `${quoteTitle(title)}!${columnLetters(column)}${row}`;
}

/** `'Tab'!C5:F5`: one row, columns from..to inclusive (zero-based). */
export function rowSpanA1(title: string, row: number, from: number, to: number): string {
  return `${quoteTitle(title)}!${columnLetters(from)}${row}:${columnLetters(to)}${row}`;
}
