/**
 * `POST /_emulator/v1/spreadsheets/{id}/userActions` (DESIGN.md §3): the Sheets API's
 * conventions (A1 ranges; zero-based row indexes like a DimensionRange, index 0 the header row;
 * SortSpec.dimensionIndex counted across the whole sheet), actions applied in order, the
 * triggers of each action run before the next one, and Google-shaped 400s for bad input.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import { adminClient, type Recorder, startRecordedEmulator } from './emulator-apps-script-recorder.ts';

const SECRET = 'user-actions-secret';

let emulator: Emulator;
let client: sheets_v4.Sheets;
let recorder: Recorder;
let id: string;
const admin = adminClient(() => emulator.url);

const column = async (range: string) =>
  ((await client.spreadsheets.values.get({ spreadsheetId: id, range })).data.values ?? []).map(
    (row) => row[0] ?? '',
  );
const reported = () =>
  recorder.reports.map((r) => (r.kind === 'edit' ? `edit ${r.range}` : `change ${r.changeType}`));

beforeAll(async () => {
  ({ recorder, emulator, client } = await startRecordedEmulator(SECRET));
});

afterAll(async () => {
  await emulator.close();
  await recorder.close();
});

beforeEach(async () => {
  id = await admin.recordedSpreadsheet(recorder.url, SECRET, 'user actions');
  await admin.userActions(id, [
    {
      type: 'edit',
      range: 'Sheet1!A1',
      values: [
        ['name', 'score', 'team'],
        ['ada', '30', 'red'],
        ['bob', '10', 'blue'],
        ['cy', '20', 'red'],
      ],
    },
  ]);
  recorder.reports.length = 0;
});

describe('moveRows', () => {
  it('moves rows down (destinationIndex counts positions before the move, like moveDimension)', async () => {
    const response = await admin.userActions(id, [
      { type: 'moveRows', sheet: 'Sheet1', index: 1, count: 1, destinationIndex: 4 },
    ]);
    expect(response.body.results[0]).toMatchObject({ type: 'moveRows', movedTo: 3 });
    expect(await column('Sheet1!A1:A4')).toEqual(['name', 'bob', 'cy', 'ada']);
    // The moved row, at its new place and full width, as Google reports a moved row with data.
    expect(reported().sort()).toEqual(['change OTHER', 'edit A4:Z4']);
  });

  it('moves rows up; moving empty rows fires only onChange', async () => {
    await admin.userActions(id, [{ type: 'moveRows', sheet: 0, index: 3, count: 1, destinationIndex: 1 }]);
    expect(await column('Sheet1!A1:A4')).toEqual(['name', 'cy', 'ada', 'bob']);
    recorder.reports.length = 0;
    await admin.userActions(id, [{ type: 'moveRows', sheet: 0, index: 10, count: 2, destinationIndex: 20 }]);
    expect(reported()).toEqual(['change OTHER']);
  });
});

describe('insertColumns and deleteColumns', () => {
  // "changeType: The type of change (EDIT, INSERT_ROW, INSERT_COLUMN, REMOVE_ROW, REMOVE_COLUMN,
  // INSERT_GRID, REMOVE_GRID, FORMAT, or OTHER)", and no onEdit: Apps Script, Event objects.
  it('inserts and deletes columns by zero-based index, firing only onChange', async () => {
    await admin.userActions(id, [{ type: 'insertColumns', sheet: 'Sheet1', index: 1, count: 2 }]);
    expect(
      (await client.spreadsheets.values.get({ spreadsheetId: id, range: 'Sheet1!A1:E1' })).data.values,
    ).toEqual([['name', '', '', 'score', 'team']]);
    expect(reported()).toEqual(['change INSERT_COLUMN']);
    recorder.reports.length = 0;
    await admin.userActions(id, [{ type: 'deleteColumns', sheet: 0, index: 0, count: 3 }]);
    expect(
      (await client.spreadsheets.values.get({ spreadsheetId: id, range: 'Sheet1!A1:B2' })).data.values,
    ).toEqual([
      ['score', 'team'],
      ['30', 'red'],
    ]);
    expect(reported()).toEqual(['change REMOVE_COLUMN']);
  });
});

describe('sortRange', () => {
  it('sorts by SortSpecs with dimensionIndex counted across the whole sheet', async () => {
    await admin.userActions(id, [
      {
        type: 'sortRange',
        range: 'Sheet1!B2:C4',
        sortSpecs: [
          { dimensionIndex: 2, sortOrder: 'DESCENDING' },
          { dimensionIndex: 1, sortOrder: 'ASCENDING' },
        ],
      },
    ]);
    // Only B:C moved; column A stays, as a sort of B2:C4 leaves it.
    const rows = (await client.spreadsheets.values.get({ spreadsheetId: id, range: 'Sheet1!A2:C4' })).data
      .values;
    expect(rows).toEqual([
      ['ada', '20', 'red'],
      ['bob', '30', 'red'],
      ['cy', '10', 'blue'],
    ]);
    expect(reported().sort()).toEqual(['change OTHER', 'edit B2:C4']);
  });
});

describe('a batch', () => {
  it('applies in order and runs each action’s triggers before the next action', async () => {
    const response = await admin.userActions(id, [
      { type: 'insertRows', sheet: 'Sheet1', index: 1, count: 1 },
      { type: 'edit', range: 'Sheet1!A2', values: [['new']] },
      { type: 'deleteRows', sheet: 'Sheet1', index: 3, count: 1 },
    ]);
    expect(response.status).toBe(200);
    expect(response.body.results.map((r: { type: string }) => r.type)).toEqual([
      'insertRows',
      'edit',
      'deleteRows',
    ]);
    expect(await column('Sheet1!A1:A4')).toEqual(['name', 'new', 'ada', 'cy']);
    // Within one action onEdit and onChange run concurrently; across actions they are ordered.
    const order = reported();
    expect(order[0]).toBe('change INSERT_ROW');
    expect(order.slice(1, 3).sort()).toEqual(['change EDIT', 'edit A2']);
    expect(order[3]).toBe('change REMOVE_ROW');
  });

  it('stops at the first failing action: earlier actions stay applied and the 400 names the action', async () => {
    const response = await admin.userActions(id, [
      { type: 'edit', range: 'Sheet1!A2', values: [['first']] },
      { type: 'deleteRows', sheet: 'Sheet1', index: 5000, count: 1 },
      { type: 'edit', range: 'Sheet1!A3', values: [['never']] },
    ]);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(response.body.error.message).toMatch(/^Invalid actions\[1\] \(deleteRows\): /);
    expect(await column('Sheet1!A2:A3')).toEqual(['first', 'bob']);
  });

  it('a paste past the last row grows the grid, as the UI does', async () => {
    const meta = await client.spreadsheets.get({ spreadsheetId: id });
    const rowCount = meta.data.sheets?.[0]?.properties?.gridProperties?.rowCount ?? 0;
    await admin.userActions(id, [{ type: 'edit', range: `Sheet1!A${rowCount}`, values: [['x'], ['y']] }]);
    expect(await column(`Sheet1!A${rowCount}:A${rowCount + 1}`)).toEqual(['x', 'y']);
  });
});

describe('bad input', () => {
  it.each([
    [
      'an unknown spreadsheet',
      'no-such-spreadsheet',
      { actions: [{ type: 'edit', range: 'A1', values: [['x']] }] },
      404,
    ],
    ['no actions', null, { actions: [] }, 400],
    [
      'an unknown field',
      null,
      { actions: [{ type: 'insertRows', sheet: 'Sheet1', index: 1, count: 1, extra: true }] },
      400,
    ],
    [
      'a fractional index',
      null,
      { actions: [{ type: 'deleteRows', sheet: 'Sheet1', index: 1.5, count: 1 }] },
      400,
    ],
    ['a zero count', null, { actions: [{ type: 'insertRows', sheet: 'Sheet1', index: 1, count: 0 }] }, 400],
    ['malformed A1', null, { actions: [{ type: 'edit', range: 'A1:B2:C3', values: [['x']] }] }, 400],
    ['an unknown tab', null, { actions: [{ type: 'insertRows', sheet: 'Nope', index: 1, count: 1 }] }, 400],
    [
      'a sort key outside the range',
      null,
      { actions: [{ type: 'sortRange', range: 'A2:B4', sortSpecs: [{ dimensionIndex: 5 }] }] },
      400,
    ],
    [
      'a move into itself',
      null,
      { actions: [{ type: 'moveRows', sheet: 'Sheet1', index: 1, count: 3, destinationIndex: 2 }] },
      400,
    ],
  ])('%s gets a Google-shaped error', async (_, spreadsheetId, body, status) => {
    const response = await admin.post(`/spreadsheets/${spreadsheetId ?? id}/userActions`, body);
    expect(response.status).toBe(status);
    expect(response.body.error).toMatchObject({
      code: status,
      status: status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
    });
    expect(typeof response.body.error.message).toBe('string');
    expect(await column('Sheet1!A1:A4')).toEqual(['name', 'ada', 'bob', 'cy']);
    expect(recorder.reports).toEqual([]);
  });

  it('a body that is not JSON gets a 400 and the server keeps serving', async () => {
    const response = await fetch(`${emulator.url}/_emulator/v1/spreadsheets/${id}/userActions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
    expect((await admin.userActions(id, [{ type: 'edit', range: 'D1', values: [['ok']] }])).status).toBe(200);
  });
});
