/**
 * The errors tab: problems with what people typed (a value of the wrong type for its column
 * SHEETSYNC_E407, a header not in the table E408, a row the database refused E409, a delete it
 * refused E412) are appended
 * to a tab `_sheetsync_errors` of the link's spreadsheet, one row per problem, with what to do.
 *
 * Why a tab and not a cell note: a note must land on the cell's current position, which needs a
 * read of the tab first (rows move; a sort between the edit and the report would put it on the
 * wrong row), spends the scarce read quota, overwrites a note the user wrote, and has nowhere to
 * go for a header that is not a column (E408). Appending to a tab needs no read and no position,
 * keeps a history people can sort, filter and clear, and costs one write request per spreadsheet
 * per flush: `values.append` (RAW, so a typed value is never re-entered as a formula). The first
 * report to a spreadsheet without the tab gets a 400 from the append, then creates the tab with
 * its header and the rows in one `spreadsheets.batchUpdate` (addSheet + appendCells). Writes go
 * through SheetsApi, so they share the link's quota buckets, backoff and retries; neither is sent
 * again blind after an unknown outcome (errors-tab-landed.ts).
 */

import { fnv1a } from '../../core/stable-hash.ts';
import type { ErrorCode } from '../../error-codes.ts';
import { SheetsyncError } from '../../errors.ts';
import { quoteTitle } from './a1.ts';
import { reportLanded } from './errors-tab-landed.ts';
import { OutcomeUnknownError } from './request-failure.ts';
import type { SheetsApi } from './sheets-api.ts';

export const ERRORS_TAB = '_sheetsync_errors';
export const ERRORS_HEADERS = [
  'time',
  'link',
  'row sync id',
  'row',
  'column',
  'value',
  'error',
  'what to do',
] as const;
/** Rows written per spreadsheet per flush; the rest are summed up in one row (all are logged). */
export const MAX_ROWS_PER_REPORT = 500;

/** A problem to show (applyToDb's RowProblem has this shape). */
export interface SheetProblem {
  link: string;
  rowId: string;
  row?: number | undefined;
  column?: string | undefined;
  value?: string | number | boolean | null | undefined;
  code: ErrorCode;
  message: string;
  /** When the change was made, ms since the epoch; default: now. */
  time?: number | undefined;
}

const REMEDIES: Partial<Record<ErrorCode, string>> = {
  SHEETSYNC_E407:
    'Correct the cell: type a value of the column type named in the error. This cell was not saved to the database; the other cells of the row were.',
  SHEETSYNC_E408:
    'Rename the header to a column of the table (case, spaces and underscores are ignored), or add the column to the table. Values under this header are not synced.',
  SHEETSYNC_E413:
    'The database does not let sheetsync write this column (it computes the value itself, or sheetsync may not write it). Leave the cell empty, or ask the operator to remove the column from the link. The row was not saved.',
  SHEETSYNC_E414:
    "The database refused the row's values (see the error: e.g. a value too long for an index). Change them so the database accepts them; the row was not saved, and your next edit of it is applied.",
  SHEETSYNC_E415:
    "This column is not among the link's columns, so nothing typed under this header is saved to the database. Rename or delete the header, or ask the operator to add the column to the link.",
  SHEETSYNC_E409:
    'Fix the row so the database accepts it (see the error). The row was not saved; your next edit of it is applied.',
  SHEETSYNC_E412:
    'The row is still in the database, usually because rows of another table refer to it (see the error), so it was put back on the sheet (where it was, when sheetsync had seen the tab since the row was added; otherwise at the end). Change or delete those rows first, then delete this row again.',
};

export function remedyFor(code: ErrorCode): string {
  return REMEDIES[code] ?? `See ${code} in docs/errors.md.`;
}

type Cell = string | number;

/**
 * A value or message cut to `max` characters, saying how long it was: a sheet cell holds 50,000
 * characters (a longer one fails the whole append), and a problem needs only enough to be found.
 */
function clip(text: string, max: number): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}… (${text.length.toLocaleString('en-US')} characters)`;
}

/** The tab's rows for `problems` (header excluded), capped at MAX_ROWS_PER_REPORT + 1. */
export function errorRows(
  problems: readonly SheetProblem[],
  now: number,
  max = MAX_ROWS_PER_REPORT,
): Cell[][] {
  const rows: Cell[][] = problems
    .slice(0, max)
    .map((p) => [
      new Date(p.time ?? now).toISOString(),
      p.link,
      p.rowId,
      p.row ?? '',
      p.column ?? '',
      p.value === undefined || p.value === null ? '' : clip(String(p.value), 1_000),
      clip(`${p.code}: ${p.message}`, 2_000),
      remedyFor(p.code),
    ]);
  if (problems.length > max) {
    rows.push([
      new Date(now).toISOString(),
      [...new Set(problems.map((p) => p.link))].join(', '),
      '',
      '',
      '',
      '',
      `${problems.length - max} more problems in this batch are not listed here`,
      'See the function logs (codes SHEETSYNC_E407-E409, E412) for every problem.',
    ]);
  }
  return rows;
}

export class ErrorsTab {
  /** Spreadsheets known to have the tab (so the append is tried first). */
  private readonly known = new Set<string>();

  constructor(
    private readonly api: SheetsApi,
    private readonly options: { now?: () => number; title?: string } = {},
  ) {}

  get title(): string {
    return this.options.title ?? ERRORS_TAB;
  }

  /**
   * Appends one row per problem to the spreadsheet's errors tab: one write request. After a
   * request whose outcome is unknown, the tab is read to see whether the rows landed before they
   * are sent again (errors-tab-landed.ts).
   */
  async report(spreadsheetId: string, problems: readonly SheetProblem[]): Promise<void> {
    if (problems.length === 0) return;
    const rows = errorRows(problems, (this.options.now ?? Date.now)());
    for (let round = 1; ; round++) {
      try {
        return await this.send(spreadsheetId, rows);
      } catch (error) {
        if (!(error instanceof OutcomeUnknownError) || round >= this.api.maxAttempts) throw error;
        await this.api.backoff(round - 1);
        if (await reportLanded(this.api, spreadsheetId, this.title, rows)) {
          this.known.add(spreadsheetId);
          return;
        }
      }
    }
  }

  private async send(spreadsheetId: string, rows: Cell[][]): Promise<void> {
    try {
      await this.append(spreadsheetId, rows);
      this.known.add(spreadsheetId);
      return;
    } catch (error) {
      if (this.known.has(spreadsheetId) || !isBadRequest(error)) throw error;
    }
    // No such tab yet (Google: 400 "Unable to parse range"): create it with the rows.
    try {
      await this.create(spreadsheetId, rows);
    } catch (error) {
      // Another instance created it meanwhile: append after all.
      if (!isBadRequest(error)) throw error;
      await this.append(spreadsheetId, rows);
    }
    this.known.add(spreadsheetId);
  }

  private append(spreadsheetId: string, rows: Cell[][]) {
    return this.api.call('write', 'values.append (errors tab)', () =>
      this.api.client.spreadsheets.values.append({
        spreadsheetId,
        range: `${quoteTitle(this.title)}!A1`,
        valueInputOption: 'RAW',
        insertDataOption: 'INSERT_ROWS',
        requestBody: { values: rows },
      }),
    );
  }

  private create(spreadsheetId: string, rows: Cell[][]) {
    // A fixed id lets the same request append the rows to the tab it adds.
    const sheetId = fnv1a(this.title) & 0x3fffffff;
    const cell = (value: Cell) =>
      typeof value === 'number'
        ? { userEnteredValue: { numberValue: value } }
        : { userEnteredValue: { stringValue: value } };
    return this.api.call('write', 'spreadsheets.batchUpdate (create errors tab)', () =>
      this.api.client.spreadsheets.batchUpdate({
        spreadsheetId,
        requestBody: {
          requests: [
            {
              addSheet: {
                properties: {
                  sheetId,
                  title: this.title,
                  gridProperties: { rowCount: 1, columnCount: ERRORS_HEADERS.length, frozenRowCount: 1 },
                },
              },
            },
            {
              appendCells: {
                sheetId,
                rows: [[...ERRORS_HEADERS], ...rows].map((row) => ({ values: row.map(cell) })),
                fields: 'userEnteredValue',
              },
            },
          ],
        },
      }),
    );
  }
}

/**
 * `reportProblems` for applyToDb: groups problems by the spreadsheet of their link and writes
 * each group with one request. `spreadsheetOf` maps a link name to its spreadsheet id.
 */
export function sheetProblemReporter(
  tab: ErrorsTab,
  spreadsheetOf: (link: string) => string | undefined,
): (problems: readonly SheetProblem[]) => Promise<void> {
  return async (problems) => {
    const bySpreadsheet = new Map<string, SheetProblem[]>();
    for (const problem of problems) {
      const spreadsheetId = spreadsheetOf(problem.link);
      if (!spreadsheetId) continue;
      const group = bySpreadsheet.get(spreadsheetId);
      if (group) group.push(problem);
      else bySpreadsheet.set(spreadsheetId, [problem]);
    }
    const results = await Promise.allSettled(
      [...bySpreadsheet].map(([spreadsheetId, group]) => tab.report(spreadsheetId, group)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}

function isBadRequest(error: unknown): boolean {
  if (!(error instanceof SheetsyncError) || error.code !== 'SHEETSYNC_E501') return false;
  const cause = error.cause as
    | { response?: { status?: number }; status?: number; code?: unknown }
    | undefined;
  const status =
    cause?.response?.status ?? cause?.status ?? (typeof cause?.code === 'number' ? cause.code : undefined);
  return status === 400;
}
