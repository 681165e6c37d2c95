/**
 * SheetTab's writes while a person moves rows, against the local sheet through
 * @googleapis/sheets. The Sheets API has no conditional write: a request that addresses rows by
 * position (changed cells by A1 range, deleteDimension) lands on whatever row is there when it
 * arrives. A write can wait seconds for its quota after the tab was read, and a person may sort,
 * insert or delete rows meanwhile; the soak caught deletes landing on the wrong rows that way
 * (issue 17). SheetTab proves the rows' places by their ids right before each such request and
 * places the write anew when they moved.
 *
 * The person acts while the write waits for its quota, the gap the soak hit.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { applyUserAction } from '../../emulator/src/user-actions/apply-action.ts';
import type { UserAction } from '../../emulator/src/user-actions/schema.ts';
import { ID_HEADER, SheetTab, type TabWrite } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';

let emulator: Emulator;
let api: SheetsApi;
/** The person's actions, one per wait of the write for its quota. */
let whileWaiting: UserAction[][] = [];
let spreadsheetId = '';

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, quotas: { readPerUser: 600, readPerProject: 3000 } });
});
afterAll(() => emulator.close());
beforeEach(() => {
  whileWaiting = [];
  api = new SheetsApi({
    rootUrl: emulator.url,
    logger: silentLogger,
    writesPerMinute: 600,
    readsPerMinute: 600,
  });
  // A write waits for its quota in writeReady() before the request, or else in call() itself.
  const act = () => {
    for (const action of whileWaiting.shift() ?? []) applyUserAction(emulator.model, spreadsheetId, action);
  };
  let waited = false;
  const ready = api.writeReady.bind(api);
  api.writeReady = async () => {
    await ready();
    act();
    waited = true;
  };
  const call = api.call.bind(api);
  api.call = (kind, what, request, options) => {
    if (kind === 'write') {
      if (!waited) act();
      waited = false;
    }
    return call(kind, what, request, options);
  };
});

const ids: string[] = Array.from({ length: 6 }, () => randomUUID());
const nameOf = (id: string) => `n${ids.indexOf(id) + 1}`;

/** Tab Leads: id, name, _sheetsync_id, one row per id in order (n1 at row 2 … n6 at row 7). */
async function newTab() {
  spreadsheetId = `moved-${randomUUID()}`;
  emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 5 }] }, 'api');
  await api.client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Leads!A1',
    valueInputOption: 'RAW',
    requestBody: { values: [['id', 'name', ID_HEADER], ...ids.map((id, i) => [i + 1, nameOf(id), id])] },
  });
  return new SheetTab(api, spreadsheetId, 'Leads');
}

/** Name by sync id, and rows without one, as the tab stands. */
async function byId() {
  const res = await api.client.spreadsheets.values.get({ spreadsheetId, range: 'Leads' });
  const rows = (res.data.values ?? []).slice(1);
  return {
    names: new Map(rows.filter((r) => r[2]).map((r) => [String(r[2]), String(r[1] ?? '')])),
    withoutId: rows.filter((r) => !r[2]).map((r) => r.slice(0, 2).map(String)),
  };
}

const write = (part: Partial<TabWrite>): TabWrite => ({
  updates: [],
  appends: [],
  deletes: [],
  addHeaders: [],
  ...part,
});
const sortByName = (order: 'ASCENDING' | 'DESCENDING'): UserAction => ({
  type: 'sortRange',
  range: 'Leads!A2:C7',
  sortSpecs: [{ dimensionIndex: 1, sortOrder: order }],
});

describe('SheetTab writes while a person moves rows', () => {
  it('deletes the row it means when a sort moved it during the wait for quota', async () => {
    const tab = await newTab();
    const snapshot = await tab.read();
    whileWaiting = [[sortByName('DESCENDING')]];
    await tab.write(snapshot, write({ deletes: [ids[2]!] }));
    const { names } = await byId();
    expect([...names.keys()].sort()).toEqual(ids.filter((id) => id !== ids[2]).sort());
    for (const [id, name] of names) expect(name).toBe(nameOf(id));
  });

  it('writes changed cells into the row it means when rows were inserted above it', async () => {
    const tab = await newTab();
    const snapshot = await tab.read();
    whileWaiting = [
      [
        { type: 'insertRows', sheet: 'Leads', index: 1, count: 2 },
        {
          type: 'edit',
          range: 'Leads!A2:B3',
          values: [
            [100, 'typed'],
            [101, 'typed too'],
          ],
        },
      ],
    ];
    await tab.write(snapshot, write({ updates: [{ rowId: ids[1]!, cells: { name: 'from the table' } }] }));
    const { names, withoutId } = await byId();
    expect(names.get(ids[1]!)).toBe('from the table');
    for (const [id, name] of names) if (id !== ids[1]) expect(name).toBe(nameOf(id));
    expect(withoutId).toEqual([
      ['100', 'typed'],
      ['101', 'typed too'],
    ]);
  });

  it('keeps placing the write while rows move on each wait, then lands it whole', async () => {
    const tab = await newTab();
    const snapshot = await tab.read();
    whileWaiting = [
      [sortByName('DESCENDING')],
      [{ type: 'deleteRows', sheet: 'Leads', index: 1, count: 1 }],
      [sortByName('ASCENDING')],
    ];
    await tab.write(
      snapshot,
      write({
        updates: [{ rowId: ids[3]!, cells: { name: 'updated' } }],
        deletes: [ids[4]!],
      }),
    );
    const { names } = await byId();
    // The person deleted the top row after the first sort: n6.
    expect([...names.keys()].sort()).toEqual([ids[0], ids[1], ids[2], ids[3]].sort());
    expect(names.get(ids[3]!)).toBe('updated');
    for (const id of [ids[0]!, ids[1]!, ids[2]!]) expect(names.get(id)).toBe(nameOf(id));
  });
});
