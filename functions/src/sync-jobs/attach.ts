/**
 * `sheetsync attach`: a link's first sync ("read").
 *
 * - Empty sheet, rows in the table: the table is streamed with a cursor in chunks; each chunk is
 *   appended to the sheet in appendCells requests under 2 MB (paced by SheetsApi), then its row
 *   and key documents are created in bulk (VersionStore.createRows: no transactions, the rows
 *   are new) while the next chunk is read and appended. The sheet is written before the
 *   documents: a crash in between leaves sheet rows without documents, which reconcile inserts
 *   idempotently (the key is in the row), never rows that reconcile would take for deletions.
 * - Empty table, rows in the sheet: attach-from-sheet.ts.
 * - Both non-empty: reconcile under the link's policy.
 *
 * Run it before the link goes live (or with the pipeline stopped): a DB change of a row whose
 * document is not committed yet would be appended by applyToSheet as a new row.
 * Memory is bounded by one chunk of rows (plus the store's and the driver's buffers).
 */
import { randomUUID } from 'node:crypto';
import { OutcomeUnknownError } from '../adapters/sheets/request-failure.ts';
import { ID_HEADER, type SheetValue } from '../adapters/sheets/sheet-tab.ts';
import type { TableSchema } from '../adapters/table/table-schema.ts';
import type { Cells } from '../core/cell-value.ts';
import { toSheet } from '../core/coercion.ts';
import { parseColumnType } from '../core/column-type.ts';
import { syncedRowDocument } from '../core/reconcile-plan.ts';
import { SheetsyncError } from '../errors.ts';
import { applyColumnFormats } from './attach-formats.ts';
import { attachFromSheet, type SheetToTableResult } from './attach-from-sheet.ts';
import { linkColumns, type SyncDeps, syncDatabase } from './link-sync-deps.ts';
import { linkedGrid } from './linked-grid.ts';
import { type ReconcileResult, reconcileLink } from './reconcile.ts';
import type { SheetGrid } from './sheet-grid.ts';

export { linkColumns, type SyncDeps } from './link-sync-deps.ts';

export type AttachResult =
  | { mode: 'table-to-sheet'; rows: number; writeRequests: number }
  | SheetToTableResult
  | { mode: 'reconcile'; reconcile: ReconcileResult }
  | { mode: 'nothing'; rows: 0 };

export async function attachLink(deps: SyncDeps): Promise<AttachResult> {
  // The tab by its recorded sheetId, not only by the config's title (linked-grid.ts).
  const grid = await linkedGrid(deps);
  const sheet = await grid.read();
  const database = syncDatabase(deps);
  const table = await database.describe(deps.link.table, deps.link).catch((error: unknown) => {
    // A missing table is created from the sheet; any other problem stops attach.
    if ((error as { code?: string }).code === 'SHEETSYNC_E250' && sheet.rows.length > 0) return undefined;
    throw error;
  });
  const tableRows = table ? await database.countRows(table) : 0;
  if (sheet.rows.length === 0 && tableRows === 0) return { mode: 'nothing', rows: 0 };
  let result: AttachResult;
  if (sheet.rows.length === 0) result = await fillSheet(deps, grid, sheet.headers, table!, tableRows);
  else if (!table || tableRows === 0) result = await attachFromSheet(deps, grid, sheet, table);
  else result = { mode: 'reconcile', reconcile: await reconcileLink({ ...deps, dryRun: false }) };
  await setUpTypedColumns(deps, grid, table);
  return result;
}

/**
 * Checkboxes, dropdowns, formats and protections from the table's schema (attach-formats.ts),
 * after the rows are in, so they cover every row the grid grew by. The rows are synced by then:
 * a failure here is reported (SHEETSYNC_E430) and attach still succeeds; running it again sets
 * them up.
 */
async function setUpTypedColumns(deps: SyncDeps, grid: SheetGrid, known: TableSchema | undefined) {
  try {
    const table = known ?? (await syncDatabase(deps).describe(deps.link.table, deps.link));
    await applyColumnFormats(deps, grid, table);
  } catch (error) {
    deps.logger?.warn(
      `the sheet's typed columns (checkboxes, dropdowns, formats) were not set up: ${(error as Error).message}; the rows are synced, run attach again to retry`,
      { code: 'SHEETSYNC_E430', link: deps.link.name },
    );
  }
}

async function fillSheet(
  deps: SyncDeps,
  grid: SheetGrid,
  existingHeaders: string[],
  table: TableSchema,
  total: number,
): Promise<AttachResult> {
  const now = deps.now ?? Date.now;
  const columns = linkColumns(deps.link, table);
  const types = new Map(columns.map((c) => [c.name, parseColumnType(c.type)]));
  // Keep headers a person already typed (in their order); add the missing columns and the id.
  const kept = existingHeaders.filter((h) => h !== '' && h !== ID_HEADER);
  const headers = [...kept, ...columns.map((c) => c.name).filter((n) => !kept.includes(n)), ID_HEADER];
  const prepared = await prepareHeaders(grid, headers, total);
  const { sheetId } = prepared;
  let writeRequests = prepared.writeRequests;
  const idColumn = headers.length - 1;
  const time = { wall: now(), logical: 0 };
  const chunkRows = deps.chunkRows ?? 4000;
  let done = 0;
  let pending: Promise<void> | undefined;
  // One snapshot for the whole copy (SyncDatabase.scanRows).
  await syncDatabase(deps)
    .scanRows({ ...table, columns }, chunkRows, async (batch) => {
      const rows: SheetValue[][] = [];
      const docs: Array<{ rowId: string; key: Cells; cells: Cells }> = [];
      for (const cells of batch) {
        const rowId = randomUUID();
        rows.push(
          headers.map((h, i) =>
            i === idColumn ? rowId : types.has(h) ? toSheet(cells[h] ?? null, types.get(h)!) : '',
          ),
        );
        docs.push({
          rowId,
          key: Object.fromEntries(table.primaryKey.map((k) => [k, cells[k] ?? null])),
          cells,
        });
      }
      writeRequests += await grid.appendRows(sheetId, rows);
      const writtenAt = now();
      const next = docs.map((d) => ({
        ...syncedRowDocument(d.rowId, d.key, d.cells, time, writtenAt),
        onSheetSince: writtenAt, // RowDocument.onSheetSince: on the sheet from the append on
      }));
      // The documents of one chunk are written while the next chunk is read and appended: at
      // most one chunk in flight, so memory stays bounded by two chunks.
      await pending;
      pending = deps.store.createRows(deps.link.name, next).then(() => {
        done += next.length;
        deps.onProgress?.(done, total);
      });
      pending.catch(() => {}); // awaited below; this only keeps it from counting as unhandled
    })
    .then(() => pending)
    .catch(async (error: unknown) => {
      // Settle the chunk still being written before reporting (it may be the error itself).
      await pending?.catch(() => {});
      throw error;
    });
  return { mode: 'table-to-sheet', rows: done, writeRequests };
}

/**
 * Writes the header row and hides and protects the id column (a warning only, as SheetTab does),
 * growing the grid's columns when needed.
 */
/** Google's limit of cells per spreadsheet, counted over every tab's whole grid, empty cells too. */
export const MAX_CELLS_PER_SPREADSHEET = 10_000_000;

/**
 * Headers, the hidden and protected id column, and a grid the rows fit in. Google counts every
 * cell of every tab's grid against the 10-million-cell cap, empty ones too, and a new tab is 26
 * columns wide, so appending 384,615 rows of a 6-column table to one failed the cap after writing
 * most of them. When the `rows` data rows would not fit, the tab's columns right of the synced
 * ones (empty: the tab has no data rows) are deleted first; when they still would not fit,
 * attach stops here, before writing anything (SHEETSYNC_E507).
 */
async function prepareHeaders(
  grid: SheetGrid,
  headers: string[],
  rows: number,
): Promise<{ sheetId: number; writeRequests: number }> {
  for (let round = 1; ; round++) {
    try {
      return await prepareHeadersOnce(grid, headers, rows);
    } catch (error) {
      // Sent again as it was, a request that landed with its answer lost would grow or trim the
      // grid twice and protect the id column twice: the next round reads the grid again and asks
      // only for what is missing.
      if (!(error instanceof OutcomeUnknownError) || round >= grid.api.maxAttempts) throw error;
      await grid.api.backoff(round - 1);
    }
  }
}

async function prepareHeadersOnce(
  grid: SheetGrid,
  headers: string[],
  rows: number,
): Promise<{ sheetId: number; writeRequests: number }> {
  // One read gives the tab's id, every tab's grid size and the protections already there.
  const meta = await grid.api.call('read', 'spreadsheets.get', () =>
    grid.api.client.spreadsheets.get({
      spreadsheetId: grid.spreadsheetId,
      fields: 'sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),protectedRanges(range))',
    }),
  );
  const sizes = (meta.sheets ?? []).map((s) => ({
    sheetId: s.properties?.sheetId,
    title: s.properties?.title,
    rows: s.properties?.gridProperties?.rowCount ?? 1000,
    columns: s.properties?.gridProperties?.columnCount ?? 26,
  }));
  const own = sizes.find((s) => s.title === grid.title);
  if (own?.sheetId == null) throw new Error(`spreadsheet ${grid.spreadsheetId} has no tab "${grid.title}"`);
  const sheetId = own.sheetId;
  const columnCount = own.columns;
  const others = sizes.filter((s) => s.sheetId !== sheetId).reduce((n, s) => n + s.rows * s.columns, 0);
  // appendCells adds rows after the header row, growing the grid only past its last row.
  const rowsAfter = Math.max(own.rows, rows + 1);
  const fits = (columns: number) => others + rowsAfter * columns <= MAX_CELLS_PER_SPREADSHEET;
  const trim = !fits(Math.max(columnCount, headers.length)) && columnCount > headers.length;
  if (!fits(headers.length)) {
    throw new SheetsyncError(
      'SHEETSYNC_E507',
      `tab "${grid.title}" cannot hold ${rows} rows of ${headers.length} columns: with the spreadsheet's other tabs (${others} cells) that is ${others + rowsAfter * headers.length} cells, over Google's limit of ${MAX_CELLS_PER_SPREADSHEET} per spreadsheet; nothing was written. Sync fewer columns (the link's "columns"), give the tab a spreadsheet of its own, or delete unused tabs, rows and columns.`,
    );
  }
  const idColumn = headers.length - 1;
  const protectedAlready = (meta.sheets ?? [])
    .find((s) => s.properties?.sheetId === sheetId)
    ?.protectedRanges?.some(
      (p) => p.range?.startColumnIndex === idColumn && p.range?.endColumnIndex === idColumn + 1,
    );
  const requests = [
    ...(headers.length > columnCount
      ? [{ appendDimension: { sheetId, dimension: 'COLUMNS', length: headers.length - columnCount } }]
      : []),
    ...(trim
      ? [
          {
            deleteDimension: {
              range: { sheetId, dimension: 'COLUMNS', startIndex: headers.length, endIndex: columnCount },
            },
          },
        ]
      : []),
    {
      updateDimensionProperties: {
        range: { sheetId, dimension: 'COLUMNS', startIndex: idColumn, endIndex: idColumn + 1 },
        properties: { hiddenByUser: true },
        fields: 'hiddenByUser',
      },
    },
    ...(protectedAlready
      ? []
      : [
          {
            addProtectedRange: {
              protectedRange: {
                range: { sheetId, startColumnIndex: idColumn, endColumnIndex: idColumn + 1 },
                description: 'sheetsync row ids: do not edit',
                warningOnly: true,
              },
            },
          },
        ]),
  ];
  await grid.api.call('write', 'spreadsheets.batchUpdate', () =>
    grid.api.client.spreadsheets.batchUpdate({
      spreadsheetId: grid.spreadsheetId,
      requestBody: { requests },
    }),
  );
  await grid.writeCells(headers.map((value, column) => ({ row: 1, column, value })));
  return { sheetId, writeRequests: 2 };
}
