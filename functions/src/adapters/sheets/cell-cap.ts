/**
 * Google counts every cell of every tab's grid against a spreadsheet's 10M cells, empty cells
 * too, and a new tab is 26 columns wide: a tab syncing 7 columns fills the spreadsheet at about
 * 384,000 rows. When appended rows would pass the cap, the tab's columns right of the synced
 * ones are deleted if they hold no value, and the request (which Google applied in none of its
 * parts) is sent again. When they hold values, or the rows still do not fit, the write fails
 * with SHEETSYNC_E508 (the changes are retried, and dead-lettered in the end: none is lost).
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { SheetsyncError } from '../../errors.ts';
import { columnLetters, quoteTitle } from './a1.ts';
import type { TabSnapshot } from './tab-model.ts';
import type { TabAddress } from './tab-reads.ts';

export interface CellCapSteps {
  /** Sends one spreadsheets.batchUpdate (and counts it). */
  batchUpdate: (requests: sheets_v4.Schema$Request[]) => Promise<void>;
  /** The tab's column count, read now. */
  columnCount: () => Promise<number>;
  /** Records the tab's new width after its empty columns were deleted. */
  narrowed: (width: number) => void;
}

export async function batchUpdateUnderCellCap(
  tab: TabAddress,
  snapshot: TabSnapshot,
  width: number,
  requests: sheets_v4.Schema$Request[],
  steps: CellCapSteps,
): Promise<void> {
  try {
    await steps.batchUpdate(requests);
    return;
  } catch (error) {
    if (!isCellLimit(error) || !requests.some((r) => r.appendCells || r.insertDimension)) throw error;
    if (!(await deleteEmptyColumns(tab, snapshot, width, steps))) throw tabFull(tab.title, error, false);
  }
  await steps.batchUpdate(requests).catch((error: unknown) => {
    throw isCellLimit(error) ? tabFull(tab.title, error, true) : error;
  });
}

/** Deletes the tab's columns right of the first `width` when no cell in them holds a value. */
async function deleteEmptyColumns(
  { api, spreadsheetId, title }: TabAddress,
  snapshot: TabSnapshot,
  width: number,
  steps: CellCapSteps,
): Promise<boolean> {
  const columnCount = await steps.columnCount();
  if (columnCount <= width) return false;
  const range = `${quoteTitle(title)}!${columnLetters(width)}:${columnLetters(columnCount - 1)}`;
  const found = await api.call('read', 'values.get', () =>
    api.client.spreadsheets.values.get({ spreadsheetId, range }),
  );
  if ((found.values ?? []).some((row) => row.some((value) => value !== '' && value != null))) return false;
  await steps.batchUpdate([
    {
      deleteDimension: {
        range: { sheetId: snapshot.sheetId, dimension: 'COLUMNS', startIndex: width, endIndex: columnCount },
      },
    },
  ]);
  snapshot.columnCount = width;
  steps.narrowed(width);
  return true;
}

/** Google's answer to a request that would grow a spreadsheet past its 10M cells. */
function isCellLimit(error: unknown): boolean {
  return (
    error instanceof SheetsyncError &&
    error.code === 'SHEETSYNC_E501' &&
    /number of cells in the workbook above the limit/i.test(error.message)
  );
}

function tabFull(title: string, cause: unknown, trimmed: boolean): SheetsyncError {
  return new SheetsyncError(
    'SHEETSYNC_E508',
    `tab "${title}" cannot take more rows: its spreadsheet is at Google's limit of 10,000,000 cells (every tab's whole grid counts, empty cells too)${trimmed ? ', even with the empty columns right of the synced ones deleted' : ', and the columns right of the synced ones hold values'}. Delete unused tabs, rows or columns, or move the link's tab to a spreadsheet of its own; the changes are retried meanwhile.`,
    'permanent',
    { cause },
  );
}
