/**
 * Whole-tab reads and bulk writes for attach and reconcile. SheetTab (functions/src/adapters/
 * sheets) serves the small flushes of applyToSheet; these helpers serve the bulk paths: they see
 * rows without a sync id too, and append or update many rows in few requests (payloads under
 * 2 MB, each request paced and retried by SheetsApi).
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { columnLetters, quoteTitle, rowSpanA1 } from '../adapters/sheets/a1.ts';
import {
  chunksUnder,
  ID_HEADER,
  isBlankRow,
  MAX_PAYLOAD_BYTES,
  readTabValues,
  type SheetValue,
} from '../adapters/sheets/sheet-tab.ts';
import type { SheetsApi } from '../adapters/sheets/sheets-api.ts';

export interface Grid {
  headers: string[];
  /** Zero-based column of `_sheetsync_id`, or -1. */
  idColumn: number;
  /** Data rows (the header row excluded); `rows[i]` is sheet row i + 2. */
  rows: SheetValue[][];
}

export class SheetGrid {
  constructor(
    readonly api: SheetsApi,
    readonly spreadsheetId: string,
    readonly title: string,
  ) {}

  async sheetId(): Promise<number> {
    const meta = await this.api.call('read', 'spreadsheets.get', () =>
      this.api.client.spreadsheets.get({
        spreadsheetId: this.spreadsheetId,
        fields: 'sheets.properties(sheetId,title)',
      }),
    );
    const id = meta.sheets?.find((s) => s.properties?.title === this.title)?.properties?.sheetId;
    if (id == null) throw new Error(`spreadsheet ${this.spreadsheetId} has no tab "${this.title}"`);
    return id;
  }

  /** The whole tab in one read (UNFORMATTED_VALUE, dates as serial numbers). */
  async read(): Promise<Grid> {
    const { grid, headers } = await readTabValues(this.api, this.spreadsheetId, this.title);
    const rows = grid.slice(1);
    // Trailing empty rows are not data.
    while (rows.length > 0 && isBlankRow(rows.at(-1)!)) rows.pop();
    return { headers, idColumn: headers.indexOf(ID_HEADER), rows };
  }

  /** One column of the data rows (row 2 down) in one read; `[i]` is sheet row i + 2. */
  async readColumn(column: number): Promise<SheetValue[]> {
    const letters = columnLetters(column);
    const values = await this.api.call('read', 'values.get', () =>
      this.api.client.spreadsheets.values.get({
        spreadsheetId: this.spreadsheetId,
        range: `${quoteTitle(this.title)}!${letters}2:${letters}`,
        valueRenderOption: 'UNFORMATTED_VALUE',
        majorDimension: 'COLUMNS',
      }),
    );
    return ((values.values ?? [])[0] ?? []) as SheetValue[];
  }

  /** Appends rows (values in header order) with appendCells, in requests under 2 MB. */
  async appendRows(sheetId: number, rows: SheetValue[][]): Promise<number> {
    let requests = 0;
    const data = rows.map((values) => ({ values: values.map(cellData) }));
    for (const chunk of chunksUnder(data, MAX_PAYLOAD_BYTES)) {
      await this.api.call('write', 'spreadsheets.batchUpdate', () =>
        this.api.client.spreadsheets.batchUpdate({
          spreadsheetId: this.spreadsheetId,
          requestBody: { requests: [{ appendCells: { sheetId, rows: chunk, fields: 'userEnteredValue' } }] },
        }),
      );
      requests++;
    }
    return requests;
  }

  /** Writes single cells (1-based row, zero-based column), RAW, in requests under 2 MB. */
  async writeCells(
    cells: ReadonlyArray<{ row: number; column: number; value: SheetValue }>,
  ): Promise<number> {
    let requests = 0;
    const data: sheets_v4.Schema$ValueRange[] = cells.map((c) => ({
      range: rowSpanA1(this.title, c.row, c.column, c.column),
      values: [[c.value ?? '']],
    }));
    for (const chunk of chunksUnder(data, MAX_PAYLOAD_BYTES)) {
      await this.api.call('write', 'values.batchUpdate', () =>
        this.api.client.spreadsheets.values.batchUpdate({
          spreadsheetId: this.spreadsheetId,
          requestBody: { valueInputOption: 'RAW', data: chunk },
        }),
      );
      requests++;
    }
    return requests;
  }

  /** Deletes rows (1-based) bottom-up in one request, so earlier indexes stay valid. */
  async deleteRows(sheetId: number, rows: number[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort((a, b) => b - a);
    const requests: sheets_v4.Schema$Request[] = sorted.map((row) => ({
      deleteDimension: { range: { sheetId, dimension: 'ROWS', startIndex: row - 1, endIndex: row } },
    }));
    for (const chunk of chunksUnder(requests, MAX_PAYLOAD_BYTES)) {
      await this.api.call('write', 'spreadsheets.batchUpdate', () =>
        this.api.client.spreadsheets.batchUpdate({
          spreadsheetId: this.spreadsheetId,
          requestBody: { requests: chunk },
        }),
      );
    }
  }
}

/** RAW cell data: a string stays a string even when it starts with "=". */
function cellData(value: SheetValue): sheets_v4.Schema$CellData {
  if (value === null || value === '') return {};
  if (typeof value === 'number') return { userEnteredValue: { numberValue: value } };
  if (typeof value === 'boolean') return { userEnteredValue: { boolValue: value } };
  return { userEnteredValue: { stringValue: value } };
}
