/**
 * A blank row between data rows (a person inserted one, or cleared one's cells and id) is not a
 * row to insert: reconcile skips it instead of failing on the table's NOT NULL key, and repairs
 * the rest. PostgreSQL, the local sheet through @googleapis/sheets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachLink } from '../../cli/src/attach.ts';
import { reconcileLink } from '../../cli/src/reconcile.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('reconcile and blank rows', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('blank');
  let emulator: Emulator;
  let api: SheetsApi;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'People', sheetId: 0 }] }, 'api');
    api = new SheetsApi({
      rootUrl: emulator.url,
      logger: silentLogger,
      writesPerMinute: 600,
      readsPerMinute: 600,
    });
    await db.sql`create table public.people (id bigint primary key, name text)`;
    await db.sql`insert into public.people values (1, 'Ada'), (2, 'Grace'), (3, 'Alan')`;
  });
  afterAll(() => emulator?.close());

  it('skips a blank row inserted between data rows, and repairs the drifted cell', async () => {
    const link = parseConfig({
      links: [{ name: 'people', spreadsheetId, sheet: 'People', table: 'public.people' }],
    }).links[0]!;
    const store = new MemoryVersionStore();
    await attachLink({ sql: db.sql, sheetsApi: api, store, link });
    await api.client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: {
        requests: [
          { insertDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 2, endIndex: 3 } } },
        ],
      },
    });
    await db.sql`update public.people set name = 'Grace H.' where id = 2`;

    const dry = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: true });
    expect(dry).toMatchObject({ rowsCompared: 3, cellsToSheet: 1, cellsToDb: 0, rowsInsertedInDb: 0 });
    const result = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
    expect(result).toMatchObject({ cellsToSheet: 1, rowsInsertedInDb: 0, idsAssigned: 0 });
    const names = tabValues(emulator, spreadsheetId, 'People!A2:B5').map((r) => r.slice(0, 2));
    expect(names).toEqual([[1, 'Ada'], [], [2, 'Grace H.'], [3, 'Alan']]);
    expect(await db.sql`select id::int, name from public.people order by id`).toEqual([
      { id: 1, name: 'Ada' },
      { id: 2, name: 'Grace H.' },
      { id: 3, name: 'Alan' },
    ]);
  });
});
