/**
 * SheetTab's writes after a request whose outcome is unknown, against the local sheet through
 * @googleapis/sheets. The local sheet applies the request and then loses its answer (the
 * connection dropped, or Google's 500 INTERNAL), or holds it unanswered (a hang, cut off by the
 * client's timeout). Sending such a write again as it was appends a row twice, puts a row back
 * twice, deletes the row that moved up into the deleted one's place, or writes a cell onto
 * another row; SheetTab reads the tab again and writes only what did not land, by sync id.
 *
 * A person's action "during the backoff" runs in the client's clock: SheetsApi sleeps through
 * it between the failure and whatever it sends next.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { ID_HEADER, SheetTab, type TabWrite } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import type { Clock } from '../../functions/src/adapters/sheets/token-bucket.ts';
import { silentLogger } from '../../functions/src/log.ts';

let emulator: Emulator;
/** Runs once, at the next sleep of the client (its backoff after the failure). */
let duringBackoff: (() => Promise<void>) | undefined;
const clock: Clock = {
  now: () => performance.now(),
  async sleep(ms) {
    const action = duringBackoff;
    duringBackoff = undefined;
    await action?.();
    await new Promise((resolve) => setTimeout(resolve, ms));
  },
};
const newApi = (options: { timeoutMs?: number } = {}) =>
  new SheetsApi({
    rootUrl: emulator.url,
    logger: silentLogger,
    writesPerMinute: 600,
    readsPerMinute: 600,
    backoffBaseMs: 40,
    clock,
    ...options,
  });
let api: SheetsApi;
const quotas = {
  readPerUser: 600,
  readPerProject: 3000,
  writePerUser: 600,
  writePerProject: 3000,
  windowMs: 60_000,
};

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, quotas: quotas });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.faults.configure({ lostResponseNext: 0, hangNext: 0, target: 'write' });
  duringBackoff = undefined;
  api = newApi();
});

const ids: string[] = Array.from({ length: 6 }, () => randomUUID());
const [r1, r2, r3, r4, r5, r6] = ids as [string, string, string, string, string, string];

/** A tab Leads: header id, name, _sheetsync_id and a row per id, named after its number. */
async function newTab(rowIds: string[], withIds = true) {
  const spreadsheetId = `retries-${randomUUID()}`;
  emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 3 }] }, 'api');
  const rows = rowIds.map((id) => [ids.indexOf(id) + 1, `n${ids.indexOf(id) + 1}`, ...(withIds ? [id] : [])]);
  await api.client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Leads!A1',
    valueInputOption: 'RAW',
    requestBody: { values: [['id', 'name', ...(withIds ? [ID_HEADER] : [])], ...rows] },
  });
  return { spreadsheetId, tab: new SheetTab(api, spreadsheetId, 'Leads') };
}

async function grid(spreadsheetId: string) {
  const res = await api.client.spreadsheets.values.get({
    spreadsheetId,
    range: 'Leads',
    valueRenderOption: 'UNFORMATTED_VALUE',
  });
  return res.data.values ?? [];
}

const userActions = async (spreadsheetId: string, actions: unknown[]) => {
  const response = await fetch(`${emulator.url}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actions }),
  });
  expect(response.status).toBe(200);
};

const write = (w: Partial<TabWrite>): TabWrite => ({
  updates: [],
  appends: [],
  deletes: [],
  addHeaders: [],
  ...w,
});

describe.each([
  ['the connection dropped', 'reset' as const],
  ['500 INTERNAL', 500 as const],
])('a write applied whose answer is lost (%s)', (_, lostResponseAs) => {
  beforeEach(() => emulator.faults.configure({ lostResponseAs }));

  it('appends each row once', async () => {
    const { spreadsheetId, tab } = await newTab([r1, r2]);
    emulator.faults.configure({ lostResponseNext: 1 });
    await tab.write(
      await tab.read(),
      write({
        appends: [
          { rowId: r3, cells: { id: 3, name: 'n3' } },
          { rowId: r4, cells: { id: 4, name: 'n4' } },
        ],
      }),
    );
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', ID_HEADER],
      [1, 'n1', r1],
      [2, 'n2', r2],
      [3, 'n3', r3],
      [4, 'n4', r4],
    ]);
    expect(api.counts.outcomeUnknown).toBe(1);
  });

  it('deletes the row it was asked to and no other', async () => {
    const { spreadsheetId, tab } = await newTab([r1, r2, r3, r4]);
    emulator.faults.configure({ lostResponseNext: 1 });
    await tab.write(await tab.read(), write({ deletes: [r2] }));
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', ID_HEADER],
      [1, 'n1', r1],
      [3, 'n3', r3],
      [4, 'n4', r4],
    ]);
    // The kept snapshot (the read that found the delete done) tells the truth.
    const after = await tab.read();
    expect([...after.rows].map(([id, { row }]) => [id, row])).toEqual([
      [r1, 2],
      [r3, 3],
      [r4, 4],
    ]);
  });

  it('puts a row back once, where it was asked to', async () => {
    const { spreadsheetId, tab } = await newTab([r1, r2, r3]);
    emulator.faults.configure({ lostResponseNext: 1 });
    await tab.write(
      await tab.read(),
      write({ inserts: [{ rowId: r5, row: 3, cells: { id: 5, name: 'n5' } }] }),
    );
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', ID_HEADER],
      [1, 'n1', r1],
      [5, 'n5', r5],
      [2, 'n2', r2],
      [3, 'n3', r3],
    ]);
  });
});

describe('a write whose answer is lost, and a person acting before sheetsync looks again', () => {
  it('does not write a cell again onto the row that moved into its row', async () => {
    const { spreadsheetId, tab } = await newTab([r1, r2, r3, r4]);
    emulator.faults.configure({ lostResponseNext: 1, lostResponseAs: 500 });
    // r3 is row 4 when the write lands; the person then deletes r1 (row 2): r4 moves up to row 4.
    duringBackoff = () =>
      userActions(spreadsheetId, [{ type: 'deleteRows', sheet: 'Leads', index: 1, count: 1 }]);
    await tab.write(await tab.read(), write({ updates: [{ rowId: r3, cells: { name: 'from the table' } }] }));
    expect(duringBackoff).toBeUndefined(); // the person did act
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', ID_HEADER],
      [2, 'n2', r2],
      [3, 'from the table', r3],
      [4, 'n4', r4],
    ]);
  });

  it('leaves a cell a person typed into since (the newer change) as the person left it', async () => {
    const { spreadsheetId, tab } = await newTab([r1, r2]);
    emulator.faults.configure({ lostResponseNext: 1, lostResponseAs: 'reset' });
    duringBackoff = () =>
      userActions(spreadsheetId, [{ type: 'edit', range: 'Leads!B3', values: [['typed by a person']] }]);
    await tab.write(await tab.read(), write({ updates: [{ rowId: r2, cells: { name: 'from the table' } }] }));
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', ID_HEADER],
      [1, 'n1', r1],
      [2, 'typed by a person', r2],
    ]);
  });

  it('deletes the right row when a person inserted rows above it meanwhile, and the delete had not landed', async () => {
    const { spreadsheetId, tab } = await newTab([r1, r2, r3]);
    // 503 before applying: nothing landed, but the client cannot know that.
    emulator.faults.configure({ failNext: 1, target: 'write' });
    duringBackoff = () =>
      userActions(spreadsheetId, [{ type: 'insertRows', sheet: 'Leads', index: 1, count: 1 }]);
    await tab.write(await tab.read(), write({ deletes: [r2] }));
    expect(await grid(spreadsheetId)).toEqual([['id', 'name', ID_HEADER], [], [1, 'n1', r1], [3, 'n3', r3]]);
  });
});

describe('the id column created by a write whose answer is lost', () => {
  it('is created and protected once, and the rows are appended once', async () => {
    const { spreadsheetId, tab } = await newTab([], false);
    emulator.faults.configure({ lostResponseNext: 1, lostResponseAs: 'reset' });
    await tab.write(
      await tab.read(),
      write({ appends: [{ rowId: r6, cells: { id: 6, name: 'n6' } }], addHeaders: ['email'] }),
    );
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', 'email', ID_HEADER],
      [6, 'n6', '', r6],
    ]);
    const meta = await api.client.spreadsheets.get({ spreadsheetId });
    expect(meta.data.sheets?.[0]?.protectedRanges).toHaveLength(1);
  });
});

describe('a write that hangs', () => {
  it.each([
    ['applied', true],
    ['never applied', false],
  ])('is cut off by the timeout and its rows land once (%s)', { timeout: 20_000 }, async (_, hangApplied) => {
    api = newApi({ timeoutMs: 400 });
    const { spreadsheetId, tab } = await newTab([r1]);
    emulator.faults.configure({ hangNext: 1, hangApplied });
    const started = performance.now();
    await tab.write(
      await tab.read(),
      write({ appends: [{ rowId: r2, cells: { id: 2, name: 'n2' } }], deletes: [r1] }),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await grid(spreadsheetId)).toEqual([
      ['id', 'name', ID_HEADER],
      [2, 'n2', r2],
    ]);
    expect(api.counts.timedOut).toBe(1);
  });
});

describe('a write refused with a definite "not applied"', () => {
  it('429 is sent again as it was, without reading the tab first', async () => {
    const { spreadsheetId, tab } = await newTab([r1]);
    const snapshot = await tab.read();
    // A window long enough that a loaded machine still sends the write inside it (it then waits
    // for the refill in retries, up to 6 attempts: 40 ms doubling is about 1.2 s).
    emulator.quotas.configure({ writePerUser: 1, windowMs: 900 });
    try {
      await api.client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Leads!D1',
        valueInputOption: 'RAW',
        requestBody: { values: [['spends the window']] },
      });
      const reads = api.counts.reads;
      await tab.write(snapshot, write({ appends: [{ rowId: r2, cells: { id: 2, name: 'n2' } }] }));
      expect(api.counts.throttled).toBeGreaterThanOrEqual(1);
      expect(api.counts.outcomeUnknown).toBe(0);
      expect(api.counts.reads).toBe(reads);
    } finally {
      emulator.quotas.configure(quotas);
    }
    expect((await grid(spreadsheetId)).map((row) => row[2])).toEqual([ID_HEADER, r1, r2]);
  });
});
