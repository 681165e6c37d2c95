/**
 * The conflicts tab (issue 22 item 3): `_sheetsync_conflicts` lists a spreadsheet's open
 * conflicts, one row each (link, row key, column, both values with their times and sides, the
 * policy), with a dropdown (`take sheet`, `take database`) whose choice the Apps Script sends to
 * the webhook (apps-script/conflicts.js), resolved as `sheetsync conflicts resolve` does.
 *
 * The tab is rewritten whole each time (conflicts are few, `listOpenConflicts` lists at most
 * 100 per link): one `spreadsheets.get` of the tabs' properties, then one `batchUpdate` that adds
 * the tab if missing, grows it if needed, and writes every cell with `updateCells` over a range
 * ("every cell in the range not covered by the rows" is cleared of the masked fields, Sheets API
 * UpdateCellsRequest), so resolved conflicts leave it in the same request. Values are written as
 * text or numbers (never formulas); the dropdown is a strict ONE_OF_LIST rule.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import type { Cells } from '../../core/cell-value.ts';
import type { ConflictRecord, ConflictRecordSide } from '../../core/conflict-record.ts';
import { fnv1a } from '../../core/stable-hash.ts';
import type { SheetsApi } from './sheets-api.ts';

export const CONFLICTS_TAB = '_sheetsync_conflicts';
export const CONFLICTS_HEADERS = [
  'conflict id',
  'link',
  'row key',
  'column',
  'sheet value',
  'sheet changed at',
  'database value',
  'database changed at',
  'kept now',
  'policy',
  'choose',
] as const;
/** The dropdown's choices, and what each resolves to (apps-script/conflicts.js sends it). */
export const CONFLICT_CHOICES = { 'take sheet': 'sheet', 'take database': 'db' } as const;

/** A value as the tab shows it: text for structured values, '' for none. */
function shown(value: unknown): string | number | boolean {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const at = (side: ConflictRecordSide) => (side.time ? new Date(side.time.wall).toISOString() : '');

/** The tab's rows (header first) for `conflicts`; `keyOf` gives a row's primary key when known. */
export function conflictRows(
  conflicts: readonly ConflictRecord[],
  keyOf: (link: string, rowId: string) => Cells | null | undefined,
): Array<Array<string | number | boolean>> {
  return [
    [...CONFLICTS_HEADERS],
    ...conflicts.map((c) => {
      const key = keyOf(c.link, c.rowId);
      return [
        c.id,
        c.link,
        key ? JSON.stringify(key) : `(sync id ${c.rowId})`,
        c.column,
        shown(c.sheet.value),
        at(c.sheet),
        shown(c.db.value),
        at(c.db),
        `${c.outcome === 'sheet' ? 'sheet' : c.outcome === 'db' ? 'database' : 'custom'}: ${String(shown(c.value))}`,
        c.policy,
        '',
      ];
    }),
  ];
}

function cell(value: string | number | boolean): sheets_v4.Schema$CellData {
  if (value === '') return {};
  if (typeof value === 'number') return { userEnteredValue: { numberValue: value } };
  if (typeof value === 'boolean') return { userEnteredValue: { boolValue: value } };
  return { userEnteredValue: { stringValue: value } };
}

const CHOICE_RULE: sheets_v4.Schema$DataValidationRule = {
  condition: {
    type: 'ONE_OF_LIST',
    values: Object.keys(CONFLICT_CHOICES).map((userEnteredValue) => ({ userEnteredValue })),
  },
  strict: true,
  showCustomUi: true,
};

export class ConflictsTab {
  constructor(
    private readonly api: SheetsApi,
    private readonly title = CONFLICTS_TAB,
  ) {}

  /** Rewrites the spreadsheet's conflicts tab to list `rows` (conflictRows): two requests. */
  async show(
    spreadsheetId: string,
    rows: ReadonlyArray<ReadonlyArray<string | number | boolean>>,
  ): Promise<void> {
    const data = await this.api.call('read', 'spreadsheets.get (conflicts tab)', () =>
      this.api.client.spreadsheets.get({
        spreadsheetId,
        fields: 'sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))',
      }),
    );
    const found = data.sheets?.find((s) => s.properties?.title === this.title)?.properties;
    const width = CONFLICTS_HEADERS.length;
    const requests: sheets_v4.Schema$Request[] = [];
    // A fixed id for the tab this adds (another instance adding it meanwhile fails this request,
    // and the next flush writes the tab it added).
    const sheetId = found?.sheetId ?? fnv1a(this.title) & 0x3fffffff;
    const rowCount = found?.gridProperties?.rowCount ?? 0;
    if (!found) {
      requests.push({
        addSheet: {
          properties: {
            sheetId,
            title: this.title,
            gridProperties: { rowCount: rows.length, columnCount: width, frozenRowCount: 1 },
          },
        },
      });
    } else {
      if (rowCount < rows.length)
        requests.push({ appendDimension: { sheetId, dimension: 'ROWS', length: rows.length - rowCount } });
      const columns = found.gridProperties?.columnCount ?? 0;
      if (columns < width)
        requests.push({ appendDimension: { sheetId, dimension: 'COLUMNS', length: width - columns } });
    }
    requests.push({
      updateCells: {
        range: {
          sheetId,
          startRowIndex: 0,
          endRowIndex: Math.max(rows.length, rowCount),
          startColumnIndex: 0,
          endColumnIndex: width,
        },
        rows: rows.map((row, r) => ({
          values: row.map((value, c) =>
            r > 0 && c === width - 1 ? { ...cell(value), dataValidation: CHOICE_RULE } : cell(value),
          ),
        })),
        fields: 'userEnteredValue,dataValidation',
      },
    });
    await this.api.call('write', 'spreadsheets.batchUpdate (conflicts tab)', () =>
      this.api.client.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } }),
    );
  }
}
