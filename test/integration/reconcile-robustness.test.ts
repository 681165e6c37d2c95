/**
 * reconcile where sheets get untidy and writes fail, against PostgreSQL and the local sheet
 * through @googleapis/sheets:
 * - a blank row between data rows (a person inserted one, or cleared one's cells and id) is not a
 *   row to insert: reconcile skips it instead of failing on the table's NOT NULL key;
 * - a sheet write that fails leaves no row document saying the sheet shows the new value, so the
 *   next run writes the table's value to the sheet instead of sending the sheet's old one back;
 * - rows a person inserts while reconcile runs: it stops before writing (SHEETSYNC_E506) instead of
 *   writing cells into the rows that moved into the old positions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachLink } from '../../cli/src/attach.ts';
import { reconcileLink } from '../../cli/src/reconcile.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { VersionStore } from '../../functions/src/ports.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('reconcile robustness', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('blank');
  let emulator: Emulator;
  let api: SheetsApi;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create(
      {
        spreadsheetId,
        sheets: [
          { title: 'People', sheetId: 0 },
          { title: 'Pets', sheetId: 1 },
          { title: 'Cities', sheetId: 2 },
        ],
      },
      'api',
    );
    api = new SheetsApi({
      rootUrl: emulator.url,
      logger: silentLogger,
      writesPerMinute: 600,
      readsPerMinute: 600,
    });
    await db.sql`create table public.people (id bigint primary key, name text)`;
    await db.sql`insert into public.people values (1, 'Ada'), (2, 'Grace'), (3, 'Alan')`;
    await db.sql`create table public.pets (id bigint primary key, name text)`;
    await db.sql`insert into public.pets values (1, 'Rex'), (2, 'Tom')`;
    await db.sql`create table public.cities (id bigint primary key, name text)`;
    await db.sql`insert into public.cities values (1, 'Oslo'), (2, 'Lima'), (3, 'Pune')`;
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

  it('a failed sheet write leaves the documents as they were: the next run sends the table value to the sheet', async () => {
    const link = parseConfig({
      links: [{ name: 'pets', spreadsheetId, sheet: 'Pets', table: 'public.pets' }],
    }).links[0]!;
    const store = new MemoryVersionStore();
    await attachLink({ sql: db.sql, sheetsApi: api, store, link });
    await db.sql`update public.pets set name = 'Tom II' where id = 2`;

    const failing = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger, readsPerMinute: 600 });
    failing.client.spreadsheets.values.batchUpdate = (async () => {
      throw Object.assign(new Error('the sheet is unreachable'), { response: { status: 403 } });
    }) as never;
    await expect(
      reconcileLink({ sql: db.sql, sheetsApi: failing, store, link, dryRun: false }),
    ).rejects.toMatchObject({ code: 'SHEETSYNC_E501' });
    expect(tabValues(emulator, spreadsheetId, 'Pets!A2:B3').map((r) => r.slice(0, 2))).toEqual([
      [1, 'Rex'],
      [2, 'Tom'],
    ]);

    const result = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
    expect(result).toMatchObject({ cellsToSheet: 1, cellsToDb: 0 });
    expect(tabValues(emulator, spreadsheetId, 'Pets!A2:B3').map((r) => r.slice(0, 2))).toEqual([
      [1, 'Rex'],
      [2, 'Tom II'],
    ]);
    expect((await db.sql`select name from public.pets where id = 2`)[0]?.name).toBe('Tom II');
  });

  it('stops with E506 when a row was inserted while it ran, writing no existing row; the next run repairs', async () => {
    const link = parseConfig({
      links: [{ name: 'cities', spreadsheetId, sheet: 'Cities', table: 'public.cities' }],
    }).links[0]!;
    const store = new MemoryVersionStore();
    await attachLink({ sql: db.sql, sheetsApi: api, store, link });
    await db.sql`update public.cities set name = 'Lima, Peru' where id = 2`;

    // A person inserts a row above the data while reconcile compares (at its first store read).
    let inserted = false;
    const interfering = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        if (property !== 'readRows') return value.bind(target);
        return async (...args: unknown[]) => {
          if (!inserted) {
            inserted = true;
            await api.client.spreadsheets.batchUpdate({
              spreadsheetId,
              requestBody: {
                requests: [
                  {
                    insertDimension: { range: { sheetId: 2, dimension: 'ROWS', startIndex: 1, endIndex: 2 } },
                  },
                ],
              },
            });
          }
          return value.apply(target, args);
        };
      },
    }) as VersionStore;
    const cities = () => tabValues(emulator, spreadsheetId, 'Cities!A2:B5').map((r) => r.slice(0, 2));
    await expect(
      reconcileLink({ sql: db.sql, sheetsApi: api, store: interfering, link, dryRun: false }),
    ).rejects.toMatchObject({ code: 'SHEETSYNC_E506', message: expect.stringMatching(/row 2 held sync id/) });
    expect(inserted).toBe(true);
    // Lima's new name did not go to row 3, where Lima sat when reconcile read the tab (Oslo now).
    expect(cities()).toEqual([[], [1, 'Oslo'], [2, 'Lima'], [3, 'Pune']]);

    const result = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
    expect(result).toMatchObject({ cellsToSheet: 1, cellsToDb: 0 });
    expect(cities()).toEqual([[], [1, 'Oslo'], [2, 'Lima, Peru'], [3, 'Pune']]);
  });
});
