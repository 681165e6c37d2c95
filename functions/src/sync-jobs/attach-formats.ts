/**
 * Typed columns set up by attach (issue 22, item 1): checkboxes, strict dropdowns, date and
 * number formats and warning-only protections, planned by core/column-formats.ts from the
 * table's catalog (adapters/table/postgres-column-facts.ts) and the tab's header row.
 *
 * One read (the header row, the tab's id and its protections) and at most one batchUpdate.
 * Every request is idempotent except addProtectedRange, which is skipped for a column a
 * whole-column protection already covers; so attach run again (after a column was added to
 * the table and its header to the tab) sets up the new column and leaves the rest as it was.
 */
import { quoteTitle } from '../adapters/sheets/a1.ts';
import { OutcomeUnknownError } from '../adapters/sheets/request-failure.ts';
import { readColumnFacts } from '../adapters/table/postgres-column-facts.ts';
import type { TableSchema } from '../adapters/table/table-schema.ts';
import { planColumnFormats } from '../core/column-formats.ts';
import { linkColumns, type SyncDeps } from './link-sync-deps.ts';
import type { SheetGrid } from './sheet-grid.ts';

/** Sets up the tab's typed columns; returns the write requests made (0 or 1). */
export async function applyColumnFormats(
  deps: SyncDeps,
  grid: SheetGrid,
  table: TableSchema,
): Promise<number> {
  const synced = new Set(linkColumns(deps.link, table).map((c) => c.name));
  const facts = (await readColumnFacts(deps.sql, table)).filter((c) => synced.has(c.name));
  for (let round = 1; ; round++) {
    try {
      return await applyOnce(grid, facts);
    } catch (error) {
      // A batch that landed with its answer lost would protect columns twice if sent again as
      // it was: the next round reads the protections again and asks only for what is missing.
      if (!(error instanceof OutcomeUnknownError) || round >= grid.api.maxAttempts) throw error;
      await grid.api.backoff(round - 1);
    }
  }
}

async function applyOnce(grid: SheetGrid, facts: Parameters<typeof planColumnFormats>[0]['columns']) {
  const meta = await grid.api.call('read', 'spreadsheets.get', () =>
    grid.api.client.spreadsheets.get({
      spreadsheetId: grid.spreadsheetId,
      ranges: [`${quoteTitle(grid.title)}!1:1`],
      includeGridData: true,
      fields:
        'sheets(properties(sheetId,title),protectedRanges(range),data.rowData.values(userEnteredValue))',
    }),
  );
  const sheet = meta.sheets?.find((s) => s.properties?.title === grid.title);
  const sheetId = sheet?.properties?.sheetId;
  if (sheetId == null) throw new Error(`spreadsheet ${grid.spreadsheetId} has no tab "${grid.title}"`);
  const headers = (sheet?.data?.[0]?.rowData?.[0]?.values ?? []).map((cell) => {
    const value = cell.userEnteredValue;
    return String(value?.stringValue ?? value?.numberValue ?? value?.boolValue ?? '').trim();
  });
  // A protection from the top of one column down (no end row) covers the whole column.
  const protectedColumns = new Set(
    (sheet?.protectedRanges ?? []).flatMap(({ range }) =>
      range &&
      !range.startRowIndex &&
      range.endRowIndex == null &&
      range.startColumnIndex != null &&
      range.endColumnIndex === range.startColumnIndex + 1
        ? [range.startColumnIndex]
        : [],
    ),
  );
  const requests = planColumnFormats({ sheetId, headers, columns: facts, protectedColumns });
  if (requests.length === 0) return 0;
  await grid.api.call('write', 'spreadsheets.batchUpdate', () =>
    grid.api.client.spreadsheets.batchUpdate({
      spreadsheetId: grid.spreadsheetId,
      requestBody: { requests },
    }),
  );
  return 1;
}
