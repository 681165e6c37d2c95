/**
 * The requests of core/cell-marks.ts sent through the real googleapis client to the local sheet:
 * a mark adds a note and a fill to a refused cell and keeps its value, number format and
 * validation rule; clearing it takes only the note and the fill away.
 */
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { MARK_COLOR, markNote, planCellMarks } from '../../functions/src/core/cell-marks.ts';

let emulator: Emulator;
let client: sheets_v4.Sheets;
let spreadsheetId: string;

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, quotas: { enabled: false } });
  client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
  spreadsheetId = emulator.model.create({
    title: 'marks',
    sheets: [{ title: 'People', sheetId: 0, rowCount: 10, columnCount: 3 }],
  }).spreadsheetId;
  await client.spreadsheets.values.update({
    spreadsheetId,
    range: 'People!A1',
    valueInputOption: 'RAW',
    requestBody: {
      values: [
        ['name', 'seats', '_sheetsync_id'],
        ['Ada', 'lots', 'r-1'],
      ],
    },
  });
  await client.spreadsheets.batchUpdate({
    spreadsheetId,
    requestBody: {
      requests: [
        {
          repeatCell: {
            range: { sheetId: 0, startRowIndex: 1, startColumnIndex: 1, endColumnIndex: 2 },
            cell: { userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0' } } },
            fields: 'userEnteredFormat.numberFormat',
          },
        },
      ],
    },
  });
});
afterAll(() => emulator.close());

const seatsCell = async () =>
  (
    await client.spreadsheets.get({
      spreadsheetId,
      ranges: ['People!B2'],
      includeGridData: true,
      fields: 'sheets.data.rowData.values(formattedValue,note,userEnteredFormat)',
    })
  ).data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.[0];

const send = async (marks: Parameters<typeof planCellMarks>[0]['marks']) => {
  const { requests, unplaced } = planCellMarks({
    sheetId: 0,
    headers: ['name', 'seats', '_sheetsync_id'],
    rowOf: (rowId) => (rowId === 'r-1' ? 2 : undefined),
    marks,
  });
  expect(unplaced).toEqual([]);
  await client.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } });
};

it('marks the refused cell, then clears the mark when a later value synced', async () => {
  const note = markNote('SHEETSYNC_E407', '"lots" is not a whole number', 'Type a whole number.');
  await send([{ rowId: 'r-1', column: 'seats', note }]);
  expect(await seatsCell()).toEqual({
    formattedValue: 'lots',
    note,
    userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0' }, backgroundColor: MARK_COLOR },
  });
  await client.spreadsheets.values.update({
    spreadsheetId,
    range: 'People!B2',
    valueInputOption: 'USER_ENTERED',
    requestBody: { values: [['12']] },
  });
  // A value written keeps the note (values.update changes values only): the mark stays until cleared.
  expect((await seatsCell())?.note).toBe(note);
  await send([{ rowId: 'r-1', column: 'seats' }]);
  expect(await seatsCell()).toEqual({
    formattedValue: '12',
    userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0' } },
  });
});
