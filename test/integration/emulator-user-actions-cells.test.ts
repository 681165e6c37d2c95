/**
 * User actions on a selection of cells: `clear` (select, press Delete) and `copyPaste` (copy
 * cells, paste them elsewhere), through `POST /_emulator/v1/spreadsheets/{id}/userActions`, read
 * back through the real Sheets client, with the triggers they fire recorded by the test script.
 *
 * Triggers (https://developers.google.com/apps-script/guides/triggers/events): onEdit's `range`
 * is the edited cells; `value` "New cell value after the edit. Only available if the edited range
 * is a single cell"; `oldValue` "Cell value prior to the edit, if any. Only available if the
 * edited range is a single cell. Will be undefined if the cell had no previous content." Public
 * reports of observed behaviour add what Google does not document (emulator/README.md): clearing
 * a cell that was already empty still fires onEdit, and a paste fires onEdit without value or
 * oldValue even for one cell (github.com/tanaikech/GetEditType, "Value of empty cell was
 * removed", "Value of the clipboard was directly pasted to a cell").
 *
 * Paste semantics are the Sheets API's CopyPasteRequest with PASTE_NORMAL
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#copypasterequest).
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import { adminClient, type Recorder, startRecordedEmulator } from './emulator-apps-script-recorder.ts';

const SECRET = 'cell-actions-secret';

let emulator: Emulator;
let client: sheets_v4.Sheets;
let recorder: Recorder;
let id: string;
const admin = adminClient(() => emulator.url);

const read = async (range: string, valueRenderOption = 'FORMATTED_VALUE') =>
  (await client.spreadsheets.values.get({ spreadsheetId: id, range, valueRenderOption })).data.values ?? [];
const edits = () => recorder.reports.filter((r) => r.kind === 'edit');
const changes = () => recorder.reports.filter((r) => r.kind === 'change').map((r) => r.changeType);
const hideColumnA = () =>
  client.spreadsheets.batchUpdate({
    spreadsheetId: id,
    requestBody: {
      requests: [
        {
          updateDimensionProperties: {
            range: { sheetId: 0, dimension: 'COLUMNS', startIndex: 0, endIndex: 1 },
            properties: { hiddenByUser: true },
            fields: 'hiddenByUser',
          },
        },
      ],
    },
  });

beforeAll(async () => {
  ({ recorder, emulator, client } = await startRecordedEmulator(SECRET));
});

afterAll(async () => {
  await emulator.close();
  await recorder.close();
});

beforeEach(async () => {
  id = await admin.recordedSpreadsheet(recorder.url, SECRET, 'cell actions');
  await admin.userActions(id, [
    {
      type: 'edit',
      range: 'Sheet1!A1',
      values: [
        ['_id', 'name', 'share', 'double'],
        ['r1', 'ada', '30%', '=C2*2'],
        ['r2', 'bob', '10%', '=C3*2'],
      ],
    },
  ]);
  recorder.reports.length = 0;
});

describe('clear', () => {
  it('empties values and formulas, keeps formats, and fires one onEdit for the cells without value or oldValue', async () => {
    const response = await admin.userActions(id, [{ type: 'clear', range: 'Sheet1!B2:D3' }]);
    expect(response.body.results[0]).toMatchObject({ type: 'clear', clearedRange: 'Sheet1!B2:D3' });
    expect(await read('Sheet1!A1:D3')).toEqual([['_id', 'name', 'share', 'double'], ['r1'], ['r2']]);
    // The percent format stays: a number typed afterwards shows as a percentage.
    await admin.userActions(id, [{ type: 'edit', range: 'Sheet1!C2', values: [['0.5']] }]);
    expect(await read('Sheet1!C2')).toEqual([['50%']]);
    const [edit] = edits();
    expect(edit).toMatchObject({ range: 'B2:D3' });
    expect(edit?.keys).not.toContain('value');
    expect(edit?.keys).not.toContain('oldValue');
    expect(changes()).toContain('EDIT');
  });

  it('one cell: oldValue is what it showed, value is absent', async () => {
    await admin.userActions(id, [{ type: 'clear', range: 'Sheet1!D2' }]);
    expect(await read('Sheet1!D2')).toEqual([]);
    expect(edits()).toHaveLength(1);
    expect(edits()[0]).toMatchObject({ range: 'D2', oldValue: '0.6' });
    expect(edits()[0]?.keys).not.toContain('value');
    expect(changes()).toEqual(['EDIT']);
  });

  it('an already empty cell still fires onEdit, with neither value nor oldValue', async () => {
    await admin.userActions(id, [{ type: 'clear', range: 'Sheet1!F9' }]);
    expect(edits()).toHaveLength(1);
    expect(edits()[0]).toMatchObject({ range: 'F9' });
    expect(edits()[0]?.keys).not.toContain('oldValue');
  });

  it('whole rows: the onEdit range spans every column', async () => {
    await admin.userActions(id, [{ type: 'clear', range: 'Sheet1!3:3' }]);
    expect(await read('Sheet1!A3:D3')).toEqual([]);
    expect(edits().map((e) => e.range)).toEqual(['A3:Z3']);
  });

  it('a range past the grid is refused with "exceeds grid limits" and nothing is cleared', async () => {
    const response = await admin.userActions(id, [{ type: 'clear', range: 'Sheet1!A1:AB2' }]);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe(
      'Invalid actions[0] (clear): Range (Sheet1!A1:AB2) exceeds grid limits. Max rows: 1000, max columns: 26',
    );
    expect(await read('Sheet1!A1:B1')).toEqual([['_id', 'name']]);
    expect(recorder.reports).toEqual([]);
  });
});

describe('copyPaste', () => {
  it('pastes values, formulas and formats at a cell and fires one onEdit for the pasted cells, without value', async () => {
    const response = await admin.userActions(id, [
      { type: 'copyPaste', source: 'Sheet1!B2:D3', destination: 'Sheet1!F5' },
    ]);
    expect(response.body.results[0]).toMatchObject({ type: 'copyPaste', pastedRange: 'Sheet1!F5:H6' });
    expect(await read('Sheet1!F5:H6')).toEqual([
      ['ada', '30%', '0.6'],
      ['bob', '10%', '0.2'],
    ]);
    expect(edits().map((e) => [e.range, e.keys.includes('value'), e.keys.includes('oldValue')])).toEqual([
      ['F5:H6', false, false],
    ]);
    expect(changes()).toEqual(['EDIT']);
  });

  it('relative references move by the paste offset, absolute ones stay, and one moved off the sheet is #REF!', async () => {
    await admin.userActions(id, [
      { type: 'edit', range: 'Sheet1!E2', values: [['=C2+$C$2+C$2+$C2+SUM(C:C)+SUM(2:2)+"C2"']] },
      { type: 'edit', range: 'Sheet1!B5', values: [['=A4']] },
    ]);
    await admin.userActions(id, [
      { type: 'copyPaste', source: 'Sheet1!E2', destination: 'Sheet1!F4' },
      { type: 'copyPaste', source: 'Sheet1!B5', destination: 'Sheet1!A1' },
    ]);
    expect(await read('Sheet1!F4', 'FORMULA')).toEqual([['=D4+$C$2+D$2+$C4+SUM(D:D)+SUM(4:4)+"C2"']]);
    expect(await read('Sheet1!A1', 'FORMULA')).toEqual([['=#REF!']]);
    expect(await read('Sheet1!A1')).toEqual([['#REF!']]);
  });

  it('whole rows carry their hidden cells (the id column) with them', async () => {
    await hideColumnA();
    await admin.userActions(id, [{ type: 'copyPaste', source: 'Sheet1!2:3', destination: 'Sheet1!A8' }]);
    expect(await read('Sheet1!A8:D9')).toEqual([
      ['r1', 'ada', '30%', '0.6'],
      ['r2', 'bob', '10%', '0.2'],
    ]);
    expect(edits().map((e) => e.range)).toEqual(['A8:Z9']);
  });

  it('hidden columns inside a copied block are copied too', async () => {
    await hideColumnA();
    await admin.userActions(id, [{ type: 'copyPaste', source: 'Sheet1!A2:B2', destination: 'Sheet1!A10' }]);
    expect(await read('Sheet1!A10:B10')).toEqual([['r1', 'ada']]);
  });

  it('a destination that is a multiple of the source repeats it; a smaller one still gets the whole source', async () => {
    await admin.userActions(id, [
      { type: 'copyPaste', source: 'Sheet1!B2:B3', destination: 'Sheet1!F1:G4' },
      { type: 'copyPaste', source: 'Sheet1!A1:B2', destination: 'Sheet1!I1:I1' },
      { type: 'copyPaste', source: 'Sheet1!B2', destination: 'Sheet1!K1:K3' },
    ]);
    expect(await read('Sheet1!F1:G4')).toEqual([
      ['ada', 'ada'],
      ['bob', 'bob'],
      ['ada', 'ada'],
      ['bob', 'bob'],
    ]);
    expect(await read('Sheet1!I1:J2')).toEqual([
      ['_id', 'name'],
      ['r1', 'ada'],
    ]);
    expect(await read('Sheet1!K1:K3')).toEqual([['ada'], ['ada'], ['ada']]);
    expect(edits().map((e) => e.range)).toEqual(['F1:G4', 'I1:J2', 'K1:K3']);
  });

  it('empty source cells empty their destination; overlapping ranges paste what was copied', async () => {
    await admin.userActions(id, [{ type: 'edit', range: 'Sheet1!B5:C5', values: [['old', 'kept']] }]);
    await admin.userActions(id, [{ type: 'copyPaste', source: 'Sheet1!B1:B4', destination: 'Sheet1!B2' }]);
    expect(await read('Sheet1!B1:C5')).toEqual([
      ['name', 'share'],
      ['name', '30%'],
      ['ada', '10%'],
      ['bob'],
      ['', 'kept'],
    ]);
  });

  it('a paste past the last row grows the grid, as the UI does; another tab is a destination too', async () => {
    await client.spreadsheets.batchUpdate({
      spreadsheetId: id,
      requestBody: {
        requests: [
          { addSheet: { properties: { title: 'Small', gridProperties: { rowCount: 2, columnCount: 2 } } } },
        ],
      },
    });
    const kinds: string[] = [];
    const unsubscribe = emulator.model.onChange((event) => kinds.push(event.kind));
    await admin.userActions(id, [{ type: 'copyPaste', source: 'Sheet1!B1:C3', destination: 'Small!B2' }]);
    unsubscribe();
    // The grid hears of the new size (a sheetProperties change), then of the values.
    expect(kinds).toEqual(['sheetProperties', 'values']);
    expect(await read('Small!B2:C4')).toEqual([
      ['name', 'share'],
      ['ada', '30%'],
      ['bob', '10%'],
    ]);
    const { data } = await client.spreadsheets.get({ spreadsheetId: id, ranges: ['Small'] });
    expect(data.sheets?.[0]?.properties?.gridProperties).toMatchObject({ rowCount: 4, columnCount: 3 });
  });

  it.each([
    ['an unknown tab', { source: 'Nope!A1', destination: 'Sheet1!A1' }, /Unable to parse range: Nope!A1/],
    [
      'a source past the grid',
      { source: 'Sheet1!A1:A1001', destination: 'Sheet1!B1' },
      /exceeds grid limits/,
    ],
    [
      'a destination past the grid',
      { source: 'Sheet1!A1', destination: 'Sheet1!A1001' },
      /exceeds grid limits/,
    ],
  ])('refuses %s and changes nothing', async (_, paste, message) => {
    const response = await admin.userActions(id, [{ type: 'copyPaste', ...paste }]);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(message);
    expect(recorder.reports).toEqual([]);
  });
});
