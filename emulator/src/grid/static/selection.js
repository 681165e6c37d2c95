// The grid's selection: the active cell (`sel`), the cell the selection was started from
// (`anchor`), and whether whole rows or whole columns were picked from their headers. Whole rows
// and columns are sent as `2:3` and `B:C`, so they carry hidden cells with them, as in Sheets.
import { letters, quoted } from './sheet-window.js';

/** A fresh selection of one cell. */
export const cellSelection = (r, c) => ({ sel: { r, c }, anchor: { r, c }, kind: 'cells' });

/**
 * The selected block: zero-based, inclusive bounds, and its kind. Whole rows start at column A
 * and whole columns at row 1 even when the active cell, which is never hidden, is further in.
 */
export function selectionBox({ sel, anchor, kind }) {
  return {
    r0: kind === 'columns' ? 0 : Math.min(sel.r, anchor.r),
    r1: Math.max(sel.r, anchor.r),
    c0: kind === 'rows' ? 0 : Math.min(sel.c, anchor.c),
    c1: Math.max(sel.c, anchor.c),
    kind,
  };
}

export const boxContains = (box, r, c) => r >= box.r0 && r <= box.r1 && c >= box.c0 && c <= box.c1;

/** The block in A1 notation on `title`'s tab. */
export function boxA1(title, box) {
  const tab = `${quoted(title)}!`;
  if (box.kind === 'rows') return `${tab}${box.r0 + 1}:${box.r1 + 1}`;
  if (box.kind === 'columns') return `${tab}${letters(box.c0)}:${letters(box.c1)}`;
  const start = `${letters(box.c0)}${box.r0 + 1}`;
  const end = `${letters(box.c1)}${box.r1 + 1}`;
  return `${tab}${start === end ? start : `${start}:${end}`}`;
}

/** The block's shown text as tab-separated lines, for the system clipboard. */
export function boxText(rows, box, lastRow, lastColumn) {
  const lines = [];
  for (let r = box.r0; r <= Math.min(box.r1, lastRow); r++) {
    const cells = [];
    for (let c = box.c0; c <= Math.min(box.c1, lastColumn); c++) cells.push(rows.cellAt(r, c)?.[0] ?? '');
    lines.push(cells.join('\t'));
  }
  return lines.join('\n');
}
