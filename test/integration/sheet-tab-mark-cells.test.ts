/**
 * SheetTab.markCells while a person moves rows, against the local sheet through
 * @googleapis/sheets: a mark is placed by sync id, and the rows' places are proven right before
 * the request (the Sheets API has no conditional write). A sort or an inserted row between the
 * read and the request makes it place the marks anew, never on the row that is there now; a row
 * that is gone is returned unplaced and written nowhere.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { applyUserAction } from '../../emulator/src/user-actions/apply-action.ts';
import type { UserAction } from '../../emulator/src/user-actions/schema.ts';
import { ID_HEADER, SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';

let emulator: Emulator;
let api: SheetsApi;
/** The person's actions, one batch per wait of a write for its quota. */
let whileWaiting: UserAction[][] = [];
let spreadsheetId = '';
let writes = 0;

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, quotas: { readPerUser: 600, readPerProject: 3000 } });
});
afterAll(() => emulator.close());
beforeEach(() => {
  whileWaiting = [];
  writes = 0;
  api = new SheetsApi({
    rootUrl: emulator.url,
    logger: silentLogger,
    writesPerMinute: 600,
    readsPerMinute: 600,
  });
  // The person acts while the write waits for its quota: after the tab was read.
  const ready = api.writeReady.bind(api);
  api.writeReady = async () => {
    await ready();
    for (const action of whileWaiting.shift() ?? []) applyUserAction(emulator.model, spreadsheetId, action);
  };
  const call = api.call.bind(api);
  api.call = (kind, what, request, options) => {
    if (kind === 'write') writes++;
    return call(kind, what, request, options);
  };
});

const ids = Array.from({ length: 4 }, () => randomUUID());

async function newTab() {
  spreadsheetId = `marks-${randomUUID()}`;
  emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 5 }] }, 'api');
  await api.client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Leads!A1',
    valueInputOption: 'RAW',
    requestBody: { values: [['name', 'qty', ID_HEADER], ...ids.map((id, i) => [`n${i + 1}`, 'lots', id])] },
  });
  return new SheetTab(api, spreadsheetId, 'Leads');
}

/** Each row's name and its qty cell's note, as the tab stands. */
function notes(): Array<[unknown, string | undefined]> {
  const sheet = emulator.model.get(spreadsheetId).sheetByTitle('Leads')!;
  return [1, 2, 3, 4].map((r) => [sheet.getCell(r, 0)?.value, sheet.getCell(r, 1)?.note]);
}

describe('SheetTab.markCells', () => {
  it('marks the row it means when a sort moved it between the read and the request', async () => {
    const tab = await newTab();
    whileWaiting = [
      [
        {
          type: 'sortRange',
          range: 'Leads!A2:C5',
          sortSpecs: [{ dimensionIndex: 0, sortOrder: 'DESCENDING' }],
        },
      ],
    ];
    const unplaced = await tab.markCells([{ rowId: ids[1]!, column: 'qty', note: 'sheetsync: n2' }]);
    expect(unplaced).toEqual([]);
    // n2 was at row 3 when read; the sort put n3 there and n2 at row 4.
    expect(notes()).toEqual([
      ['n4', undefined],
      ['n3', undefined],
      ['n2', 'sheetsync: n2'],
      ['n1', undefined],
    ]);
    expect(writes).toBe(1);
  });

  it('returns a mark whose row is gone, and writes nothing for it', async () => {
    const tab = await newTab();
    whileWaiting = [[{ type: 'deleteRows', sheet: 'Leads', index: 1, count: 1 }]];
    const unplaced = await tab.markCells([
      { rowId: ids[0]!, column: 'qty', note: 'sheetsync: n1' },
      { rowId: ids[3]!, column: 'Qty', note: 'sheetsync: n4' },
    ]);
    expect(unplaced).toEqual([{ rowId: ids[0], column: 'qty' }]);
    expect(notes().slice(0, 3)).toEqual([
      ['n2', undefined],
      ['n3', undefined],
      ['n4', 'sheetsync: n4'],
    ]);
  });

  it('a column without a header is not placed, and does not make it read the tab again', async () => {
    const tab = await newTab();
    const unplaced = await tab.markCells([
      { rowId: ids[0]!, column: 'updated_by', note: 'sheetsync: nowhere' },
      { rowId: ids[0]!, column: 'qty', note: 'sheetsync: n1' },
    ]);
    expect(unplaced).toEqual([{ rowId: ids[0], column: 'updated_by' }]);
    expect(notes()[0]).toEqual(['n1', 'sheetsync: n1']);
    expect(tab.readCounts.apiReads).toBe(1);
    expect(writes).toBe(1);
  });
});
