/**
 * Whole-tab reads and bulk writes for attach and reconcile. SheetTab (functions/src/adapters/
 * sheets) serves the small flushes of applyToSheet; these helpers serve the bulk paths: they see
 * rows without a sync id too, and append or update many rows in few requests (payloads under
 * 2 MB, each request paced and retried by SheetsApi).
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { columnLetters, quoteTitle, rowSpanA1 } from '../adapters/sheets/a1.ts';
import { OutcomeUnknownError } from '../adapters/sheets/request-failure.ts';
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

  /**
   * The id column's values (row 2 down; `[i]` is sheet row i + 2), found by its header: two reads.
   * Undefined for a tab without an id column.
   */
  private async idsOnTab(): Promise<{ idColumn: number; ids: string[] } | undefined> {
    const header = await this.api.call('read', 'values.get', () =>
      this.api.client.spreadsheets.values.get({
        spreadsheetId: this.spreadsheetId,
        range: `${quoteTitle(this.title)}!1:1`,
        valueRenderOption: 'UNFORMATTED_VALUE',
      }),
    );
    const idColumn = (header.values?.[0] ?? []).map((h) => String(h ?? '').trim()).indexOf(ID_HEADER);
    if (idColumn < 0) return undefined;
    return { idColumn, ids: (await this.readColumn(idColumn)).map((id) => String(id ?? '')) };
  }

  /**
   * Appends rows (values in header order, each with its sync id) with appendCells, in requests
   * under 2 MB. A request whose outcome is unknown is not sent again as it was (it would append
   * its rows twice): the id column is read and only the rows whose ids are missing are sent.
   */
  async appendRows(sheetId: number, rows: SheetValue[][]): Promise<number> {
    let requests = 0;
    const data = rows.map((values) => ({ values: values.map(cellData) }));
    let offset = 0;
    for (const chunk of chunksUnder(data, MAX_PAYLOAD_BYTES)) {
      let pending = chunk.map((row, i) => ({ row, values: rows[offset + i]! }));
      offset += chunk.length;
      for (let round = 1; pending.length > 0; round++) {
        try {
          const body = pending.map((p) => p.row);
          await this.api.call('write', 'spreadsheets.batchUpdate', () =>
            this.api.client.spreadsheets.batchUpdate({
              spreadsheetId: this.spreadsheetId,
              requestBody: {
                requests: [{ appendCells: { sheetId, rows: body, fields: 'userEnteredValue' } }],
              },
            }),
          );
          requests++;
          break;
        } catch (error) {
          if (!(error instanceof OutcomeUnknownError) || round >= this.api.maxAttempts) throw error;
          await this.api.backoff(round - 1);
          const found = await this.idsOnTab();
          // A row without an id cannot be found again: stop rather than append it twice.
          if (!found || pending.some((p) => String(p.values[found.idColumn] ?? '') === '')) throw error;
          const landed = new Set(found.ids);
          pending = pending.filter((p) => !landed.has(String(p.values[found.idColumn])));
        }
      }
    }
    return requests;
  }

  /**
   * Writes single cells (1-based row, zero-based column), RAW, in requests under 2 MB. Values at
   * fixed places, sent twice, write the same: such a request is retried as it is (attach and
   * reconcile prove the rows' places by id just before, SHEETSYNC_E506).
   */
  async writeCells(
    cells: ReadonlyArray<{ row: number; column: number; value: SheetValue }>,
  ): Promise<number> {
    let requests = 0;
    const data: sheets_v4.Schema$ValueRange[] = cells.map((c) => ({
      range: rowSpanA1(this.title, c.row, c.column, c.column),
      values: [[c.value ?? '']],
    }));
    for (const chunk of chunksUnder(data, MAX_PAYLOAD_BYTES)) {
      await this.api.call(
        'write',
        'values.batchUpdate',
        () =>
          this.api.client.spreadsheets.values.batchUpdate({
            spreadsheetId: this.spreadsheetId,
            requestBody: { valueInputOption: 'RAW', data: chunk },
          }),
        { idempotent: true },
      );
      requests++;
    }
    return requests;
  }

  /**
   * Deletes rows (1-based) bottom-up, so earlier indexes stay valid. The ids the rows hold are
   * read first: after a request whose outcome is unknown, the rows whose ids are still on the
   * tab are deleted where they are now, and no other (sent again as it was, a delete that landed
   * would take the rows that moved up into the deleted ones' places).
   */
  async deleteRows(sheetId: number, rows: number[]): Promise<void> {
    if (rows.length === 0) return;
    const before = await this.idsOnTab();
    let targets = rows.map((row) => ({ row, id: before?.ids[row - 2] ?? '' }));
    for (let round = 1; targets.length > 0; round++) {
      try {
        const sorted = targets.map((t) => t.row).sort((a, b) => b - a);
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
        return;
      } catch (error) {
        if (!(error instanceof OutcomeUnknownError) || round >= this.api.maxAttempts) throw error;
        if (targets.some((t) => t.id === '')) throw error;
        await this.api.backoff(round - 1);
        const now = await this.idsOnTab();
        if (!now) throw error;
        const rowOf = new Map<string, number>();
        const twice = new Set<string>();
        for (const [i, id] of now.ids.entries()) {
          if (rowOf.has(id)) twice.add(id);
          else rowOf.set(id, i + 2);
        }
        // An id on two rows now (a person pasted a copy): which one to delete is not known.
        if (targets.some((t) => twice.has(t.id))) throw error;
        targets = targets.filter((t) => rowOf.has(t.id)).map((t) => ({ ...t, row: rowOf.get(t.id)! }));
      }
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
