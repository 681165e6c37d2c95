// Draws the visible part of the grid: the column header, then only the rows on screen (plus a
// margin), each absolutely placed, so the cost of a frame does not depend on the sheet's size.
import { a1, escapeHtml, letters } from './sheet-window.js';

export const ROW_H = 24;
export const COL_W = 112;
const HEAD_W = 52;
const MARGIN_ROWS = 5;

export function visibleColumns(sheet) {
  const hidden = new Set(sheet.hiddenColumns);
  const cols = [];
  for (let c = 0; c < sheet.columnCount; c++) if (!hidden.has(c)) cols.push(c);
  return cols;
}

/**
 * Renders `sheet` from `rows` (a SheetWindow) into `canvas`, scrolled as `scroller` is; `sel` is
 * the active cell and `box` the selected block (selection.js).
 */
export function renderGrid({ canvas, scroller, sheet, rows, sel, box }) {
  const cols = visibleColumns(sheet);
  const hidden = new Set(sheet.hiddenColumns);
  const width = HEAD_W + cols.length * COL_W;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${ROW_H * (sheet.rowCount + 1)}px`;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_H) - MARGIN_ROWS);
  const last = Math.min(
    sheet.rowCount,
    Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_H) + MARGIN_ROWS,
  );
  rows.ensure(first, last);
  const parts = [`<div class="col-head-row" style="width:${width}px"><div class="corner"></div>`];
  for (const c of cols) {
    // A hidden column is left out; the next column's header carries Google's ◂▸ marker.
    const marker = c > 0 && hidden.has(c - 1) ? ' after-hidden' : '';
    const active = c >= box.c0 && c <= box.c1 ? ' active' : '';
    parts.push(
      `<div class="col-head${marker}${active}" data-c="${c}" style="width:${COL_W}px">${letters(c)}</div>`,
    );
  }
  parts.push('</div>');
  for (let r = first; r < last; r++) {
    const rowClass = r === 0 ? ' header-row' : '';
    parts.push(`<div class="row${rowClass}" style="top:${ROW_H * (r + 1)}px;width:${width}px">`);
    const activeRow = r >= box.r0 && r <= box.r1 ? ' active' : '';
    parts.push(`<div class="row-head${activeRow}" data-r="${r}">${r + 1}</div>`);
    for (const c of cols) {
      const cell = rows.cellAt(r, c);
      const text = cell ? cell[0] : '';
      const edit = cell ? (cell[1] ?? cell[0]) : '';
      const numeric = text !== '' && edit[0] !== '=' && !Number.isNaN(Number(edit));
      const selected =
        r === sel.r && c === sel.c
          ? ' selected'
          : r >= box.r0 && r <= box.r1 && c >= box.c0 && c <= box.c1
            ? ' in-range'
            : '';
      const extras = cell?.[2] ?? {};
      const widget = extras.widget;
      const body = widget ? widgetHtml(widget, text, r, c) : escapeHtml(text);
      // A note shows as Sheets shows it: a corner mark, the text on hover.
      const note = extras.note ? ` has-note" title="${escapeHtml(extras.note)}` : '';
      const fill = extras.background ? `;background:${extras.background}` : '';
      parts.push(
        `<div class="cell${numeric && !widget ? ' num' : ''}${selected}${note}" data-cell="${a1(r, c)}" data-r="${r}" data-c="${c}" style="width:${COL_W}px${fill}">${body}</div>`,
      );
    }
    parts.push('</div>');
  }
  canvas.innerHTML = parts.join('');
}

/** A BOOLEAN rule draws a checkbox; a ONE_OF_LIST rule with showCustomUi a dropdown (grid-data.ts). */
function widgetHtml(widget, text, r, c) {
  const at = `data-r="${r}" data-c="${c}"`;
  if (widget.checkbox) {
    const checked = text.toUpperCase() === widget.checkbox[0].toUpperCase();
    return `<input type="checkbox" class="cell-check" ${at}${checked ? ' checked' : ''} aria-label="${a1(r, c)}">`;
  }
  const options = ['', ...widget.list].map(
    (item) =>
      `<option value="${escapeHtml(item)}"${item === text ? ' selected' : ''}>${escapeHtml(item)}</option>`,
  );
  if (text !== '' && !widget.list.includes(text)) {
    options.push(`<option value="${escapeHtml(text)}" selected>${escapeHtml(text)}</option>`);
  }
  return `<select class="cell-list" ${at} aria-label="${a1(r, c)}">${options.join('')}</select>`;
}
