/**
 * Reads of one tab through the Sheets API, all UNFORMATTED_VALUE with dates as serial numbers:
 * its properties (sheetId, grid size), the whole tab as a snapshot, a big tab's positions
 * without its values (header row and id column), and runs of rows (SheetTab.verify).
 */
import { SheetsyncError } from '../../errors.ts';
import { columnLetters, quoteTitle } from './a1.ts';
import type { SheetsApi } from './sheets-api.ts';
import { ID_HEADER, isBlankRow, type SheetValue, type TabSnapshot } from './tab-model.ts';

/** The tab's sheetId and grid size (they change rarely, and only by people). */
export interface TabProperties {
  sheetId: number;
  /** The tab's title now (a tab found by its sheetId may have been renamed). */
  title?: string;
  rowCount: number;
  columnCount: number;
}

/** Which tab: the API, the spreadsheet and the tab's title. */
export interface TabAddress {
  api: SheetsApi;
  spreadsheetId: string;
  title: string;
  /** When known (recorded at the link's first sync), the tab is found by it, whatever its title. */
  sheetId?: number;
}

/** A snapshot as read, with the rows (1-based) holding values but no id of their own. */
export interface TabRead {
  snapshot: TabSnapshot;
  otherRows: number[];
}

export async function readProperties({
  api,
  spreadsheetId,
  title,
  sheetId,
}: TabAddress): Promise<TabProperties> {
  const meta = await api.call('read', 'spreadsheets.get', () =>
    api.client.spreadsheets.get({
      spreadsheetId,
      fields: 'sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))',
    }),
  );
  const properties = meta.sheets?.find((s) =>
    sheetId === undefined ? s.properties?.title === title : s.properties?.sheetId === sheetId,
  )?.properties;
  if (!properties || properties.sheetId == null) {
    throw new SheetsyncError(
      'SHEETSYNC_E504',
      sheetId === undefined
        ? `spreadsheet ${spreadsheetId} has no tab titled "${title}"; check the link's "sheet"`
        : `spreadsheet ${spreadsheetId} has no tab with sheetId ${sheetId} (the link's tab, first titled "${title}"): was it deleted?`,
    );
  }
  return {
    sheetId: properties.sheetId,
    ...(properties.title == null ? {} : { title: properties.title }),
    rowCount: properties.gridProperties?.rowCount ?? 1000,
    columnCount: properties.gridProperties?.columnCount ?? 26,
  };
}

/**
 * The whole tab in one values.get, with its header row trimmed: SheetTab's reads and
 * attach/reconcile's (functions/src/sync-jobs/sheet-grid.ts).
 */
export async function readTabValues(
  api: SheetsApi,
  spreadsheetId: string,
  title: string,
): Promise<{ grid: SheetValue[][]; headers: string[] }> {
  const values = await api.call('read', 'values.get', () =>
    api.client.spreadsheets.values.get({
      spreadsheetId,
      range: quoteTitle(title),
      valueRenderOption: 'UNFORMATTED_VALUE',
      dateTimeRenderOption: 'SERIAL_NUMBER',
      majorDimension: 'ROWS',
    }),
  );
  const grid = (values.values ?? []) as SheetValue[][];
  return { grid, headers: (grid[0] ?? []).map((h) => String(h ?? '').trim()) };
}

/**
 * The whole tab as a snapshot. `properties` are read again (`refresh`) when the values show
 * the grid grew.
 */
export async function readSnapshot(
  tab: TabAddress,
  known: TabProperties,
  refresh: () => Promise<TabProperties>,
): Promise<TabRead> {
  let properties = known;
  const { grid, headers } = await readTabValues(tab.api, tab.spreadsheetId, tab.title);
  const idIndex = headers.indexOf(ID_HEADER);
  const rows = new Map<string, { row: number; values: SheetValue[] }>();
  const duplicateRows: number[] = [];
  const otherRows: number[] = [];
  for (let r = 1; r < grid.length; r++) {
    const id = idIndex >= 0 ? String(grid[r]?.[idIndex] ?? '') : '';
    if (id !== '' && !rows.has(id)) {
      rows.set(id, { row: r + 1, values: grid[r] ?? [] });
      continue;
    }
    if (id !== '') duplicateRows.push(r + 1);
    if (!isBlankRow(grid[r] ?? [])) otherRows.push(r + 1);
  }
  const width = grid.reduce((w, row) => Math.max(w, row.length), 0);
  if (width > properties.columnCount || grid.length > properties.rowCount) properties = await refresh();
  const snapshot: TabSnapshot = {
    sheetId: properties.sheetId,
    title: tab.title,
    columnCount: properties.columnCount,
    rowCount: properties.rowCount,
    headers,
    idColumn: idIndex >= 0 ? idIndex : null,
    rows,
    duplicateRows,
    lastRow: Math.max(1, grid.length),
  };
  return { snapshot, otherRows };
}

/**
 * A big tab's positions without its values: its header row and id column, in one
 * values.batchGet when the id column is where the last read found it, two otherwise. Every
 * row's values stay unknown until verify() reads them; so do rows holding values but no id,
 * so the positions of rows appended after them may be counted short: verify() proves each
 * row's position by its id before it is written. Undefined for a tab without an id column.
 */
export async function readPositions(
  tab: TabAddress,
  known: TabProperties,
  refresh: () => Promise<TabProperties>,
  knownIdColumn: number | undefined,
): Promise<TabRead | undefined> {
  let properties = known;
  const title = quoteTitle(tab.title);
  const idRange = (column: number) => `${title}!${columnLetters(column)}2:${columnLetters(column)}`;
  const get = (ranges: string[]) => batchGet(tab, ranges, 'COLUMNS');
  const first = await get(
    knownIdColumn === undefined ? [`${title}!1:1`] : [`${title}!1:1`, idRange(knownIdColumn)],
  );
  const headers = (first[0] ?? []).map((c) => String(c?.[0] ?? '').trim());
  const idIndex = headers.indexOf(ID_HEADER);
  if (idIndex < 0) return undefined;
  const column = idIndex === knownIdColumn ? first[1] : (await get([idRange(idIndex)]))[0];
  const ids = (column ?? [])[0] ?? [];
  const rows = new Map<string, { row: number; values: SheetValue[] }>();
  const duplicateRows: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = String(ids[i] ?? '');
    if (id === '') continue;
    if (rows.has(id)) duplicateRows.push(i + 2);
    else rows.set(id, { row: i + 2, values: [] });
  }
  if (headers.length > properties.columnCount || ids.length + 1 > properties.rowCount)
    properties = await refresh();
  return {
    snapshot: {
      sheetId: properties.sheetId,
      title: tab.title,
      columnCount: properties.columnCount,
      rowCount: properties.rowCount,
      headers,
      idColumn: idIndex,
      rows,
      duplicateRows,
      lastRow: Math.max(1, ids.length + 1),
    },
    otherRows: [],
  };
}

/** Ranges in one values.batchGet; each range's values (an absent range: none). */
export async function batchGet(
  { api, spreadsheetId }: TabAddress,
  ranges: string[],
  majorDimension: 'ROWS' | 'COLUMNS',
): Promise<SheetValue[][][]> {
  const answer = await api.call('read', 'values.batchGet', () =>
    api.client.spreadsheets.values.batchGet({
      spreadsheetId,
      ranges,
      valueRenderOption: 'UNFORMATTED_VALUE',
      dateTimeRenderOption: 'SERIAL_NUMBER',
      majorDimension,
    }),
  );
  return (answer.valueRanges ?? []).map((range) => (range.values ?? []) as SheetValue[][]);
}
