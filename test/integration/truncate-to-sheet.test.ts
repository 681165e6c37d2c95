/**
 * TRUNCATE of a synced table reaches the sheet: the capture trigger, the relay (a copy to every
 * key bucket), the Pub/Sub emulator, applyToSheet with the Firestore emulator store, and the
 * local sheet, read back through the local sheet's model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { createLogger } from '../../functions/src/log.ts';
import { type DbToSheetStack, startDbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { waitFor } from '../support/wait.ts';

describe('TRUNCATE → sheet', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let api: SheetsApi;
  let spreadsheetId: string;
  let store: DbToSheetStack['store'];
  let stack: DbToSheetStack | undefined;
  const warnings: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    stack = await startDbToSheetStack(db.sql, {
      logger: createLogger({
        level: 'WARNING',
        write: (line) => warnings.push(JSON.parse(line) as Record<string, unknown>),
      }),
      table: 'public.leads',
      headers: ['id', 'name', 'score', 'note'],
      createTable: (sql) =>
        sql`create table public.leads (id int primary key, name text, score numeric(10,2), note text, secret text)`,
    });
    ({ emulator, api, spreadsheetId } = stack);
    store = stack.store;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** The tab's rows, read from the local sheet's model (see test/support/sheet-state.ts). */
  function sheetRows(render: 'UNFORMATTED_VALUE' | 'FORMULA' = 'UNFORMATTED_VALUE') {
    const [headers, ...rows] = tabValues(emulator, spreadsheetId, 'Leads', render);
    return { headers: (headers ?? []) as string[], rows };
  }

  /** The synced rows of the sheet (those with a sync id) as [id, name], sorted by id. */
  function syncedRows(): Array<[unknown, unknown]> {
    const { headers, rows } = sheetRows();
    const at = (name: string) => headers.indexOf(name);
    return rows
      .filter((r) => r[at('_sheetsync_id')])
      .map((r): [unknown, unknown] => [r[at('id')], r[at('name')]])
      .sort((a, b) => Number(a[0]) - Number(b[0]));
  }

  async function tableRows(): Promise<Array<[unknown, unknown]>> {
    return (await db.sql`select id, name from leads order by id`).map((r): [unknown, unknown] => [
      r.id,
      r.name,
    ]);
  }

  it('empties the synced rows of a 1,000-row tab; the header and rows without a sync id stay; the store keeps tombstones', async () => {
    await db.sql`insert into leads (id, name) select g, 'row ' || g from generate_series(1, 1000) g`;
    await waitFor('1,000 rows on the sheet', async () => syncedRows().length === 1000, 90_000);
    // A formula in an unsynced column of a synced row, and a row typed without a sync id.
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Leads!G2',
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['=A2*2']] },
    });
    await api.client.spreadsheets.values.append({
      spreadsheetId,
      range: 'Leads!A1',
      valueInputOption: 'RAW',
      insertDataOption: 'INSERT_ROWS',
      requestBody: { values: [['', 'typed by a person, not synced']] },
    });
    await store.bumpSheetEpoch('leads');
    const before = sheetRows();
    const idAt = before.headers.indexOf('_sheetsync_id');
    const rowIds = before.rows
      .map((r) => r[idAt])
      .filter((id): id is string => typeof id === 'string' && id !== '');
    expect(rowIds).toHaveLength(1000);
    // The row documents are committed just after the sheet write.
    await waitFor(
      '1,000 live row documents',
      async () => (await store.liveRowIds('leads')).length === 1000,
      60_000,
    );

    const truncates = await db.sql.begin(async (tx) => {
      await tx`truncate leads`;
      return tx<{ id: string }[]>`select id::text as id from sheetsync.outbox where op = 'TRUNCATE'`;
    });
    expect(truncates).toHaveLength(1);
    const outboxId = truncates[0]!.id;
    await waitFor('the synced rows gone', async () => syncedRows().length === 0, 90_000);
    const after = sheetRows();
    expect(after.headers).toEqual(before.headers);
    expect(after.rows.filter((r) => r.some((v) => v !== ''))).toEqual([
      ['', 'typed by a person, not synced'],
    ]);
    await waitFor(
      'no live row documents',
      async () => (await store.liveRowIds('leads')).length === 0,
      60_000,
    );
    const docs = await store.readRows('leads', rowIds);
    expect(docs.size).toBe(1000);
    for (const doc of docs.values()) expect(doc.tombstone?.dot).toBe(`db:${Number(outboxId) * 1000}`);
    // Not held (an operator's act), but said at WARNING with the rows that left the sheet.
    expect(warnings).toContainEqual(
      expect.objectContaining({ severity: 'WARNING', code: 'SHEETSYNC_E422', count: 1000, link: 'leads' }),
    );
  });

  it('TRUNCATE then INSERTs in one transaction leaves exactly the new rows, keys used before among them', async () => {
    await db.sql`delete from leads`;
    await waitFor('an empty tab', async () => syncedRows().length === 0, 60_000);
    await db.sql`insert into leads (id, name) values (1, 'old one'), (2, 'old two'), (3, 'old three')`;
    await waitFor('three rows', async () => syncedRows().length === 3, 60_000);
    await db.sql.begin(async (tx) => {
      await tx`update leads set name = 'changed before' where id = 3`;
      await tx`truncate leads`;
      await tx`insert into leads (id, name) values (2, 'new two'), (7, 'new seven')`;
      await tx`update leads set name = 'new two, changed' where id = 2`;
    });
    const expected = [
      [2, 'new two, changed'],
      [7, 'new seven'],
    ];
    expect(await tableRows()).toEqual(expected);
    await waitFor(
      'the new rows only',
      async () => JSON.stringify(syncedRows()) === JSON.stringify(expected),
      60_000,
    );
    // Nothing more arrives later (a copy of the truncate in another bucket must not delete them).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(syncedRows()).toEqual(expected);
    await waitFor(
      'two live row documents',
      async () => (await store.liveRowIds('leads')).length === 2,
      30_000,
    );
  });
});
