/**
 * Whether a report reached the errors tab, for an append or tab creation whose outcome is
 * unknown (OutcomeUnknownError): appending it again could list every problem twice. A report is
 * its rows as one block (values.append and appendCells add them together, atomically), and its
 * first cell is the time to the millisecond, so the block found on the tab is this report (or the
 * very same problems reported at the same instant, which need not be listed twice either).
 */
import { SheetsyncError } from '../../errors.ts';
import { quoteTitle } from './a1.ts';
import type { SheetsApi } from './sheets-api.ts';

type Cell = string | number;

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** Whether `row` as read (trailing empty cells trimmed) shows `expected`. */
function sameRow(row: readonly unknown[] | undefined, expected: readonly Cell[]): boolean {
  if (!row) return false;
  const width = Math.max(row.length, expected.length);
  for (let i = 0; i < width; i++) if (text(row[i]) !== text(expected[i])) return false;
  return true;
}

/** Reads the errors tab and looks for `rows` as a block; false when the tab does not exist. */
export async function reportLanded(
  api: SheetsApi,
  spreadsheetId: string,
  title: string,
  rows: readonly Cell[][],
): Promise<boolean> {
  let grid: unknown[][];
  try {
    const read = await api.call('read', 'values.get (errors tab)', () =>
      api.client.spreadsheets.values.get({
        spreadsheetId,
        range: quoteTitle(title),
        valueRenderOption: 'UNFORMATTED_VALUE',
      }),
    );
    grid = (read.values ?? []) as unknown[][];
  } catch (error) {
    // Google: 400 "Unable to parse range" for a tab that does not exist.
    if (error instanceof SheetsyncError && error.code === 'SHEETSYNC_E501') return false;
    throw error;
  }
  const first = rows[0];
  if (!first) return true;
  for (let start = 0; start + rows.length <= grid.length; start++) {
    if (!sameRow(grid[start], first)) continue;
    if (rows.every((row, i) => sameRow(grid[start + i], row))) return true;
  }
  return false;
}
