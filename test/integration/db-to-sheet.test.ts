/**
 * Database → sheet end to end: plain SQL on a watched table, the capture trigger, the relay, the
 * Pub/Sub emulator, applyToSheet with the Firestore emulator store, and the local sheet, read back
 * through @googleapis/sheets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { type DbToSheetStack, startDbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { waitFor } from '../support/wait.ts';

describe('database → sheet', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let api: SheetsApi;
  let spreadsheetId: string;
  let applyToSheet: DbToSheetStack['applyToSheet'];
  let stack: DbToSheetStack | undefined;

  beforeAll(async () => {
    stack = await startDbToSheetStack(db.sql, {
      table: 'public.leads',
      headers: ['id', 'name', 'score', 'note'],
      createTable: (sql) =>
        sql`create table public.leads (id int primary key, name text, score numeric(10,2), note text, secret text)`,
    });
    ({ emulator, api, spreadsheetId, applyToSheet } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** The tab's rows, read from the local sheet's model (see test/support/sheet-state.ts). */
  async function sheetRows(render: 'UNFORMATTED_VALUE' | 'FORMULA' = 'UNFORMATTED_VALUE') {
    const [headers, ...rows] = tabValues(emulator, spreadsheetId, 'Leads', render);
    return { headers: (headers ?? []) as string[], rows };
  }

  async function sheetMatchesTable(): Promise<boolean> {
    const { headers, rows } = await sheetRows();
    const at = (name: string) => headers.indexOf(name);
    const onSheet = rows
      .map((r) => [r[at('id')], r[at('name')] ?? '', r[at('score')] ?? ''].map((v) => (v === '' ? null : v)))
      .map((r) => JSON.stringify([r[0], r[1], r[2] === null ? null : Number(r[2])]))
      .sort();
    const inTable = (await db.sql`select id, name, score from leads`)
      .map((r) => JSON.stringify([r.id, r.name, r.score === null ? null : Number(r.score)]))
      .sort();
    return JSON.stringify(onSheet) === JSON.stringify(inTable);
  }

  it('an INSERT appends a row with its sync id, only the columns the sheet has', async () => {
    await db.sql`insert into leads (id, name, score, secret) values (1, 'Ada', 12.5, 'not on the sheet')`;
    const { headers, rows } = await waitFor('the inserted row', async () => {
      const s = await sheetRows();
      return s.rows.length === 1 && s;
    });
    expect(headers).toEqual(['id', 'name', 'score', 'note', '_sheetsync_id']);
    expect(rows[0]!.slice(0, 3)).toEqual([1, 'Ada', 12.5]);
    expect(rows[0]![4]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an UPDATE changes only its cells; a formula and a formatted cell in unsynced columns survive', async () => {
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Leads!F2:G2',
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['=C2*2', 'keep me']] },
    });
    const bold = { textFormat: { bold: true }, backgroundColor: { red: 1, green: 0.9, blue: 0.5 } };
    await api.client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: {
        requests: [
          {
            updateCells: {
              range: { sheetId: 0, startRowIndex: 1, endRowIndex: 2, startColumnIndex: 5, endColumnIndex: 7 },
              rows: [{ values: [{ userEnteredFormat: bold }, { userEnteredFormat: bold }] }],
              fields: 'userEnteredFormat',
            },
          },
        ],
      },
    });
    const formats = async () => {
      const { data } = await api.client.spreadsheets.get({
        spreadsheetId,
        ranges: ['Leads!F2:G2'],
        includeGridData: true,
      });
      return data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.map((v) => v.userEnteredFormat);
    };
    const formatBefore = await formats();
    expect(formatBefore?.[0]?.textFormat?.bold).toBe(true);

    await db.sql`update leads set name = 'Ada Lovelace' where id = 1`;
    await waitFor('the update', async () => (await sheetRows()).rows[0]?.[1] === 'Ada Lovelace');
    const formulas = await sheetRows('FORMULA');
    expect(formulas.rows[0]?.slice(5, 7)).toEqual(['=C2*2', 'keep me']);
    expect(await formats()).toEqual(formatBefore);
  });

  it('database text that looks like a formula lands as text', async () => {
    await db.sql`update leads set note = '=IMPORTXML("http://x","//a")' where id = 1`;
    await waitFor(
      'the note',
      async () => (await sheetRows('FORMULA')).rows[0]?.[3] === '=IMPORTXML("http://x","//a")',
    );
    // Rendered as a value it is still the same text, not a formula result.
    expect((await sheetRows()).rows[0]?.[3]).toBe('=IMPORTXML("http://x","//a")');
  });

  it('a DELETE removes the row', async () => {
    await db.sql`insert into leads (id, name) values (2, 'Grace'), (3, 'Katherine')`;
    await waitFor('two more rows', async () => (await sheetRows()).rows.length === 3);
    await db.sql`delete from leads where id = 2`;
    await waitFor('the delete', async () => (await sheetRows()).rows.length === 2);
    expect(await sheetMatchesTable()).toBe(true);
  });

  it('10,000 rows inserted, updated and deleted in single statements end up equal, in a handful of requests', async () => {
    const before = applyToSheet.stats.writeRequests;
    await db.sql`insert into leads (id, name, score) select g, 'row ' || g, g / 4.0 from generate_series(10, 10009) g`;
    await waitFor('10,000 inserted rows', sheetMatchesTable, 90_000);
    await db.sql`update leads set score = score + 1 where id >= 10`;
    await waitFor('10,000 updated rows', sheetMatchesTable, 90_000);
    await db.sql`delete from leads where id >= 10 and id % 2 = 0`;
    await waitFor('5,000 deleted rows', sheetMatchesTable, 90_000);
    const used = applyToSheet.stats.writeRequests - before;
    expect(used).toBeLessThanOrEqual(30);
    // Three waits of up to 90 s each: the default 120 s is too short on a busy machine.
  }, 300_000);
});
