import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { ID_HEADER, SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';

describe('SheetTab against the local sheet through @googleapis/sheets', () => {
  let emulator: Emulator;
  let api: SheetsApi;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    api = new SheetsApi({
      rootUrl: emulator.url,
      logger: silentLogger,
      writesPerMinute: 600,
      readsPerMinute: 600,
    });
  });
  afterAll(() => emulator.close());

  async function newTab(rows: unknown[][]) {
    const spreadsheetId = `tab-test-${randomUUID()}`;
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 7 }] }, 'api');
    if (rows.length > 0) {
      await api.client.spreadsheets.values.update({
        spreadsheetId,
        range: "'Leads'!A1",
        valueInputOption: 'USER_ENTERED',
        requestBody: { values: rows },
      });
    }
    return { spreadsheetId, tab: new SheetTab(api, spreadsheetId, 'Leads') };
  }

  async function grid(spreadsheetId: string, render = 'UNFORMATTED_VALUE') {
    const res = await api.client.spreadsheets.values.get({
      spreadsheetId,
      range: 'Leads',
      valueRenderOption: render,
    });
    return res.data.values ?? [];
  }

  it('creates the id column hidden and protected, and appends rows with their ids', async () => {
    const { spreadsheetId, tab } = await newTab([['id', 'name']]);
    const snapshot = await tab.read();
    expect(snapshot.idColumn).toBeNull();
    const ids = [randomUUID(), randomUUID()];
    const stats = await tab.write(snapshot, {
      updates: [],
      appends: [
        { rowId: ids[0]!, cells: { id: 1, name: 'Ada' } },
        { rowId: ids[1]!, cells: { id: 2, name: '=IMPORTXML("http://x","//a")' } },
      ],
      deletes: [],
      addHeaders: ['email'],
    });
    expect(stats.writeRequests).toBe(3); // structure, header cells, appended rows
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', 'email', ID_HEADER],
      [1, 'Ada', '', ids[0]],
      [2, '=IMPORTXML("http://x","//a")', '', ids[1]],
    ]);
    // Text that looks like a formula stays text: the FORMULA rendering shows no formula either.
    const formulas = await grid(spreadsheetId, 'FORMULA');
    expect(formulas[2]?.[1]).toBe('=IMPORTXML("http://x","//a")');
    const meta = await api.client.spreadsheets.get({ spreadsheetId });
    const sheet = meta.data.sheets?.[0];
    expect(sheet?.protectedRanges?.[0]).toMatchObject({
      warningOnly: true,
      range: { startColumnIndex: 3, endColumnIndex: 4 },
    });
    const after = await tab.read();
    expect(after.idColumn).toBe(3);
    expect([...after.rows.keys()]).toEqual(ids);
  });

  it('writes only the changed cells: a formula and a value in other columns survive', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const { spreadsheetId, tab } = await newTab([
      ['id', 'name', 'total', ID_HEADER],
      [1, 'Ada', '=A2*10', a],
      [2, 'Grace', '=A3*10', b],
    ]);
    const snapshot = await tab.read();
    const stats = await tab.write(snapshot, {
      updates: [{ rowId: b, cells: { name: 'Grace H.' } }],
      appends: [],
      deletes: [],
      addHeaders: [],
    });
    expect(stats).toMatchObject({ writeRequests: 1, cellsWritten: 1 });
    const formulas = await grid(spreadsheetId, 'FORMULA');
    expect(formulas).toEqual([
      ['id', 'name', 'total', ID_HEADER],
      [1, 'Ada', '=A2*10', a],
      [2, 'Grace H.', '=A3*10', b],
    ]);
  });

  it('deletes rows bottom-up by sync id in one request, whatever their order', async () => {
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const { spreadsheetId, tab } = await newTab([['n', ID_HEADER], ...ids.map((id, i) => [i, id])]);
    const snapshot = await tab.read();
    const stats = await tab.write(snapshot, {
      updates: [],
      appends: [],
      deletes: [ids[1]!, ids[5]!, ids[2]!],
      addHeaders: [],
    });
    expect(stats).toMatchObject({ writeRequests: 1, rowsDeleted: 3 });
    expect(await grid(spreadsheetId)).toEqual([
      ['n', ID_HEADER],
      [0, ids[0]],
      [3, ids[3]],
      [4, ids[4]],
    ]);
  });

  it('reports pasted copies of an id', async () => {
    const id = randomUUID();
    const { tab } = await newTab([
      ['n', ID_HEADER],
      [1, id],
      [2, randomUUID()],
      [1, id],
    ]);
    const snapshot = await tab.read();
    expect(snapshot.duplicateRows).toEqual([4]);
    expect(snapshot.rows.get(id)?.row).toBe(2);
  });

  it('names a missing tab with a clear error', async () => {
    const { spreadsheetId } = await newTab([]);
    await expect(new SheetTab(api, spreadsheetId, 'Nope').read()).rejects.toMatchObject({
      code: 'SHEETSYNC_E504',
    });
  });
});
