/**
 * attach and reconcile against PostgreSQL, the Firestore emulator and the local sheet (through
 * @googleapis/sheets): table → empty sheet, sheet → missing table, and drift planted on both
 * sides behind the pipeline's back.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { describeTable } from '../../functions/src/adapters/table/table-schema.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('attach and reconcile', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let firestore: Firestore;
  let store: FirestoreVersionStore;
  let api: SheetsApi;
  const spreadsheetId = uniqueName('attach');

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['People', 'Typed']));
    ({ firestore, store } = emulatorVersionStore());
  });
  afterAll(async () => {
    await firestore?.terminate();
    await emulator?.close();
  });

  const link = (name: string, sheet: string, table: string, policy = 'last-writer-wins') =>
    parseConfig({ links: [{ name, spreadsheetId, sheet, table, conflict: { policy } }] }).links[0]!;

  it('fills an empty sheet from the table, then repairs drift planted on both sides', async () => {
    await db.sql`create table public.people (
      id bigint primary key, name text, score numeric(10,2), active boolean, born date, seen timestamptz)`;
    await db.sql`insert into public.people
      select i, 'person ' || i, i * 1.5, i % 2 = 0, date '2000-01-01' + i, timestamptz '2024-01-01T00:00:00Z' + i * interval '1 hour'
      from generate_series(1, 250) i`;
    const people = link('people', 'People', 'public.people');
    const progress: number[] = [];
    const result = await attachLink({
      sql: db.sql,
      sheetsApi: api,
      store,
      link: people,
      chunkRows: 100,
      onProgress: (done) => progress.push(done),
    });
    expect(result).toMatchObject({ mode: 'table-to-sheet', rows: 250 });
    expect(progress).toEqual([100, 200, 250]);

    const values = tabValues(emulator, spreadsheetId, 'People');
    expect(values[0]).toEqual(['id', 'name', 'score', 'active', 'born', 'seen', '_sheetsync_id']);
    expect(values).toHaveLength(251);
    expect(values[1]!.slice(0, 6)).toEqual([1, 'person 1', 1.5, false, '2000-01-02', '2024-01-01T01:00:00Z']);
    expect(values[250]!.slice(0, 6)).toEqual([
      250,
      'person 250',
      375,
      true,
      '2000-09-07',
      '2024-01-11T10:00:00Z',
    ]);
    const ids = values.slice(1).map((row) => row[6]);
    expect(new Set(ids).size).toBe(250);
    const sheet = emulator.model.get(spreadsheetId)!.sheetByTitle('People')!;
    expect(JSON.stringify(sheet)).toContain('hiddenByUser');
    const keys = await store.rowIdsForKeys('people', [{ id: '1' }, { id: '250' }]);
    expect([...keys.values()]).toEqual([ids[0], ids[249]]);
    // Each row is on the sheet from its chunk's append on (RowDocument.onSheetSince).
    const attached = await store.readRows('people', [ids[0] as string, ids[249] as string]);
    const since = [...attached.values()].map((d) => d.onSheetSince ?? 0);
    expect(since.every((t) => t > 0 && t <= Date.now())).toBe(true);
    expect(since[1]).toBeGreaterThanOrEqual(since[0]!);

    // Nothing drifted yet.
    const clean = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link: people, dryRun: true });
    expect(clean).toMatchObject({ rowsCompared: 250, cellsToDb: 0, cellsToSheet: 0, conflicts: 0 });

    // Drift: the DB without the triggers' knowledge, the sheet through the API.
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.people set name = 'db drift ' || id where id in (3, 4)`;
      await tx`update public.people set score = 999 where id = 10`;
    });
    await api.client.spreadsheets.values.batchUpdate({
      spreadsheetId,
      requestBody: {
        valueInputOption: 'RAW',
        data: [
          { range: 'People!B6', values: [['sheet drift 5']] },
          { range: 'People!C11', values: [[123]] },
        ],
      },
    });
    const dry = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link: people, dryRun: true });
    expect(dry).toMatchObject({ cellsToDb: 1, cellsToSheet: 2, conflicts: 1, dryRun: true });
    expect(tabValues(emulator, spreadsheetId, 'People!B4:B6')).toEqual([
      ['person 3'],
      ['person 4'],
      ['sheet drift 5'],
    ]);
    expect((await db.sql`select name from public.people where id = 5`)[0]!.name).toBe('person 5');

    const fixed = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link: people, dryRun: false });
    expect(fixed).toMatchObject({ cellsToDb: 1, cellsToSheet: 2, conflicts: 1, dryRun: false });
    expect(tabValues(emulator, spreadsheetId, 'People!B4:B6')).toEqual([
      ['db drift 3'],
      ['db drift 4'],
      ['sheet drift 5'],
    ]);
    expect((await db.sql`select name from public.people where id = 5`)[0]!.name).toBe('sheet drift 5');
    // Both changed score of row 10: last-writer-wins cannot order drift, so the DB value stays.
    expect(tabValues(emulator, spreadsheetId, 'People!C11')).toEqual([[999]]);
    const [conflict] = await store.listOpenConflicts('people');
    expect(conflict).toBeUndefined();

    const after = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link: people, dryRun: true });
    expect(after).toMatchObject({ cellsToDb: 0, cellsToSheet: 0, conflicts: 0 });
  });

  it('fills a missing table from the sheet, with inferred types and a generated key', async () => {
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Typed!A1',
      valueInputOption: 'RAW',
      requestBody: {
        values: [
          ['Full name', 'Age', 'Ratio', 'Member', 'Joined', 'Last seen'],
          ['Ada', 36, 0.5, true, '1815-12-10', '2024-05-01T10:00:00Z'],
          ['Grace', 85, 1.25, false, '1906-12-09', '2024-05-02T11:30:00Z'],
          ['Alan', '', 2, true, '', '2024-05-03T12:00:00Z'],
        ],
      },
    });
    const typed = link('typed', 'Typed', 'public.typed');
    const result = await attachLink({ sql: db.sql, sheetsApi: api, store, link: typed });
    expect(result).toEqual({ mode: 'sheet-to-table', rows: 3, createdTable: true, idsAssigned: 3 });
    const schema = await describeTable(db.sql, 'public.typed');
    expect(Object.fromEntries(schema.columns.map((c) => [c.name, c.type]))).toEqual({
      id: 'bigint',
      full_name: 'text',
      age: 'integer',
      ratio: 'numeric',
      member: 'boolean',
      joined: 'date',
      last_seen: 'timestamp with time zone',
    });
    expect(schema.primaryKey).toEqual(['id']);
    const rows =
      await db.sql`select full_name, age, ratio::text, member, joined::text from public.typed order by id`;
    expect(rows.map((r) => [r.full_name, r.age, r.ratio, r.member, r.joined])).toEqual([
      ['Ada', 36, '0.5', true, '1815-12-10'],
      ['Grace', 85, '1.25', false, '1906-12-09'],
      ['Alan', null, '2', true, null],
    ]);
    const values = tabValues(emulator, spreadsheetId, 'Typed');
    expect(values[0]![6]).toBe('_sheetsync_id');
    const ids = values.slice(1).map((r) => r[6]);
    expect(ids.every((id) => typeof id === 'string' && id.length === 36)).toBe(true);
    const docs = await store.readRows('typed', ids as string[]);
    expect(docs.size).toBe(3);
    // On the sheet with their ids from the id write on (RowDocument.onSheetSince).
    expect([...docs.values()].every((d) => (d.onSheetSince ?? 0) > 0)).toBe(true);
    // A second run finds nothing to do.
    const again = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link: typed, dryRun: true });
    expect(again).toMatchObject({
      rowsCompared: 3,
      cellsToDb: 0,
      cellsToSheet: 0,
      rowsInsertedInDb: 0,
      idsAssigned: 0,
    });
  });

  it('fits a tab under Google’s 10M-cell cap by deleting its empty columns, or stops before writing', async () => {
    // Another tab holds 9,924,200 cells; a new tab is 1,000 × 26 (26,000 more).
    const capped = uniqueName('capped');
    emulator.model.create(
      {
        spreadsheetId: capped,
        sheets: [
          { title: 'Wide', sheetId: 0 },
          { title: 'Narrow', sheetId: 1 },
          { title: 'Filler', sheetId: 2, rowCount: 381_700 },
        ],
      },
      'api',
    );
    await db.sql`create table public.capped (id int primary key, name text)`;
    await db.sql`insert into public.capped select i, 'n' || i from generate_series(1, 2000) i`;
    const total = () => emulator.model.get(capped)!.totalCells();
    expect(total()).toBe(381_700 * 26 + 2 * 26_000);

    // 2,001 rows × 26 columns would pass the cap; × 3 columns (id, name, _sheetsync_id) fits.
    const wide = parseConfig({
      links: [{ name: 'capped', spreadsheetId: capped, sheet: 'Wide', table: 'public.capped' }],
    }).links[0]!;
    expect(await attachLink({ sql: db.sql, sheetsApi: api, store, link: wide })).toMatchObject({
      mode: 'table-to-sheet',
      rows: 2000,
    });
    const sheet = emulator.model.get(capped)!.sheetByTitle('Wide')!;
    expect([sheet.rowCount, sheet.columnCount]).toEqual([2001, 3]);
    expect(tabValues(emulator, capped, 'Wide!A2001:B2001')).toEqual([[2000, 'n2000']]);

    // 30,000 rows do not fit even 3 columns wide: refused before anything is written.
    await db.sql`create table public.toomany (id int primary key, name text)`;
    await db.sql`insert into public.toomany select i, 'n' || i from generate_series(1, 30000) i`;
    const narrow = parseConfig({
      links: [{ name: 'toomany', spreadsheetId: capped, sheet: 'Narrow', table: 'public.toomany' }],
    }).links[0]!;
    const before = total();
    await expect(attachLink({ sql: db.sql, sheetsApi: api, store, link: narrow })).rejects.toMatchObject({
      code: 'SHEETSYNC_E507',
      message: expect.stringContaining('nothing was written'),
    });
    expect(total()).toBe(before);
    expect(tabValues(emulator, capped, 'Narrow')).toEqual([]);
    expect(await store.liveRowIds('toomany')).toEqual([]);
  });
});
