/**
 * Per-cell errors reach the people editing the sheet: a value of the wrong type for its column
 * (SHEETSYNC_E407) typed in the local sheet (real apps-script/, webhook, Pub/Sub and Firestore
 * emulators, real PostgreSQL) shows in the spreadsheet's `_sheetsync_errors` tab; the row keeps
 * its other cells in the table; the message is acked, so nothing is retried or reported again.
 */
import { sheets } from '@googleapis/sheets';
import { describe, expect, it } from 'vitest';
import { readValues } from '../../emulator/src/model/values.ts';
import {
  ERRORS_HEADERS,
  ERRORS_TAB,
  ErrorsTab,
  sheetProblemReporter,
} from '../../functions/src/adapters/sheets/errors-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { type Logger, type LogLabels, silentLogger } from '../../functions/src/log.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { ID_HEADER } from '../support/sheet-sync-harness.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty', 'price'];

describe('sheet → database: per-cell errors in the errors tab', () => {
  const db = useTestDatabase();
  /** applyToDb's flushes (its 'applied sheet changes' log line), to see that none repeats. */
  const applied: LogLabels[] = [];
  const logger: Logger = {
    ...silentLogger,
    info(message, labels) {
      if (message === 'applied sheet changes') applied.push(labels ?? {});
    },
    child: () => logger,
  };

  const h = useSyncHarness(db, {
    table: 'public.parts',
    headers: COLUMNS,
    logger,
    createTable: (sql) =>
      sql`create table public.parts (sku text primary key, name text, qty integer, price numeric(10,2))`,
  });

  /** The errors tab, read from the local sheet's model (polling spends no quota); [] without it. */
  function errorsTab(): string[][] {
    const spreadsheet = h.emulator.model.get(h.spreadsheetId);
    if (!spreadsheet.sheets.some((s) => s.title === ERRORS_TAB)) return [];
    const { sheet, range } = spreadsheet.resolveA1(`'${ERRORS_TAB}'`);
    const values = readValues(spreadsheet, spreadsheet.bound(sheet, range), {
      valueRenderOption: 'FORMATTED_VALUE',
    }).values;
    return (values ?? []) as string[][];
  }

  /** The same through the Sheets API (Google's client, pointed at the local sheet). */
  async function errorsTabViaApi(): Promise<string[][]> {
    const api = sheets({ version: 'v4', rootUrl: `${h.emulator.url}/` });
    const { data } = await api.spreadsheets.values.get({
      spreadsheetId: h.spreadsheetId,
      range: `'${ERRORS_TAB}'!A1:H`,
    });
    return (data.values ?? []) as string[][];
  }

  it('a wrong-type value shows in the errors tab; the row keeps its other cells; no retries', async () => {
    await h.act([{ type: 'edit', range: 'Rows!A2:D2', values: [['A-1', 'Anvil', 3, 9.5]] }]);
    await waitFor(
      'the first row',
      async () => (await h.sql`select 1 from parts where sku = 'A-1'`).length === 1,
    );

    // A new row with a bad qty, and a bad qty typed over a good one together with a new name.
    await h.act([{ type: 'edit', range: 'Rows!A3:D3', values: [['B-2', 'Bolt', 'many', 1.5]] }]);
    await h.act([{ type: 'edit', range: 'Rows!B2:C2', values: [['Anvil XL', 'lots']] }]);

    await waitFor('two errors in the errors tab', async () => errorsTab().length >= 3);
    const rows = await errorsTabViaApi();
    expect(rows[0]).toEqual([...ERRORS_HEADERS]);
    const tab = h.tabValues();
    const idAt = (tab[0] as string[]).indexOf(ID_HEADER);
    const idOf = (sku: string) => String(tab.find((r) => r[0] === sku)?.[idAt]);
    const entries = rows.slice(1).map(([, link, rowId, row, column, value, error, todo]) => ({
      link,
      rowId,
      row,
      column,
      value,
      error,
      todo,
    }));
    expect(entries).toEqual(
      expect.arrayContaining([
        {
          link: 'rows',
          rowId: idOf('B-2'),
          row: '3',
          column: 'qty',
          value: 'many',
          error: expect.stringMatching(/^SHEETSYNC_E407: "many" does not fit column qty \(integer\)/),
          todo: expect.stringContaining('Correct the cell'),
        },
        {
          link: 'rows',
          rowId: idOf('A-1'),
          row: '2',
          column: 'qty',
          value: 'lots',
          error: expect.stringMatching(/^SHEETSYNC_E407: /),
          todo: expect.stringContaining('Correct the cell'),
        },
      ]),
    );
    expect(Date.parse(rows[1]![0]!)).toBeGreaterThan(0);

    // The table holds the other cells; the bad ones were not written.
    await waitFor(
      'the new name',
      async () => (await h.sql`select name from parts where sku = 'A-1'`)[0]?.name === 'Anvil XL',
    );
    expect(await h.sql`select sku, name, qty, price::text from parts order by sku`).toEqual([
      { sku: 'A-1', name: 'Anvil XL', qty: 3, price: '9.50' },
      { sku: 'B-2', name: 'Bolt', qty: null, price: '1.50' },
    ]);

    // Acked, not retried: over the next seconds applyToDb runs no flush, reports nothing more.
    const flushes = applied.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(h.problems.filter((p) => p.code === 'SHEETSYNC_E407')).toHaveLength(2);
    expect(errorsTab()).toHaveLength(3);
    expect(applied.length).toBe(flushes);

    // The inserts' echoes came back from the table (qty NULL) and left the typed values in place:
    // the person still sees what to correct.
    const qtyOf = (sku: string) => h.tabValues().find((r) => r[0] === sku)?.[COLUMNS.indexOf('qty')];
    expect(qtyOf('B-2')).toBe('many');
    expect(qtyOf('A-1')).toBe('lots');
  });

  it('a flush reports with one write request per spreadsheet, however many problems', async () => {
    const api = new SheetsApi({ rootUrl: h.emulator.url, logger: silentLogger });
    const report = sheetProblemReporter(new ErrorsTab(api), () => h.spreadsheetId);
    const before = errorsTab().length;
    const problems = Array.from({ length: 600 }, (_, i) => ({
      link: 'rows',
      rowId: `row-${i}`,
      row: i + 2,
      column: 'qty',
      value: `=HYPERLINK("x${i}")`,
      code: 'SHEETSYNC_E407' as const,
      message: 'not a whole number',
    }));
    await report(problems);
    expect(api.counts.writes).toBe(1);
    const after = await errorsTabViaApi();
    // 500 rows listed, one row summing up the rest; values are written RAW, never as formulas.
    expect(after.length - before).toBe(501);
    expect(after[before]![5]).toBe('=HYPERLINK("x0")');
    expect(after.at(-1)![6]).toBe('100 more problems in this batch are not listed here');
  });
});
