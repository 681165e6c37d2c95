/**
 * Refused cells marked at the cell (issue 22, item 2), through the whole stack: the real
 * apps-script/ in the local sheet, the webhook, Pub/Sub and Firestore emulators, PostgreSQL.
 * `lots` typed into an integer column gets a note (why, what to do) and a light red fill within
 * 2 s; `12` typed over it reaches the table and takes the note and the fill away, keeping the
 * column's number format. A refused row (a CHECK the database enforces) marks the cells it
 * carried. Marks land on the row by its sync id even after the rows were sorted.
 */
import { sheets } from '@googleapis/sheets';
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../emulator/src/model/cell.ts';
import { MARK_COLOR } from '../../functions/src/core/cell-marks.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty', 'price'];
const QTY = COLUMNS.indexOf('qty');

describe('refused cells marked in the sheet', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.parts',
    headers: COLUMNS,
    createTable: (sql) =>
      sql`create table public.parts (sku text primary key, name text, qty integer,
            price numeric(10,2) check (price is null or price >= 0))`,
  });

  /** A cell of the data tab as the local sheet's model holds it (polling spends no quota). */
  function cellAt(row: number, column: number): Cell | undefined {
    return h.emulator.model
      .get(h.spreadsheetId)
      .sheetByTitle(h.tab)
      ?.getCell(row - 1, column);
  }
  const rowOf = (sku: string) => h.tabValues().findIndex((r) => r[0] === sku) + 1;
  const marked = (cell: Cell | undefined) =>
    cell?.note?.startsWith('sheetsync:') === true &&
    JSON.stringify(cell.format?.backgroundColor) === JSON.stringify(MARK_COLOR);

  it('marks `lots` in an integer column within 2 s; `12` clears the mark and reaches the table', async () => {
    await h.act([{ type: 'edit', range: 'Rows!A2:D2', values: [['A-1', 'Anvil', 3, 9.5]] }]);
    await waitFor('the row in the table', async () => (await h.sql`select 1 from parts`).length === 1);
    // The column's own format (attach sets a number format on integer columns) must survive.
    await sheets({ version: 'v4', rootUrl: `${h.emulator.url}/` }).spreadsheets.batchUpdate({
      spreadsheetId: h.spreadsheetId,
      requestBody: {
        requests: [
          {
            repeatCell: {
              range: { sheetId: 0, startRowIndex: 1, startColumnIndex: QTY, endColumnIndex: QTY + 1 },
              cell: { userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0' } } },
              fields: 'userEnteredFormat.numberFormat',
            },
          },
        ],
      },
    });

    const typed = Date.now();
    await h.act([{ type: 'edit', range: 'Rows!C2', values: [['lots']] }]);
    await waitFor('the mark on C2', async () => marked(cellAt(2, QTY)), 10_000);
    const markMs = Date.now() - typed;
    expect(markMs).toBeLessThan(2_000);
    const note = cellAt(2, QTY)!.note!;
    expect(note).toMatch(/^sheetsync: this value was not saved to the database\.\nSHEETSYNC_E407: "lots"/);
    expect(note).toContain('integer');
    expect(note).toContain('Type a value of that type');
    // Only the refused cell is marked; the value stays for the person to correct.
    for (const column of [0, 1, 3]) expect(cellAt(2, column)?.note).toBeUndefined();
    expect(cellAt(2, QTY)?.value).toBe('lots');

    // The same through Google's client: note and fill, the number format kept.
    const grid = await sheets({ version: 'v4', rootUrl: `${h.emulator.url}/` }).spreadsheets.get({
      spreadsheetId: h.spreadsheetId,
      ranges: ['Rows!C2'],
      includeGridData: true,
      fields: 'sheets.data.rowData.values(note,userEnteredFormat)',
    });
    expect(grid.data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.[0]).toEqual({
      note,
      userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0' }, backgroundColor: MARK_COLOR },
    });

    const corrected = Date.now();
    await h.act([{ type: 'edit', range: 'Rows!C2', values: [[12]] }]);
    await waitFor('the mark cleared', async () => !cellAt(2, QTY)?.note, 10_000);
    const clearMs = Date.now() - corrected;
    expect(clearMs).toBeLessThan(2_000);
    expect(cellAt(2, QTY)).toEqual({ value: 12, format: { numberFormat: { type: 'NUMBER', pattern: '0' } } });
    await waitFor('12 in the table', async () => (await h.sql`select qty from parts`)[0]?.qty === 12);
    console.info(`mark after ${markMs} ms, cleared after ${clearMs} ms (under load)`);
  });

  it('a row the database refuses has the cells it carried marked, on the row by its sync id', async () => {
    await h.act([{ type: 'edit', range: 'Rows!A3:D3', values: [['B-2', 'Bolt', 5, 1.5]] }]);
    await waitFor(
      'B-2 in the table',
      async () => (await h.sql`select 1 from parts where sku = 'B-2'`).length,
    );
    // A negative price breaks the table's CHECK: the database refuses the row (E414 or E409).
    await h.act([{ type: 'edit', range: 'Rows!D3', values: [[-4]] }]);
    await waitFor('the refused price marked', async () => marked(cellAt(rowOf('B-2'), 3)), 10_000);
    const note = cellAt(rowOf('B-2'), 3)!.note!;
    expect(note).toMatch(/SHEETSYNC_E4(09|14): the database refused the row \(SQLSTATE 23514\)/);
    // The note names no value of the row: the database's message (in the errors tab) may.
    expect(note).not.toContain('-4');
    expect(note).not.toContain('B-2');

    // Sorted so B-2 is on top: the clear lands on B-2's row, found by its sync id, not on row 3.
    await h.act([
      { type: 'sortRange', range: 'Rows!A2:E3', sortSpecs: [{ dimensionIndex: 0, sortOrder: 'DESCENDING' }] },
    ]);
    await waitFor('B-2 sorted up', async () => rowOf('B-2') === 2);
    await h.act([{ type: 'edit', range: 'Rows!D2', values: [[2.5]] }]);
    await waitFor('the mark on B-2 cleared', async () => !cellAt(rowOf('B-2'), 3)?.note, 10_000);
    expect(cellAt(rowOf('B-2'), 3)?.format?.backgroundColor).toBeUndefined();
    expect(cellAt(rowOf('A-1'), 3)?.note).toBeUndefined();
    await waitFor(
      'the new price in the table',
      async () => (await h.sql`select price::text from parts where sku = 'B-2'`)[0]?.price === '2.50',
    );
  });
});
