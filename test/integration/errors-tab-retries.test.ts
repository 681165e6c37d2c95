/**
 * The errors tab's report after a request whose outcome is unknown, against the local sheet
 * through @googleapis/sheets: appended (or the tab created with it) and the answer lost, the
 * report must be listed once, not appended again; not applied (a 503 before applying), it must
 * still be listed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import {
  ERRORS_HEADERS,
  ERRORS_TAB,
  ErrorsTab,
  type SheetProblem,
} from '../../functions/src/adapters/sheets/errors-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';

let emulator: Emulator;
let api: SheetsApi;

beforeAll(async () => {
  emulator = await createEmulator({ port: 0 });
  api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger, backoffBaseMs: 40 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.faults.configure({ lostResponseNext: 0, failNext: 0, target: 'write' }));

const problems: SheetProblem[] = [
  {
    link: 'orders',
    rowId: 'row-1',
    row: 2,
    column: 'qty',
    value: 'lots',
    code: 'SHEETSYNC_E407',
    message: 'not a number',
  },
  {
    link: 'orders',
    rowId: 'row-2',
    row: 3,
    column: 'qty',
    value: 'many',
    code: 'SHEETSYNC_E407',
    message: 'not a number',
  },
];

async function errorsTab(spreadsheetId: string) {
  const res = await api.client.spreadsheets.values.get({ spreadsheetId, range: ERRORS_TAB });
  return res.data.values ?? [];
}

/** A spreadsheet, with the errors tab and one earlier report in it when `withTab`. */
async function spreadsheet(withTab: boolean) {
  const spreadsheetId = `errors-${randomUUID()}`;
  emulator.model.create({ spreadsheetId, sheets: [{ title: 'Orders' }] }, 'api');
  const tab = new ErrorsTab(api, { now: () => Date.parse('2026-03-01T10:00:00.000Z') });
  if (withTab) await tab.report(spreadsheetId, [{ ...problems[0]!, rowId: 'earlier' }]);
  return { spreadsheetId, tab };
}

describe.each([
  ['the connection dropped', { lostResponseNext: 1, lostResponseAs: 'reset' as const }],
  ['500 INTERNAL after applying', { lostResponseNext: 1, lostResponseAs: 500 as const }],
  ['503 before applying', { failNext: 1 }],
])('a report whose write failed (%s)', (_, faults) => {
  it('is appended to the errors tab once', async () => {
    const { spreadsheetId, tab } = await spreadsheet(true);
    emulator.faults.configure(faults);
    await tab.report(spreadsheetId, problems);
    const rows = await errorsTab(spreadsheetId);
    expect(rows.map((r) => r[2])).toEqual(['row sync id', 'earlier', 'row-1', 'row-2']);
  });

  it('creates the errors tab once, with the report once', async () => {
    const { spreadsheetId, tab } = await spreadsheet(false);
    emulator.faults.configure(faults);
    await tab.report(spreadsheetId, problems);
    const rows = await errorsTab(spreadsheetId);
    expect(rows[0]).toEqual([...ERRORS_HEADERS]);
    expect(rows.slice(1).map((r) => r[2])).toEqual(['row-1', 'row-2']);
    const meta = await api.client.spreadsheets.get({ spreadsheetId });
    expect(meta.data.sheets?.map((s) => s.properties?.title)).toEqual(['Orders', ERRORS_TAB]);
  });
});
