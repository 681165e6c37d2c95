/**
 * The Apps Script host's view of the emulator's spreadsheet model. Script writes go through
 * `SpreadsheetStore.mutate` like API writes (so the grid and persistence see them) with source
 * `'api'`: neither kind fires a trigger, and only user actions do.
 */

import { type CellData, updateCells } from '../api/cell-updates.ts';
import {
  deleteDimension,
  gridRange,
  insertDimension,
  updateDimensionProperties,
  writeBounded,
} from '../model/operations.ts';
import type { Sheet } from '../model/sheet.ts';
import type { BoundedRange, Spreadsheet } from '../model/spreadsheet.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { clearValues, renderCell } from '../model/values.ts';
import { emptyScriptState, type ScriptSpreadsheetBackend, type ScriptState } from './backend.ts';
import type { CellValue, GridBox, SheetShape, WritableCellValue } from './protocol.ts';
import { formatDate } from './services/format-date.ts';

const DATE_TYPES = new Set(['DATE', 'TIME', 'DATE_TIME']);

/**
 * A script's value as typed input. A Date is written as the wall-clock text of the sheet's zone,
 * which USER_ENTERED parsing turns into a date-time serial with a date-time format, as Apps
 * Script's setValue(Date) does. A string keeps only what UTF-8 can carry: Google holds cell text as
 * UTF-8 (JSON "MUST be encoded using UTF-8", RFC 8259 §8.1; protobuf strings "must always contain
 * UTF-8 encoded" text), where a lone surrogate (half an emoji) has no encoding and becomes U+FFFD.
 */
function typedInput(value: WritableCellValue, timeZone: string): string | number | boolean {
  if (typeof value === 'object') return formatDate(value.epochMs, timeZone, 'yyyy-MM-dd HH:mm:ss');
  return typeof value === 'string' ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function createModelBackend(model: SpreadsheetStore, baseUrl: () => string): ScriptSpreadsheetBackend {
  const sheetOf = (spreadsheet: Spreadsheet, sheetId: number): Sheet => {
    const sheet = spreadsheet.sheetById(sheetId);
    if (!sheet) throw new Error('The sheet was deleted.');
    return sheet;
  };
  const bounded = (spreadsheet: Spreadsheet, box: GridBox): BoundedRange => ({
    sheet: sheetOf(spreadsheet, box.sheetId),
    startRowIndex: box.row - 1,
    endRowIndex: box.row - 1 + box.numRows,
    startColumnIndex: box.column - 1,
    endColumnIndex: box.column - 1 + box.numColumns,
  });
  const shapeOf = (spreadsheet: Spreadsheet, sheet: Sheet): SheetShape => {
    const hiddenColumns: number[] = [];
    sheet.columnMeta.forEach((meta, index) => {
      if (meta?.hiddenByUser) hiddenColumns.push(index);
    });
    return {
      sheetId: sheet.sheetId,
      title: sheet.title,
      index: spreadsheet.indexOf(sheet),
      rowCount: sheet.rowCount,
      columnCount: sheet.columnCount,
      hiddenColumns,
      hidden: sheet.properties.hidden === true,
    };
  };
  return {
    describe(spreadsheetId) {
      const spreadsheet = model.get(spreadsheetId);
      return {
        spreadsheetId,
        title: spreadsheet.properties.title,
        timeZone: spreadsheet.properties.timeZone,
        url: `${baseUrl()}/spreadsheets/${encodeURIComponent(spreadsheetId)}`,
        sheets: spreadsheet.sheets.map((sheet) => shapeOf(spreadsheet, sheet)),
      };
    },
    read(spreadsheetId, box, render) {
      const spreadsheet = model.get(spreadsheetId);
      const range = bounded(spreadsheet, box);
      const rows: CellValue[][] = [];
      for (let r = range.startRowIndex; r < range.endRowIndex; r++) {
        const line: CellValue[] = [];
        for (let c = range.startColumnIndex; c < range.endColumnIndex; c++) {
          const cell = range.sheet.getCell(r, c);
          if (render === 'display') line.push(String(renderCell(spreadsheet, range.sheet, cell)));
          else if (render === 'formula')
            line.push(renderCell(spreadsheet, range.sheet, cell, { valueRenderOption: 'FORMULA' }));
          else {
            const value = renderCell(spreadsheet, range.sheet, cell, {
              valueRenderOption: 'UNFORMATTED_VALUE',
            });
            const type = cell?.format?.numberFormat?.type;
            line.push(typeof value === 'number' && type && DATE_TYPES.has(type) ? { date: value } : value);
          }
        }
        rows.push(line);
      }
      return rows;
    },
    write(spreadsheetId, box, values) {
      const timeZone = model.get(spreadsheetId).properties.timeZone;
      const cells = values.map((row) => row.map((v) => typedInput(v, timeZone)));
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        writeBounded(spreadsheet, emit, bounded(spreadsheet, box), cells, {
          valueInputOption: 'USER_ENTERED',
        });
      });
    },
    appendRow(spreadsheetId, sheetId, values) {
      const timeZone = model.get(spreadsheetId).properties.timeZone;
      const cells = [values.map((v) => typedInput(v, timeZone))];
      // One mutation, as Google's appendRow is one operation: an execution appending at the same
      // time as another deletes rows cannot write into a row that moved.
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const sheet = sheetOf(spreadsheet, sheetId);
        const row = sheet.dataExtent().rows + 1;
        if (row > sheet.rowCount)
          insertDimension(spreadsheet, emit, {
            sheetId,
            dimension: 'ROWS',
            startIndex: row - 1,
            endIndex: row,
          });
        const box = { sheetId, row, column: 1, numRows: 1, numColumns: Math.max(cells[0]!.length, 1) };
        writeBounded(spreadsheet, emit, bounded(spreadsheet, box), cells, {
          valueInputOption: 'USER_ENTERED',
        });
      });
    },
    decorate(spreadsheetId, box, change) {
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const { sheet, ...range } = bounded(spreadsheet, box);
        const set = 'note' in change ? change.note : change.background;
        const cell =
          'note' in change
            ? { note: change.note }
            : { userEnteredFormat: { backgroundColor: change.background } };
        // As updateCells over the range: cells not given lose the masked field (a removal).
        updateCells(spreadsheet, emit, {
          range: { sheetId: sheet.sheetId, ...range },
          rows:
            set === null || set === ''
              ? []
              : Array.from({ length: box.numRows }, () => ({
                  values: Array.from({ length: box.numColumns }, () => cell as CellData),
                })),
          fields: 'note' in change ? 'note' : 'userEnteredFormat.backgroundColor',
        });
      });
    },
    clear(spreadsheetId, box) {
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const range = bounded(spreadsheet, box);
        if (clearValues(range) > 0) emit({ kind: 'clear', sheetId: box.sheetId, range: gridRange(range) });
      });
    },
    extent(spreadsheetId, sheetId) {
      const { rows, columns } = sheetOf(model.get(spreadsheetId), sheetId).dataExtent();
      return { lastRow: rows, lastColumn: columns };
    },
    insertSheet(spreadsheetId, title, index) {
      return model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const sheet = spreadsheet.addSheet({ title }, index ?? undefined);
        emit({ kind: 'addSheet', sheetId: sheet.sheetId });
        return shapeOf(spreadsheet, sheet);
      });
    },
    setSheetHidden(spreadsheetId, sheetId, hidden) {
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const sheet = sheetOf(spreadsheet, sheetId);
        const othersVisible = spreadsheet.sheets.some((s) => s !== sheet && !s.properties.hidden);
        if (hidden && !othersVisible) throw new Error("You can't hide all the sheets in a document.");
        sheet.properties.hidden = hidden;
        emit({ kind: 'sheetProperties', sheetId });
      });
    },
    dimension(spreadsheetId, sheetId, change, dimension, startIndex, count) {
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const range = { sheetId, dimension, startIndex, endIndex: startIndex + count };
        if (change === 'insert') insertDimension(spreadsheet, emit, range);
        else if (change === 'delete') deleteDimension(spreadsheet, emit, range);
        else updateDimensionProperties(spreadsheet, emit, range, { hiddenByUser: change === 'hide' });
      });
    },
    protect(spreadsheetId, target, description, warningOnly) {
      return model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        const sheet = sheetOf(spreadsheet, target.sheetId);
        const protectedRangeId = spreadsheet.nextProtectedRangeId++;
        const range = 'row' in target ? gridRange(bounded(spreadsheet, target)) : { sheetId: target.sheetId };
        sheet.protectedRanges.push({
          protectedRangeId,
          range,
          description,
          warningOnly,
          requestingUserCanEdit: true,
        });
        emit({ kind: 'protectedRange', sheetId: sheet.sheetId });
        return { protectedRangeId };
      });
    },
    updateProtection(spreadsheetId, protectedRangeId, change) {
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        for (const sheet of spreadsheet.sheets) {
          const index = sheet.protectedRanges.findIndex((p) => p.protectedRangeId === protectedRangeId);
          const current = sheet.protectedRanges[index];
          if (!current) continue;
          sheet.protectedRanges[index] = { ...current, ...change };
          emit({ kind: 'protectedRange', sheetId: sheet.sheetId });
        }
      });
    },
    removeProtection(spreadsheetId, protectedRangeId) {
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        for (const sheet of spreadsheet.sheets) {
          const kept = sheet.protectedRanges.filter((p) => p.protectedRangeId !== protectedRangeId);
          if (kept.length === sheet.protectedRanges.length) continue;
          sheet.protectedRanges = kept;
          emit({ kind: 'protectedRange', sheetId: sheet.sheetId });
        }
      });
    },
    loadScriptState(spreadsheetId) {
      return structuredClone(
        (model.get(spreadsheetId).appsScript as ScriptState | undefined) ?? emptyScriptState(),
      );
    },
    saveScriptState(spreadsheetId, state) {
      // Through mutate, so the state file saves it with the spreadsheet.
      model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
        spreadsheet.appsScript = structuredClone(state);
        emit({ kind: 'appsScript' });
      });
    },
    spreadsheetIds: () => model.list().map((s) => s.spreadsheetId),
  };
}
