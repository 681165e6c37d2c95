/**
 * What the browser grid reads: a spreadsheet's tabs, and a window of rows of one tab. A cell
 * comes as its formatted text, plus the text to edit when that differs (a formula, or a number
 * shown with a format), so the grid never needs a render engine of its own.
 */
import type { Cell } from '../model/cell.ts';
import { gridWidget } from '../model/data-validation.ts';
import { invalidArgument } from '../model/errors.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { renderCell } from '../model/values.ts';

type GridCell = [string] | [string, string] | [string, string, CellExtras];

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
 * empty; a cell with a checkbox or dropdown rule, a note or a background colour is
 * `[text, editText, extras]` (CellExtras).
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
        const empty = !cell || (cell.value === undefined && cell.formula === undefined);
        const extras = cell && cellExtras(cell);
        if (empty) return extras ? ['', '', extras] : null;
        const text = String(renderCell(spreadsheet, sheet, cell));
        const edit = extras?.widget
          ? text
          : (cell.formula ??
            String(renderCell(spreadsheet, sheet, cell, { valueRenderOption: 'UNFORMATTED_VALUE' })));
        if (extras) return [text, edit, extras];
        return edit === text ? [text] : [text, edit];
      }),
    );
  }
  return { sheetId, start, rows, rowCount: sheet.rowCount, dataRows: sheet.dataExtent().rows };
}

/** What the grid draws besides the text: a rule's checkbox or dropdown, the note, the fill. */
interface CellExtras {
  widget?: NonNullable<ReturnType<typeof gridWidget>>;
  note?: string;
  /** A CSS colour from userEnteredFormat.backgroundColor (or backgroundColorStyle.rgbColor). */
  background?: string;
}

function cellExtras(cell: Cell): CellExtras | undefined {
  const widget = gridWidget(cell.dataValidation);
  const background = cssColor(
    (cell.format?.backgroundColorStyle as { rgbColor?: Color } | undefined)?.rgbColor ??
      (cell.format?.backgroundColor as Color | undefined),
  );
  if (!widget && !cell.note && !background) return undefined;
  return {
    ...(widget ? { widget } : {}),
    ...(cell.note ? { note: cell.note } : {}),
    ...(background ? { background } : {}),
  };
}

/** The API's Color: red, green, blue (and alpha) in [0, 1], a missing member being 0. */
interface Color {
  red?: number;
  green?: number;
  blue?: number;
}

function cssColor(color: Color | undefined): string | undefined {
  if (!color || typeof color !== 'object') return undefined;
  const byte = (value: unknown) => Math.round(Math.min(1, Math.max(0, Number(value) || 0)) * 255);
  const [r, g, b] = [byte(color.red), byte(color.green), byte(color.blue)];
  // White is Sheets' default fill: not worth drawing.
  return r === 255 && g === 255 && b === 255 ? undefined : `rgb(${r}, ${g}, ${b})`;
}

function hiddenIndexes(meta: ({ hiddenByUser?: boolean } | undefined)[]): number[] {
  const hidden: number[] = [];
  meta.forEach((m, i) => {
    if (m?.hiddenByUser) hidden.push(i);
  });
  return hidden;
}
