/**
 * attach (both directions, including creating a table from a sheet) and reconcile, one suite on
 * PostgreSQL and on MariaDB (test/support/engines.ts), against the Firestore emulator and the
 * local sheet through @googleapis/sheets. The PostgreSQL-only details (cursor chunks, the 10M-
 * cell cap) stay in attach.test.ts; this suite holds what both engines must do alike.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import { engines, useEngineDatabase } from '../support/engines.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { tabValues } from '../support/sheet-state.ts';

const ROWS = 60;
/** The seed rows, as portable SQL literals (the suite's own text). */
const seed = Array.from(
  { length: ROWS },
  (_, i) =>
    `(${i + 1}, 'person ${i + 1}', ${(i + 1) * 1.5}, ${(i + 1) % 2 === 0}, '2000-01-${String((i % 28) + 1).padStart(2, '0')}')`,
).join(', ');

describe.each(engines)('attach and reconcile on %s', (engine) => {
  const db = useEngineDatabase(engine);
  let emulator: Emulator;
  let firestore: Firestore;
  let store: FirestoreVersionStore;
  let api: SheetsApi;
  const spreadsheetId = uniqueName(`attach-${engine}`);

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['People', 'Typed', 'Keyed']));
    ({ firestore, store } = emulatorVersionStore());
  });
  afterAll(async () => {
    await firestore?.terminate();
    await emulator?.close();
  });

  const link = (name: string, sheet: string, table: string) =>
    parseConfig({
      links: [{ name, spreadsheetId, sheet, table, conflict: { policy: 'last-writer-wins' } }],
    }).links[0]!;
  const deps = (l: ReturnType<typeof link>) => ({ ...db.deps(), sheetsApi: api, store, link: l });

  it('fills an empty sheet from the table, then repairs cell drift planted on both sides', async () => {
    await db.exec(
      'create table people (id bigint primary key, name varchar(100), score decimal(10,2), active boolean, born date)',
    );
    await db.exec(`insert into people values ${seed}`);
    const people = link('people', 'People', 'people');
    const progress: number[] = [];
    const result = await attachLink({ ...deps(people), chunkRows: 25, onProgress: (d) => progress.push(d) });
    expect(result).toMatchObject({ mode: 'table-to-sheet', rows: ROWS });
    // Chunks of 25 from one snapshot (SyncDatabase.scanRows), each in key order.
    expect(progress).toEqual([25, 50, 60]);
    const values = tabValues(emulator, spreadsheetId, 'People');
    expect(values[0]).toEqual(['id', 'name', 'score', 'active', 'born', '_sheetsync_id']);
    expect(values).toHaveLength(ROWS + 1);
    expect(values[1]!.slice(0, 5)).toEqual([1, 'person 1', 1.5, false, '2000-01-01']);
    expect(values[ROWS]!.slice(0, 5)).toEqual([ROWS, `person ${ROWS}`, ROWS * 1.5, true, '2000-01-04']);
    const ids = values.slice(1).map((row) => row[5]);
    expect(new Set(ids).size).toBe(ROWS);
    const keys = await store.rowIdsForKeys('people', [{ id: '1' }, { id: String(ROWS) }]);
    expect([...keys.values()]).toEqual([ids[0], ids[ROWS - 1]]);

    const clean = await reconcileLink({ ...deps(people), dryRun: true });
    expect(clean).toMatchObject({ rowsCompared: ROWS, cellsToDb: 0, cellsToSheet: 0, conflicts: 0 });

    // Drift: the table behind the pipeline's back (nothing watches it), the sheet through the API.
    await db.exec("update people set name = concat('db drift ', id) where id in (3, 4)");
    await db.exec('update people set score = 999 where id = 10');
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
    const dry = await reconcileLink({ ...deps(people), dryRun: true });
    expect(dry).toMatchObject({ cellsToDb: 1, cellsToSheet: 2, conflicts: 1, dryRun: true });
    expect((await db.rows('select name from people where id = 5'))[0]!.name).toBe('person 5');

    const fixed = await reconcileLink({ ...deps(people), dryRun: false });
    expect(fixed).toMatchObject({ cellsToDb: 1, cellsToSheet: 2, conflicts: 1, dryRun: false });
    expect(tabValues(emulator, spreadsheetId, 'People!B4:B6')).toEqual([
      ['db drift 3'],
      ['db drift 4'],
      ['sheet drift 5'],
    ]);
    expect((await db.rows('select name from people where id = 5'))[0]!.name).toBe('sheet drift 5');
    // Both changed row 10's score: last-writer-wins cannot order drift, so the table's value stays.
    expect(tabValues(emulator, spreadsheetId, 'People!C11')).toEqual([[999]]);
    expect(await reconcileLink({ ...deps(people), dryRun: true })).toMatchObject({
      cellsToDb: 0,
      cellsToSheet: 0,
      conflicts: 0,
    });

    // Rows: one deleted on the sheet, one inserted in the table, one typed on the sheet without
    // a key (the table assigns none here: its key is typed, so it is given).
    const sheetId = emulator.model.get(spreadsheetId)!.sheetByTitle('People')!.sheetId;
    await api.client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: {
        requests: [
          { deleteDimension: { range: { sheetId, dimension: 'ROWS', startIndex: 20, endIndex: 21 } } },
        ],
      },
    });
    await db.exec("insert into people values (1000, 'from the table', 1, true, '2001-02-03')");
    await api.client.spreadsheets.values.append({
      spreadsheetId,
      range: 'People!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [[2000, 'from the sheet', 2.5, false, '2002-03-04']] },
    });
    const rows = await reconcileLink({ ...deps(people), dryRun: false });
    expect(rows).toMatchObject({ rowsDeletedFromDb: 1, rowsAppendedToSheet: 1, rowsInsertedInDb: 1 });
    expect(await db.rows('select id from people where id = 20')).toEqual([]);
    expect((await db.rows('select name from people where id = 2000'))[0]!.name).toBe('from the sheet');
    const after = tabValues(emulator, spreadsheetId, 'People');
    expect(after.some((r) => r[0] === 1000 && r[1] === 'from the table')).toBe(true);
    expect(after.some((r) => r[0] === 20)).toBe(false);
    expect(await reconcileLink({ ...deps(people), dryRun: true })).toMatchObject({
      rowsCompared: ROWS + 1,
      cellsToDb: 0,
      cellsToSheet: 0,
      rowsInsertedInDb: 0,
      rowsAppendedToSheet: 0,
      rowsDeletedFromDb: 0,
    });
  });

  it('creates a missing table from the sheet, with inferred types and a generated key', async () => {
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Typed!A1',
      valueInputOption: 'RAW',
      requestBody: {
        values: [
          ['Full name', 'Age', 'Ratio', 'Member', 'Joined', 'Last seen'],
          ['Ada', 36, 0.5, true, '1985-12-10', '2024-05-01T10:00:00Z'],
          ['Grace', 85, 1.25, false, '1906-12-09', '2024-05-02T11:30:00Z'],
          ['Alan', '', 2, true, '', '2024-05-03T12:00:00Z'],
        ],
      },
    });
    const typed = link('typed', 'Typed', 'typed');
    const result = await attachLink(deps(typed));
    expect(result).toEqual({ mode: 'sheet-to-table', rows: 3, createdTable: true, idsAssigned: 3 });
    const schema = await db.deps().database.describe('typed', typed);
    expect(Object.fromEntries(schema.columns.map((c) => [c.name, c.type]))).toEqual({
      id: 'bigint',
      full_name: 'text',
      age: 'integer',
      // PostgreSQL's exact numeric; MySQL's DOUBLE holds a sheet number exactly (mysql-sync-database.ts).
      ratio: engine === 'postgres' ? 'numeric' : 'double precision',
      member: 'boolean',
      joined: 'date',
      last_seen: 'timestamp with time zone',
    });
    expect(schema.primaryKey).toEqual(['id']);
    // The table's generated keys flowed back to the sheet with the rows' ids.
    const values = tabValues(emulator, spreadsheetId, 'Typed');
    expect(values[0]).toEqual([
      'Full name',
      'Age',
      'Ratio',
      'Member',
      'Joined',
      'Last seen',
      '_sheetsync_id',
    ]);
    const stored = await db.rows('select id, full_name, age, member from typed order by id');
    expect(stored.map((r) => [r.full_name, r.age, Boolean(r.member)])).toEqual([
      ['Ada', 36, true],
      ['Grace', 85, false],
      ['Alan', null, true],
    ]);
    const ids = values.slice(1).map((r) => r[6]);
    expect(ids.every((id) => typeof id === 'string' && id.length === 36)).toBe(true);
    expect((await store.readRows('typed', ids as string[])).size).toBe(3);
    const again = await reconcileLink({ ...deps(typed), dryRun: true });
    expect(again).toMatchObject({ rowsCompared: 3, cellsToDb: 0, cellsToSheet: 0, rowsInsertedInDb: 0 });
  });

  it('creates a table keyed by the sheet’s own id column, text keys included', async () => {
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Keyed!A1',
      valueInputOption: 'RAW',
      requestBody: {
        values: [
          ['ID', 'Label'],
          ['a-1', 'first'],
          ['b-2', 'second'],
        ],
      },
    });
    const keyed = link('keyed', 'Keyed', 'keyed');
    expect(await attachLink(deps(keyed))).toMatchObject({
      mode: 'sheet-to-table',
      rows: 2,
      createdTable: true,
    });
    const schema = await db.deps().database.describe('keyed', keyed);
    expect(schema.primaryKey).toEqual(['id']);
    expect((await db.rows('select id, label from keyed order by id')).map((r) => [r.id, r.label])).toEqual([
      ['a-1', 'first'],
      ['b-2', 'second'],
    ]);
  });
});
