/**
 * What the browser grid reads: a spreadsheet's tabs, and a window of rows of one tab. A cell
 * comes as its formatted text, plus the text to edit when that differs (a formula, or a number
 * shown with a format), so the grid never needs a render engine of its own.
 */
import { gridWidget } from '../model/data-validation.ts';
import { invalidArgument } from '../model/errors.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { renderCell } from '../model/values.ts';

type GridCell = [string] | [string, string] | [string, string, NonNullable<ReturnType<typeof gridWidget>>];

/** At most this many rows per window request; the grid asks for what is on screen. */
const MAX_WINDOW_ROWS = 1000;

export function describeForGrid(model: SpreadsheetStore, spreadsheetId: string) {
  const spreadsheet = model.get(spreadsheetId);
  return {
    spreadsheetId,
    title: spreadsheet.properties.title,
    sheets: spreadsheet.sheets.map((sheet) => ({
      sheetId: sheet.sheetId,
      title: sheet.title,
      hidden: sheet.properties.hidden === true,
      rowCount: sheet.rowCount,
      columnCount: sheet.columnCount,
      frozenRowCount: sheet.properties.frozenRowCount ?? 0,
      hiddenColumns: hiddenIndexes(sheet.columnMeta),
      hiddenRows: hiddenIndexes(sheet.rowMeta),
      protectedRanges: sheet.protectedRanges.map((p) => ({
        range: p.range,
        description: p.description ?? '',
      })),
    })),
  };
}

/**
 * Rows [start, end) of one tab: `cells[i][j]` is `[text]` or `[text, editText]`, or null when
 * empty; a cell with a checkbox or dropdown rule is `[text, editText, widget]` (gridWidget).
 */
export function readWindow(
  model: SpreadsheetStore,
  spreadsheetId: string,
  sheetId: number,
  start: number,
  end: number,
) {
  const spreadsheet = model.get(spreadsheetId);
  const sheet = spreadsheet.sheetById(sheetId);
  if (!sheet) throw invalidArgument(`No grid with id: ${sheetId}`);
  if (!(start >= 0) || !(end >= start)) throw invalidArgument('Invalid window: need 0 <= start <= end.');
  const last = Math.min(end, start + MAX_WINDOW_ROWS, sheet.rows.length);
  const rows: Array<Array<GridCell | null>> = [];
  for (let r = start; r < last; r++) {
    const cells = sheet.rows[r] ?? [];
    rows.push(
      Array.from(cells, (cell): GridCell | null => {
        const widget = gridWidget(cell?.dataValidation);
        const empty = !cell || (cell.value === undefined && cell.formula === undefined);
        if (widget) {
          const text = empty ? '' : String(renderCell(spreadsheet, sheet, cell));
          return [text, text, widget];
        }
        if (empty) return null;
        const text = String(renderCell(spreadsheet, sheet, cell));
        const edit =
          cell.formula ??
          String(renderCell(spreadsheet, sheet, cell, { valueRenderOption: 'UNFORMATTED_VALUE' }));
        return edit === text ? [text] : [text, edit];
      }),
    );
  }
  return { sheetId, start, rows, rowCount: sheet.rowCount, dataRows: sheet.dataExtent().rows };
}

function hiddenIndexes(meta: ({ hiddenByUser?: boolean } | undefined)[]): number[] {
  const hidden: number[] = [];
  meta.forEach((m, i) => {
    if (m?.hiddenByUser) hidden.push(i);
  });
  return hidden;
}
