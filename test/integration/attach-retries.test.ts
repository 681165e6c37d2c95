/**
 * attach's and reconcile's sheet writes (SheetGrid, attach's header request) after a request
 * whose outcome is unknown, against PostgreSQL, the Firestore emulator and the local sheet
 * (through @googleapis/sheets), which applies the request and then loses its answer. Sent again
 * as they were, the header request protects the id column twice, an append lists a chunk of the
 * table twice, and a delete takes the row that moved up into the deleted one's place.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { ID_HEADER } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { SheetGrid } from '../../functions/src/sync-jobs/sheet-grid.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('attach and SheetGrid after lost answers', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let firestore: Firestore;
  let store: FirestoreVersionStore;
  let api: SheetsApi;
  const spreadsheetId = uniqueName('attach-retries');

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['People', 'Grid']));
    ({ firestore, store } = emulatorVersionStore());
    emulator.faults.configure({ target: 'write', lostResponseAs: 'reset' });
  });
  afterAll(async () => {
    await firestore?.terminate();
    await emulator?.close();
  });

  it('attach protects the id column once and lists every table row once', async () => {
    await db.sql`create table public.people (id int primary key, name text)`;
    await db.sql`insert into public.people select i, 'person ' || i from generate_series(1, 250) i`;
    const link = parseConfig({
      links: [{ name: 'people', spreadsheetId, sheet: 'People', table: 'public.people' }],
    }).links[0]!;
    // The header request's answer is lost, and then the second chunk's append's.
    emulator.faults.configure({ lostResponseNext: 1 });
    const result = await attachLink({
      sql: db.sql,
      sheetsApi: api,
      store,
      link,
      chunkRows: 100,
      onProgress: (done) => {
        if (done === 100) emulator.faults.configure({ lostResponseNext: 1 });
      },
    });
    expect(result).toMatchObject({ mode: 'table-to-sheet', rows: 250 });
    const values = tabValues(emulator, spreadsheetId, 'People');
    expect(values[0]).toEqual(['id', 'name', ID_HEADER]);
    expect(values.slice(1).map((row) => row[0])).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(new Set(values.slice(1).map((row) => row[2])).size).toBe(250);
    const sheet = emulator.model.get(spreadsheetId).sheetByTitle('People')!;
    expect(sheet.protectedRanges).toHaveLength(1);
    expect(api.counts.outcomeUnknown).toBeGreaterThanOrEqual(2);
  });

  it('SheetGrid deletes the rows it was asked to and no other', async () => {
    const grid = new SheetGrid(api, spreadsheetId, 'Grid');
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Grid!A1',
      valueInputOption: 'RAW',
      requestBody: {
        values: [['name', ID_HEADER], ...['a', 'b', 'c', 'd', 'e'].map((name) => [name, `id-${name}`])],
      },
    });
    emulator.faults.configure({ lostResponseNext: 1 });
    await grid.deleteRows(await grid.sheetId(), [3, 5]); // b and d
    expect(tabValues(emulator, spreadsheetId, 'Grid').map((row) => row[0])).toEqual(['name', 'a', 'c', 'e']);
  });

  it('SheetGrid appends each row once', async () => {
    const grid = new SheetGrid(api, spreadsheetId, 'Grid');
    emulator.faults.configure({ lostResponseNext: 1, lostResponseAs: 500 });
    await grid.appendRows(await grid.sheetId(), [
      ['f', 'id-f'],
      ['g', 'id-g'],
    ]);
    expect(tabValues(emulator, spreadsheetId, 'Grid').map((row) => row[0])).toEqual([
      'name',
      'a',
      'c',
      'e',
      'f',
      'g',
    ]);
  });
});
