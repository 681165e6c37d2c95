import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { ID_HEADER, SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';

describe('SheetTab against the local sheet through @googleapis/sheets', () => {
  let emulator: Emulator;
  let api: SheetsApi;

  beforeAll(async () => {
    // Google's per-minute read quota would hold these tests back (they read far more often than
    // sheetsync does); test/integration/db-to-sheet-quota.test.ts is the one about the quota.
    emulator = await createEmulator({ port: 0, quotas: { readPerUser: 600, readPerProject: 3000 } });
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
    // The structure with the header cells (one atomic batch: the id column is there with its
    // protection or neither is), then the appended rows.
    expect(stats.writeRequests).toBe(2);
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

  it('puts rows back at their rows after the deletes, top-down, and appends one past the last row', async () => {
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const { spreadsheetId, tab } = await newTab([['n', ID_HEADER], ...ids.map((id, i) => [i, id])]);
    const back = Array.from({ length: 4 }, () => randomUUID());
    const stats = await tab.write(await tab.read(), {
      updates: [],
      appends: [{ rowId: back[3]!, cells: { n: 'appended' } }],
      // After the delete the tab holds rows 0, 2, 3, 4 at rows 2-5. The rows asked for are
      // where the rows end up: row 1 is the header's (row 2 instead), the second row 3 goes
      // below the first, and row 40 is past the end.
      inserts: [
        { rowId: back[0]!, row: 3, cells: { n: 'first at 3' } },
        { rowId: back[1]!, row: 3, cells: { n: 'second at 3' } },
        { rowId: back[2]!, row: 40, cells: { n: 'past the end' } },
        { rowId: randomUUID(), row: 1, cells: { n: 'above the header' } },
      ],
      deletes: [ids[1]!],
      addHeaders: [],
    });
    expect(stats).toMatchObject({ writeRequests: 1, rowsDeleted: 1, rowsAppended: 5 });
    const rows = await grid(spreadsheetId);
    expect(rows.map((r) => r[0])).toEqual([
      'n',
      'above the header',
      'first at 3',
      'second at 3',
      0,
      2,
      3,
      4,
      'past the end',
      'appended',
    ]);
    expect(rows[2]![1]).toBe(back[0]);
    expect(rows[8]![1]).toBe(back[2]);
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

  it('appends past a 26-column grid at Google’s cell cap by deleting its empty columns; stops where they hold values', async () => {
    // Its own local sheet: the shared one's per-minute read quota is the other tests'.
    const local = await createEmulator({ port: 0 });
    onTestFinished(() => local.close());
    const client = new SheetsApi({
      rootUrl: local.url,
      logger: silentLogger,
      writesPerMinute: 600,
      readsPerMinute: 600,
    });
    // A tab of 1,000 × 26 beside one of 9,969,986 cells: 1,500 rows appended 26 columns wide
    // would pass the 10M cap, 3 columns wide (id, name, _sheetsync_id) they fit.
    const setUp = async (note?: string) => {
      const spreadsheetId = `cap-${randomUUID()}`;
      local.model.create(
        {
          spreadsheetId,
          sheets: [
            { title: 'Leads', sheetId: 7 },
            { title: 'Filler', sheetId: 8, rowCount: 383_461 },
          ],
        },
        'api',
      );
      const values = note ? [['id', 'name'], [], ['', '', '', '', '', note]] : [['id', 'name']];
      await client.client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Leads!A1',
        valueInputOption: 'RAW',
        requestBody: { values },
      });
      return {
        spreadsheetId,
        model: local.model.get(spreadsheetId)!,
        tab: new SheetTab(client, spreadsheetId, 'Leads'),
      };
    };
    const rows = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ rowId: randomUUID(), cells: { id: i + 1, name: `n${i + 1}` } }));
    const lastRow = (spreadsheetId: string) => {
      const leads = local.model.get(spreadsheetId)!.sheetByTitle('Leads')!;
      return [leads.rowCount, leads.columnCount];
    };

    const { spreadsheetId, model, tab } = await setUp();
    expect(model.totalCells()).toBeLessThanOrEqual(10_000_000);
    await tab.write(await tab.read(), { updates: [], appends: rows(1500), deletes: [], addHeaders: [] });
    expect(lastRow(spreadsheetId)).toEqual([1501, 3]);
    const written = await client.client.spreadsheets.values.get({
      spreadsheetId,
      range: 'Leads!A1501:B1501',
    });
    expect(written.data.values).toEqual([['1500', 'n1500']]);

    // A value right of the synced columns (a person's note) is never deleted: the write fails
    // with a code that says why, and the tab is as it was.
    const noted = await setUp('a note');
    const before = noted.model.totalCells();
    await expect(
      noted.tab.write(await noted.tab.read(), {
        updates: [],
        appends: rows(1500),
        deletes: [],
        addHeaders: [],
      }),
    ).rejects.toMatchObject({ code: 'SHEETSYNC_E508', message: expect.stringContaining('hold values') });
    expect(noted.model.totalCells()).toBe(before);
    expect(lastRow(noted.spreadsheetId)).toEqual([1000, 26]);
  });

  it('names a missing tab with a clear error', async () => {
    const { spreadsheetId } = await newTab([]);
    await expect(new SheetTab(api, spreadsheetId, 'Nope').read()).rejects.toMatchObject({
      code: 'SHEETSYNC_E504',
    });
  });
  describe('the kept snapshot (changeToken)', () => {
    /** A tab whose change token the test controls, with a fake clock. */
    async function keptTab(rows: unknown[][]) {
      const { spreadsheetId } = await newTab(rows);
      const state = { token: 0, now: 1_000 };
      const tab = new SheetTab(api, spreadsheetId, 'Leads', {
        changeToken: async () => state.token,
        maxSnapshotAgeMs: 30_000,
        now: () => state.now,
      });
      return { spreadsheetId, tab, state };
    }

    /** What a fresh read of the API shows, in the snapshot's terms. */
    async function fresh(spreadsheetId: string, through = api) {
      const s = await new SheetTab(through, spreadsheetId, 'Leads').read();
      return {
        headers: s.headers,
        lastRow: s.lastRow,
        rows: [...s.rows].map(([id, r]) => [id, r.row, trim(r.values)] as const).sort(byRow),
      };
    }
    function view(s: Awaited<ReturnType<SheetTab['read']>>) {
      return {
        headers: s.headers,
        lastRow: s.lastRow,
        rows: [...s.rows].map(([id, r]) => [id, r.row, trim(r.values)] as const).sort(byRow),
      };
    }
    const trim = (values: unknown[]) => {
      const out = [...values];
      while (out.length > 0 && (out.at(-1) === '' || out.at(-1) == null)) out.pop();
      return out;
    };
    const byRow = (a: readonly [string, number, unknown], b: readonly [string, number, unknown]) =>
      a[1] - b[1];

    it('keeps the snapshot of a tab that is slow to read ten times its read time, when that exceeds the age', async () => {
      const id = randomUUID();
      const { spreadsheetId, tab, state } = await keptTab([
        ['n', ID_HEADER],
        [1, id],
      ]);
      // Every read of the tab's values takes 5 s on the test's clock.
      const values = api.client.spreadsheets.values;
      const get = values.get.bind(values);
      values.get = (async (...args: unknown[]) => {
        state.now += 5_000;
        return (get as (...a: unknown[]) => unknown)(...args);
      }) as unknown as typeof values.get;
      try {
        await tab.read();
        await api.client.spreadsheets.values.update({
          spreadsheetId,
          range: "'Leads'!A2",
          valueInputOption: 'RAW',
          requestBody: { values: [[2]] },
        });
        // 31 s after the read: older than maxSnapshotAgeMs, younger than 10 × 5 s.
        state.now += 31_000;
        expect((await tab.read()).rows.get(id)?.values[0]).toBe(1);
        state.now += 19_500;
        expect((await tab.read()).rows.get(id)?.values[0]).toBe(2);
        expect(tab.readCounts).toEqual({ apiReads: 2, keptReads: 1, verifiedRows: 0 });
        // A change the webhook reported is read at once, however slow the tab.
        state.token++;
        await tab.read();
        expect(tab.readCounts).toEqual({ apiReads: 3, keptReads: 1, verifiedRows: 0 });
      } finally {
        values.get = get;
      }
    });

    it('serves reads from the kept snapshot while the token is unchanged, and reads again when it changes or ages', async () => {
      const id = randomUUID();
      const { spreadsheetId, tab, state } = await keptTab([
        ['n', ID_HEADER],
        [1, id],
      ]);
      const before = api.counts.reads;
      await tab.read();
      const readsAfterFirst = api.counts.reads;
      expect(readsAfterFirst).toBeGreaterThan(before);
      // A change the token does not know of is not seen...
      await api.client.spreadsheets.values.update({
        spreadsheetId,
        range: "'Leads'!A2",
        valueInputOption: 'RAW',
        requestBody: { values: [[2]] },
      });
      expect((await tab.read()).rows.get(id)?.values[0]).toBe(1);
      expect(api.counts.reads).toBe(readsAfterFirst);
      expect(tab.readCounts).toEqual({ apiReads: 1, keptReads: 1, verifiedRows: 0 });
      // ...until the token changes (the webhook saw a sheet event)...
      state.token++;
      expect((await tab.read()).rows.get(id)?.values[0]).toBe(2);
      expect(tab.readCounts).toEqual({ apiReads: 2, keptReads: 1, verifiedRows: 0 });
      // ...or the snapshot is older than maxSnapshotAgeMs.
      await api.client.spreadsheets.values.update({
        spreadsheetId,
        range: "'Leads'!A2",
        valueInputOption: 'RAW',
        requestBody: { values: [[3]] },
      });
      state.now += 29_000;
      expect((await tab.read()).rows.get(id)?.values[0]).toBe(2);
      state.now += 2_000;
      expect((await tab.read()).rows.get(id)?.values[0]).toBe(3);
      expect(tab.readCounts).toEqual({ apiReads: 3, keptReads: 2, verifiedRows: 0 });
    });

    it('keeps the snapshot true through its own updates, deletes, appends and rows put back (equal to a fresh read after each)', async () => {
      const ids = Array.from({ length: 12 }, () => randomUUID());
      // Row 8 holds a value but no id (typed, not yet synced): appends go below the last row with values.
      const { spreadsheetId, tab } = await keptTab([
        ['n', 'name', ID_HEADER],
        ...ids.slice(0, 6).map((id, i) => [i, `r${i}`, id]),
        ['', 'no id yet', ''],
        ...ids.slice(6, 9).map((id, i) => [i + 6, `r${i + 6}`, id]),
      ]);
      let random = 42;
      const next = (n: number) => {
        random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
        return random % n;
      };
      let live = ids.slice(0, 9);
      let fresh_ = 9;
      for (let round = 0; round < 8; round++) {
        const snapshot = await tab.read();
        const deletes = live.filter(() => next(4) === 0).slice(0, 3);
        const updates = live
          .filter((id) => !deletes.includes(id) && next(3) === 0)
          .map((rowId) => ({ rowId, cells: { name: `u${round}-${next(100)}` } }));
        const appends = Array.from({ length: next(3) }, () => {
          const rowId = fresh_ < ids.length ? ids[fresh_++]! : randomUUID();
          return { rowId, cells: { n: 100 + round, name: `a${round}` } };
        });
        // Rows put back in the middle (some past the end, appended instead).
        const inserts = Array.from({ length: next(3) }, () => ({
          rowId: randomUUID(),
          row: 2 + next(live.length + 3),
          cells: { n: 200 + round, name: `i${round}` },
        }));
        await tab.write(snapshot, { updates, appends, inserts, deletes, addHeaders: [] });
        live = [
          ...live.filter((id) => !deletes.includes(id)),
          ...appends.map((a) => a.rowId),
          ...inserts.map((i) => i.rowId),
        ];
        const apiReads = tab.readCounts.apiReads;
        const kept = await tab.read();
        expect(tab.readCounts.apiReads).toBe(apiReads); // served from the kept snapshot
        expect(view(kept), `round ${round}`).toEqual(await fresh(spreadsheetId));
      }
    });

    it('knows where rows deleted in the sheet were, from the read before: below the row that was above them', async () => {
      const ids = Array.from({ length: 6 }, () => randomUUID());
      const { spreadsheetId, tab, state } = await keptTab([['n', ID_HEADER], ...ids.map((id, i) => [i, id])]);
      await tab.read();
      // Someone deletes rows 0, 2 and 3 (sheet rows 2, 4, 5) in the sheet.
      await api.client.spreadsheets.batchUpdate({
        spreadsheetId,
        requestBody: {
          requests: [
            { deleteDimension: { range: { sheetId: 7, dimension: 'ROWS', startIndex: 3, endIndex: 5 } } },
            { deleteDimension: { range: { sheetId: 7, dimension: 'ROWS', startIndex: 1, endIndex: 2 } } },
          ],
        },
      });
      state.token++;
      const snapshot = await tab.read(); // rows 1, 4, 5 at sheet rows 2-4
      expect(tab.returnRow(ids[0]!, snapshot, [])).toBe(2); // the first row: under the header
      expect(tab.returnRow(ids[2]!, snapshot, [])).toBe(3); // below row 1
      expect(tab.returnRow(ids[3]!, snapshot, [])).toBe(3); // below row 2, gone too: below row 1
      expect(tab.returnRow(ids[3]!, snapshot, [ids[1]!])).toBe(2); // row 1 deleted by the same write
      expect(tab.returnRow(ids[1]!, snapshot, [])).toBeUndefined(); // still there
      expect(tab.returnRow(randomUUID(), snapshot, [])).toBeUndefined(); // never seen

      // Put back, it is on the tab again (and the kept snapshot agrees with a fresh read).
      await tab.write(snapshot, {
        updates: [],
        appends: [],
        inserts: [{ rowId: ids[2]!, row: tab.returnRow(ids[2]!, snapshot, [])!, cells: { n: 2 } }],
        deletes: [],
        addHeaders: [],
      });
      expect((await grid(spreadsheetId)).map((r) => r[0])).toEqual(['n', 1, 2, 4, 5]);
      expect(view(await tab.read())).toEqual(await fresh(spreadsheetId));
      expect(tab.returnRow(ids[2]!, await tab.read(), [])).toBeUndefined();
    });

    it('after in-place edits keeps the positions and reads again only the rows it verifies', async () => {
      const ids = Array.from({ length: 5 }, () => randomUUID());
      const { spreadsheetId } = await newTab([
        ['n', 'name', ID_HEADER],
        ...ids.map((id, i) => [i, `r${i}`, id]),
      ]);
      const state = { rows: 0, values: 0 };
      const tab = new SheetTab(api, spreadsheetId, 'Leads', { changeToken: async () => ({ ...state }) });
      await tab.read();
      const edit = (range: string, values: unknown[][]) =>
        api.client.spreadsheets.values.update({
          spreadsheetId,
          range: `'Leads'!${range}`,
          valueInputOption: 'RAW',
          requestBody: { values },
        });
      await edit('B4', [['edited']]);
      await edit('B6', [['also edited']]);
      state.values++;
      const reads = api.counts.reads;
      const snapshot = await tab.read();
      expect(tab.readCounts).toEqual({ apiReads: 1, keptReads: 1, verifiedRows: 0 });
      const verified = await tab.verify(snapshot, [ids[2]!, ids[1]!]);
      expect(verified).toBe(snapshot);
      expect(api.counts.reads - reads).toBe(1); // one values.batchGet
      expect(verified.rows.get(ids[2]!)).toEqual({ row: 4, values: [2, 'edited', ids[2]] });
      expect(verified.rows.get(ids[1]!)?.values[1]).toBe('r1');
      expect(verified.rows.get(ids[4]!)?.values[1]).toBe('r4'); // not asked for: not read
      expect(tab.readCounts.verifiedRows).toBe(2);
      await tab.verify(await tab.read(), [ids[2]!]);
      expect(api.counts.reads - reads).toBe(1); // already current
      // Another in-place edit makes every row's values stale again.
      state.values++;
      await tab.verify(await tab.read(), [ids[4]!]);
      expect((await tab.read()).rows.get(ids[4]!)?.values[1]).toBe('also edited');
      expect(tab.readCounts).toMatchObject({ apiReads: 1, verifiedRows: 3 });

      // A row moved although only values were reported (a cut and paste): its id is not where the
      // snapshot has it, so the whole tab is read again.
      await edit('A2:C3', [
        [1, 'r1', ids[1]],
        [0, 'r0', ids[0]],
      ]);
      state.values++;
      const moved = await tab.verify(await tab.read(), [ids[0]!]);
      expect(moved).not.toBe(snapshot);
      expect(tab.readCounts.apiReads).toBe(2);
      expect(moved.rows.get(ids[0]!)?.row).toBe(3);
      expect(moved.rows.get(ids[1]!)?.row).toBe(2);
      // A rows change still reads the whole tab.
      state.rows++;
      await tab.read();
      expect(tab.readCounts.apiReads).toBe(3);
    });

    it('reads a big tab without its values, verifies the rows it writes, and stays true through its own writes', async () => {
      const ids = Array.from({ length: 14 }, () => randomUUID());
      // The last row holds values but no id: a read of the id column does not see it, so the rows
      // appended below it are counted one row short until verify() finds them by their ids.
      // Its own local sheet: Google's 60 reads a minute are not shared with the tests before it.
      const sheet = await createEmulator({ port: 0 });
      onTestFinished(() => sheet.close());
      const own = new SheetsApi({ rootUrl: sheet.url, logger: silentLogger, readsPerMinute: 600 });
      const spreadsheetId = `tab-test-${randomUUID()}`;
      sheet.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 7 }] }, 'api');
      await own.client.spreadsheets.values.update({
        spreadsheetId,
        range: "'Leads'!A1",
        valueInputOption: 'RAW',
        requestBody: {
          values: [
            ['n', 'name', ID_HEADER],
            ...ids.slice(0, 9).map((id, i) => [i, `r${i}`, id]),
            ['', 'no id yet', ''],
          ],
        },
      });
      const state = { rows: 0, values: 0 };
      const tab = new SheetTab(own, spreadsheetId, 'Leads', {
        changeToken: async () => ({ ...state }),
        positionsOnlyAboveCells: 0, // every tab is big
      });
      const first = await tab.read();
      expect(first.rows.get(ids[7]!)).toEqual({ row: 9, values: [] }); // the position only
      const verified = await tab.verify(first, [ids[7]!]);
      expect(verified.rows.get(ids[7]!)).toEqual({ row: 9, values: [7, 'r7', ids[7]] });

      let random = 7;
      const next = (n: number) => {
        random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
        return random % n;
      };
      let live = ids.slice(0, 9);
      let fresh_ = 9;
      for (let round = 0; round < 6; round++) {
        if (round === 3) {
          // A person inserts a row at the top: the rows epoch.
          await own.client.spreadsheets.batchUpdate({
            spreadsheetId,
            requestBody: {
              requests: [
                { insertDimension: { range: { sheetId: 7, dimension: 'ROWS', startIndex: 1, endIndex: 2 } } },
              ],
            },
          });
          state.rows++;
        }
        const deletes = live.filter(() => next(4) === 0).slice(0, 2);
        const updates = live
          .filter((id) => !deletes.includes(id) && next(3) === 0)
          .map((rowId) => ({ rowId, cells: { name: `u${round}-${next(100)}` } }));
        const appends = Array.from({ length: next(3) }, () => ({
          rowId: fresh_ < ids.length ? ids[fresh_++]! : randomUUID(),
          cells: { n: 100 + round, name: `a${round}` },
        }));
        // As applyToSheet does: the rows it writes are verified first.
        const snapshot = await tab.verify(await tab.read(), [...deletes, ...updates.map((u) => u.rowId)]);
        await tab.write(snapshot, { updates, appends, deletes, addHeaders: [] });
        live = [...live.filter((id) => !deletes.includes(id)), ...appends.map((a) => a.rowId)];
        // Every live row verified, the kept copy equals a fresh read of the whole tab.
        const kept = await tab.verify(await tab.read(), live);
        expect(view(kept), `round ${round}`).toEqual(await fresh(spreadsheetId, own));
      }
      // The positions were read again when the appended rows were not where they were counted
      // (and at the rows change); the values were read row by row, never whole.
      expect(tab.readCounts.apiReads).toBeGreaterThan(2);
      expect(own.counts.reads).toBeLessThan(6 * 10);
      expect(tab.readCounts.verifiedRows).toBeGreaterThan(live.length);
    });

    it('checks only the id cells of rows a flush deletes, and reads scattered rows of a big tab in parts', async () => {
      const sheet = await createEmulator({ port: 0 });
      onTestFinished(() => sheet.close());
      const own = new SheetsApi({ rootUrl: sheet.url, logger: silentLogger, readsPerMinute: 600 });
      const spreadsheetId = `tab-test-${randomUUID()}`;
      sheet.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 7 }] }, 'api');
      const ids = Array.from({ length: 300 }, () => randomUUID());
      const put = (range: string, values: unknown[][]) =>
        own.client.spreadsheets.values.update({
          spreadsheetId,
          range: `'Leads'!${range}`,
          valueInputOption: 'RAW',
          requestBody: { values },
        });
      await put('A1', [['n', 'name', ID_HEADER], ...ids.map((id, i) => [i, `r${i}`, id])]);
      const state = { rows: 0, values: 0 };
      const tab = new SheetTab(own, spreadsheetId, 'Leads', {
        changeToken: async () => ({ ...state }),
        positionsOnlyAboveCells: 0,
      });
      const snapshot = await tab.read();
      const reads = () => own.counts.reads;
      let before = reads();
      // Positions just read: rows only deleted need nothing more.
      expect(await tab.verify(snapshot, [], ids.slice(0, 5))).toBe(snapshot);
      expect(reads()).toBe(before);
      // After an in-place edit: their id cells, in one request; their values stay unread.
      state.values++;
      await tab.verify(await tab.read(), [], ids.slice(0, 5));
      expect(reads()).toBe(before + 1);
      expect(snapshot.rows.get(ids[0]!)?.values).toEqual([]);
      // 150 scattered rows to write (every other one): 150 runs, read in two requests, not whole.
      before = reads();
      const scattered = ids.filter((_, i) => i % 2 === 0);
      expect(await tab.verify(snapshot, scattered)).toBe(snapshot);
      expect(reads()).toBe(before + 2);
      expect(snapshot.rows.get(ids[298]!)?.values).toEqual([298, 'r298', ids[298]]);
      expect(tab.readCounts.apiReads).toBe(1);
      // Two rows swapped by a paste, reported as an in-place edit: a deleted row's id cell shows
      // it, and the positions are read again.
      await put('A2:C3', [
        [1, 'r1', ids[1]],
        [0, 'r0', ids[0]],
      ]);
      state.values++;
      const moved = await tab.verify(await tab.read(), [], [ids[0]!]);
      expect(tab.readCounts.apiReads).toBe(2);
      expect(moved.rows.get(ids[0]!)?.row).toBe(3);
    });

    it('reads again after a write fails, and after a write that adds columns', async () => {
      const id = randomUUID();
      const { tab } = await keptTab([
        ['n', ID_HEADER],
        [1, id],
      ]);
      const snapshot = await tab.read();
      await tab.write(snapshot, { updates: [], appends: [], deletes: [], addHeaders: ['email'] });
      const afterColumns = await tab.read();
      expect(afterColumns.headers).toEqual(['n', ID_HEADER, 'email']);
      expect(tab.readCounts.apiReads).toBe(2);
      await expect(
        tab.write(
          { ...afterColumns, sheetId: 999 },
          { updates: [], appends: [], deletes: [id], addHeaders: [] },
        ),
      ).rejects.toMatchObject({ code: 'SHEETSYNC_E501' });
      await tab.read();
      expect(tab.readCounts.apiReads).toBe(3);
    });
  });
});
