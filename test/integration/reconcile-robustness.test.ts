/**
 * reconcile where sheets get untidy and writes fail, against PostgreSQL and the local sheet
 * through @googleapis/sheets:
 * - a blank row between data rows (a person inserted one, or cleared one's cells and id) is not a
 *   row to insert: reconcile skips it instead of failing on the table's NOT NULL key;
 * - a sheet write that fails leaves no row document saying the sheet shows the new value, so the
 *   next run writes the table's value to the sheet instead of sending the sheet's old one back;
 * - rows a person inserts while reconcile runs: it stops before writing (SHEETSYNC_E506) instead of
 *   writing cells into the rows that moved into the old positions, also in a run that gives rows
 *   their first sync id: those rows reach the table only after their ids are on the sheet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { VersionStore } from '../../functions/src/ports.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { driftFound, reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import { startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('reconcile robustness', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('blank');
  let emulator: Emulator;
  let api: SheetsApi;

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, [
      'People',
      'Pets',
      'Cities',
      'Towns',
      'Owners',
    ]));
    await db.sql`create table public.people (id bigint primary key, name text)`;
    await db.sql`insert into public.people values (1, 'Ada'), (2, 'Grace'), (3, 'Alan')`;
    await db.sql`create table public.pets (id bigint primary key, name text)`;
    await db.sql`insert into public.pets values (1, 'Rex'), (2, 'Tom')`;
    await db.sql`create table public.cities (id bigint primary key, name text)`;
    await db.sql`insert into public.cities values (1, 'Oslo'), (2, 'Lima'), (3, 'Pune')`;
    await db.sql`create table public.towns (id bigint generated always as identity primary key, name text not null)`;
    await db.sql`insert into public.towns (name) values ('Bree'), ('Hobbiton')`;
    await db.sql`create table public.owners (id bigint primary key, name text)`;
    await db.sql`insert into public.owners values (1, 'Ann'), (2, 'Ben'), (3, 'Cat'), (4, 'Dan')`;
    await db.sql`create table public.dogs (id int primary key, owner bigint references public.owners (id))`;
    await db.sql`insert into public.dogs values (1, 2)`;
  });
  afterAll(() => emulator?.close());

  /**
   * `store`, except that its first readRows (reconcile's first store read, after it read the tab)
   * first inserts an empty row above the data of tab `sheetId`, as a person might meanwhile.
   */
  function insertingRowAtFirstRead(store: VersionStore, sheetId: number) {
    let inserted = false;
    const wrapped = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        if (property !== 'readRows') return value.bind(target);
        return async (...args: unknown[]) => {
          if (!inserted) {
            inserted = true;
            const range = { sheetId, dimension: 'ROWS', startIndex: 1, endIndex: 2 };
            await api.client.spreadsheets.batchUpdate({
              spreadsheetId,
              requestBody: { requests: [{ insertDimension: { range } }] },
            });
          }
          return value.apply(target, args);
        };
      },
    }) as VersionStore;
    return { store: wrapped, inserted: () => inserted };
  }

  it('rows the sheet lost go back with their own ids: one the table would not delete, one the table changed', async () => {
    const link = parseConfig({
      links: [{ name: 'owners', spreadsheetId, sheet: 'Owners', table: 'public.owners' }],
    }).links[0]!;
    const store = new MemoryVersionStore();
    await attachLink({ sql: db.sql, sheetsApi: api, store, link });
    const rows = () => tabValues(emulator, spreadsheetId, 'Owners!A2:C9').filter((r) => r.length > 0);
    const idOf = new Map(rows().map((r) => [r[0], r[2]]));
    // Behind sheetsync's back: rows 2 (Ben, whom a dog refers to), 3 (Cat) and 4 (Dan) leave the
    // sheet, and the table changes Dan's name.
    const sheetId = (await api.client.spreadsheets.get({ spreadsheetId })).data.sheets!.find(
      (t) => t.properties?.title === 'Owners',
    )!.properties!.sheetId!;
    await api.client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: {
        requests: [
          { deleteDimension: { range: { sheetId, dimension: 'ROWS', startIndex: 2, endIndex: 5 } } },
        ],
      },
    });
    await db.sql`update public.owners set name = 'Dan II' where id = 4`;

    const result = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
    expect(result).toMatchObject({ rowsDeletedFromDb: 1, rowsAppendedToSheet: 2 });
    expect(result.deletesRefused).toEqual([
      { rowId: idOf.get(2), key: { id: '2' }, message: expect.stringMatching(/dogs.*23503/) },
    ]);
    expect(await db.sql`select id::int, name from public.owners order by id`).toEqual([
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Ben' },
      { id: 4, name: 'Dan II' },
    ]);
    // Back on the sheet under the ids they had, and their documents and keys name them.
    expect(rows().map((r) => [r[0], r[1], r[2]])).toEqual([
      [1, 'Ann', idOf.get(1)],
      [4, 'Dan II', idOf.get(4)],
      [2, 'Ben', idOf.get(2)],
    ]);
    const docs = await store.readRows('owners', [idOf.get(2) as string, idOf.get(4) as string]);
    expect(
      [...docs.values()].map((d) => [d.tombstone ?? null, d.cells.name?.value, d.cells.name?.sheetValue]),
    ).toEqual([
      [null, 'Ben', 'Ben'],
      [null, 'Dan II', 'Dan II'],
    ]);
    const keys = await store.rowIdsForKeys('owners', [{ id: '2' }, { id: '4' }]);
    expect([...keys.values()]).toEqual([idOf.get(2), idOf.get(4)]);
    // Nothing left to repair.
    const again = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: true });
    expect(driftFound(again)).toBe(false);
  });

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
    const { store: interfering, inserted } = insertingRowAtFirstRead(store, 2);
    const cities = () => tabValues(emulator, spreadsheetId, 'Cities!A2:B5').map((r) => r.slice(0, 2));
    await expect(
      reconcileLink({ sql: db.sql, sheetsApi: api, store: interfering, link, dryRun: false }),
    ).rejects.toMatchObject({ code: 'SHEETSYNC_E506', message: expect.stringMatching(/row 2 held sync id/) });
    expect(inserted()).toBe(true);
    // Lima's new name did not go to row 3, where Lima sat when reconcile read the tab (Oslo now).
    expect(cities()).toEqual([[], [1, 'Oslo'], [2, 'Lima'], [3, 'Pune']]);

    const result = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
    expect(result).toMatchObject({ cellsToSheet: 1, cellsToDb: 0 });
    expect(cities()).toEqual([[], [1, 'Oslo'], [2, 'Lima, Peru'], [3, 'Pune']]);
  });
  it('gives id-less rows their ids before inserting them, and stops with E506 instead when rows moved', async () => {
    const link = parseConfig({
      links: [{ name: 'towns', spreadsheetId, sheet: 'Towns', table: 'public.towns' }],
    }).links[0]!;
    const store = new MemoryVersionStore();
    await attachLink({ sql: db.sql, sheetsApi: api, store, link });
    // Two rows typed below the data through the API (no script here, so no ids), and a rename.
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Towns!B4:B5',
      valueInputOption: 'RAW',
      requestBody: { values: [['Bywater'], ['Tuckborough']] },
    });
    await db.sql`update public.towns set name = 'Bree-hill' where id = 1`;
    const towns = () => tabValues(emulator, spreadsheetId, 'Towns!A2:C6');
    const before = towns();

    // A person inserts a row above the data while reconcile compares (at its first store read).
    const { store: interfering, inserted } = insertingRowAtFirstRead(store, 3);
    await expect(
      reconcileLink({ sql: db.sql, sheetsApi: api, store: interfering, link, dryRun: false }),
    ).rejects.toMatchObject({
      code: 'SHEETSYNC_E506',
      message: expect.stringMatching(/without a sync id were not added/),
    });
    expect(inserted()).toBe(true);
    // No id landed on a row that moved into an id-less row's old place, and the id-less rows did
    // not reach the table (without their ids on the sheet, the next run would insert them again).
    expect(towns()).toEqual([[], ...before.slice(0, 4)]);
    expect((await db.sql`select name from public.towns order by id`).map((r) => r.name)).toEqual([
      'Bree-hill',
      'Hobbiton',
    ]);

    const result = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
    expect(result).toMatchObject({ idsAssigned: 2, rowsInsertedInDb: 2, cellsToSheet: 1 });
    const after = towns();
    expect(after.map((r) => r.slice(0, 2))).toEqual([
      [],
      [1, 'Bree-hill'],
      [2, 'Hobbiton'],
      [3, 'Bywater'],
      [4, 'Tuckborough'],
    ]);
    const rows = await db.sql`select id::int, name from public.towns order by id`;
    expect(rows).toEqual([
      { id: 1, name: 'Bree-hill' },
      { id: 2, name: 'Hobbiton' },
      { id: 3, name: 'Bywater' },
      { id: 4, name: 'Tuckborough' },
    ]);
    // Each new row's id on the sheet is the one its document holds, with the key it got.
    for (const row of after.slice(3)) {
      const doc = (await store.readRows('towns', [String(row[2])])).get(String(row[2]));
      expect(doc?.key).toEqual({ id: String(row[0]) });
    }
    const again = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: true });
    expect(again).toMatchObject({
      idsAssigned: 0,
      rowsInsertedInDb: 0,
      cellsToSheet: 0,
      cellsToDb: 0,
      rowsAppendedToSheet: 0,
    });
  });
});
