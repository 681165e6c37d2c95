/**
 * Rewriting formula references as Sheets does when the grid changes around them:
 * - rows or columns inserted or deleted: a reference at or after an insertion moves with its
 *   cell; a reference into deleted cells becomes `#REF!`; a range loses the deleted part and
 *   keeps the rest;
 * - a formula copied and pasted: its relative references move by the paste's offset, its
 *   absolute (`$`) parts stay, and a reference moved off the sheet becomes `#REF!`;
 * - a tab renamed: references naming it name the new title.
 * References in string literals are left alone. Moves and sorts do not rewrite references here
 * (README).
 */
import { columnIndex, columnLetters, quoteSheetTitle } from './a1.ts';
import type { Dimension, Sheet } from './sheet.ts';
import type { Spreadsheet } from './spreadsheet.ts';

export interface DimensionShift {
  sheet: Sheet;
  dimension: Dimension;
  /** Zero-based first index inserted or deleted. */
  start: number;
  /** Positive: that many inserted before `start`; negative: that many deleted from `start`. */
  delta: number;
}

// A string literal (kept as is) or a reference not inside a longer name or function call.
const referencePattern =
  /"(?:[^"]|"")*"|(?<![A-Za-z0-9_.$'!])((?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?(\$?[A-Za-z]{1,3})?(\$?\d+)?(?::(\$?[A-Za-z]{1,3})?(\$?\d+)?)?(?![A-Za-z0-9_(])/g;

/** Rewrites every formula of the spreadsheet that refers to the shifted sheet. */
export function shiftFormulaReferences(spreadsheet: Spreadsheet, shift: DimensionShift): void {
  for (const sheet of spreadsheet.sheets) {
    for (let r = 0; r < sheet.rows.length; r++) {
      const cells = sheet.rows[r];
      if (!cells) continue;
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c];
        if (cell?.formula === undefined) continue;
        const formula = rewriteFormula(cell.formula, sheet.title, shift);
        if (formula !== cell.formula) sheet.setCell(r, c, { ...cell, formula });
      }
    }
  }
}

export function rewriteFormula(formula: string, ownTitle: string, shift: DimensionShift): string {
  const target = shift.sheet.title.toLowerCase();
  return formula.replace(referencePattern, (match, prefix: string | undefined, c1, r1, c2, r2) => {
    if (match.startsWith('"')) return match;
    if (!isReference(c1, r1, c2, r2)) return match;
    const title = prefix ? unquote(prefix.slice(0, -1)) : ownTitle;
    if (title.toLowerCase() !== target) return match;
    const byRows = shift.dimension === 'ROWS';
    const index = (part: string | undefined): number | undefined => {
      if (!part) return undefined;
      const text = part.replace('$', '');
      return byRows ? Number(text) - 1 : columnIndex(text);
    };
    const single = !(c2 || r2);
    const startPart = byRows ? r1 : c1;
    const endPart = single ? startPart : byRows ? r2 : c2;
    let first = index(startPart);
    let last = index(endPart);
    if (first === undefined || last === undefined) return match; // whole rows or columns: unaffected
    if (shift.delta > 0) {
      if (first >= shift.start) first += shift.delta;
      if (last >= shift.start) last += shift.delta;
    } else {
      const end = shift.start - shift.delta;
      if (first >= shift.start && last < end) return '#REF!';
      if (first >= end) first += shift.delta;
      else if (first >= shift.start) first = shift.start;
      if (last >= end) last += shift.delta;
      else if (last >= shift.start) last = shift.start - 1;
    }
    const render = (part: string | undefined, value: number): string => {
      const absolute = part?.startsWith('$') ? '$' : '';
      return absolute + (byRows ? String(value + 1) : columnLetters(value));
    };
    const sheetPrefix = prefix ?? '';
    const [nc1, nr1] = byRows ? [c1 ?? '', render(r1, first)] : [render(c1, first), r1 ?? ''];
    if (single) return `${sheetPrefix}${nc1}${nr1}`;
    const [nc2, nr2] = byRows ? [c2 ?? '', render(r2, last)] : [render(c2, last), r2 ?? ''];
    return `${sheetPrefix}${nc1}${nr1}:${nc2}${nr2}`;
  });
}

/**
 * A formula pasted `rows` rows down and `columns` columns right of where it was copied
 * (negative: up, left): relative row and column parts move by the offset, `$` parts stay.
 */
export function translateFormula(formula: string, rows: number, columns: number): string {
  if (rows === 0 && columns === 0) return formula;
  return formula.replace(referencePattern, (match, prefix: string | undefined, c1, r1, c2, r2) => {
    if (match.startsWith('"') || !isReference(c1, r1, c2, r2)) return match;
    const column = (part: string | undefined): string | null | undefined => {
      if (!part) return part;
      if (part.startsWith('$')) return part;
      const index = columnIndex(part) + columns;
      return index < 0 ? null : columnLetters(index);
    };
    const row = (part: string | undefined): string | null | undefined => {
      if (!part) return part;
      if (part.startsWith('$')) return part;
      const index = Number(part) + rows;
      return index < 1 ? null : String(index);
    };
    const moved = [column(c1), row(r1), column(c2), row(r2)];
    if (moved.includes(null)) return '#REF!';
    const [nc1, nr1, nc2, nr2] = moved;
    const end = c2 || r2 ? `:${nc2 ?? ''}${nr2 ?? ''}` : '';
    return `${prefix ?? ''}${nc1 ?? ''}${nr1 ?? ''}${end}`;
  });
}

/** Rewrites every formula of the spreadsheet that names tab `from` to name `to` instead. */
export function renameFormulaReferences(spreadsheet: Spreadsheet, from: string, to: string): void {
  const target = from.toLowerCase();
  const prefixTo = `${quoteSheetTitle(to)}!`;
  for (const sheet of spreadsheet.sheets) {
    for (let r = 0; r < sheet.rows.length; r++) {
      const cells = sheet.rows[r];
      if (!cells) continue;
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c];
        if (cell?.formula === undefined) continue;
        const formula = cell.formula.replace(
          referencePattern,
          (match, prefix: string | undefined, c1, r1, c2, r2) => {
            if (match.startsWith('"') || !prefix || !isReference(c1, r1, c2, r2)) return match;
            if (unquote(prefix.slice(0, -1)).toLowerCase() !== target) return match;
            return prefixTo + match.slice(prefix.length);
          },
        );
        if (formula !== cell.formula) sheet.setCell(r, c, { ...cell, formula });
      }
    }
  }
}

/** Whether the pattern's parts make a cell, range, whole-column or whole-row reference. */
function isReference(c1?: string, r1?: string, c2?: string, r2?: string): boolean {
  if (!c1 && !r1) return false;
  return Boolean((c1 && r1) || (c2 && r2) || (c1 && c2) || (r1 && r2));
}

function unquote(title: string): string {
  return title.startsWith("'") ? title.slice(1, -1).replaceAll("''", "'") : title;
}
