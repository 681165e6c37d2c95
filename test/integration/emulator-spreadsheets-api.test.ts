/**
 * Contract tests for spreadsheets.get and spreadsheets.batchUpdate through @googleapis/sheets.
 * Sections named are those of https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets
 * and .../spreadsheets/request.
 */
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';

let emulator: Emulator;
let client: sheets_v4.Sheets;
let spreadsheetId: string;

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, quotas: { enabled: false } });
  client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  spreadsheetId = emulator.model.create({
    title: 'contract',
    sheets: [{ title: 'Sheet1', sheetId: 0, rowCount: 10, columnCount: 5 }],
  }).spreadsheetId;
  await client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Sheet1!A1',
    valueInputOption: 'RAW',
    requestBody: { values: [['r1'], ['r2'], ['r3'], ['r4']] },
  });
});

const batch = async (requests: sheets_v4.Schema$Request[]) =>
  (await client.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } })).data;
const column = async (range = 'Sheet1!A1:A10') =>
  (await client.spreadsheets.values.get({ spreadsheetId, range })).data.values?.map((row) => row[0] ?? '');
async function failure(
  promise: Promise<unknown>,
): Promise<{ status: number; body: { error: Record<string, unknown> } }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; response: { data: { error: Record<string, unknown> } } };
    return { status: e.status, body: e.response.data };
  }
  throw new Error('expected the request to fail');
}

describe('spreadsheets.get (Spreadsheet, SheetProperties, GridProperties)', () => {
  it('returns properties and sheets with gridProperties; false and zero members are omitted', async () => {
    const { data } = await client.spreadsheets.get({ spreadsheetId });
    expect(data.spreadsheetId).toBe(spreadsheetId);
    expect(data.properties?.title).toBe('contract');
    expect(data.sheets).toEqual([
      {
        properties: {
          sheetId: 0,
          title: 'Sheet1',
          index: 0,
          sheetType: 'GRID',
          gridProperties: { rowCount: 10, columnCount: 5 },
        },
      },
    ]);
  });

  it('includeGridData returns rowData with userEnteredValue, effectiveValue and formattedValue', async () => {
    const { data } = await client.spreadsheets.get({
      spreadsheetId,
      includeGridData: true,
      ranges: ['Sheet1!A2:A3'],
    });
    const grid = data.sheets?.[0]?.data?.[0];
    expect(grid?.startRow).toBe(1);
    expect(grid?.rowData?.[0]?.values?.[0]).toEqual({
      userEnteredValue: { stringValue: 'r2' },
      effectiveValue: { stringValue: 'r2' },
      formattedValue: 'r2',
    });
    expect(grid?.rowMetadata).toHaveLength(2);
  });

  it('ranges alone (no includeGridData) limit the sheets returned and bring no grid data', async () => {
    await batch([{ addSheet: { properties: { title: 'Other' } } }]);
    const { data } = await client.spreadsheets.get({ spreadsheetId, ranges: ['Other!A1:B2'] });
    expect(data.sheets?.map((sheet) => sheet.properties?.title)).toEqual(['Other']);
    expect(data.sheets?.[0]?.data).toBeUndefined();
  });

  it('"includeGridData ... is ignored if a field mask was set": the mask decides, and hidden columns show', async () => {
    await batch([
      {
        updateDimensionProperties: {
          range: { sheetId: 0, dimension: 'COLUMNS', startIndex: 1, endIndex: 2 },
          properties: { hiddenByUser: true },
          fields: 'hiddenByUser',
        },
      },
    ]);
    const { data } = await client.spreadsheets.get({
      spreadsheetId,
      includeGridData: false,
      fields: 'sheets(properties(title),data(columnMetadata(hiddenByUser)))',
    });
    expect(data).toEqual({
      sheets: [
        {
          properties: { title: 'Sheet1' },
          data: [{ columnMetadata: [{}, { hiddenByUser: true }, {}, {}, {}] }],
        },
      ],
    });
  });

  it('an unknown spreadsheet is 404 NOT_FOUND "Requested entity was not found."', async () => {
    const { status, body } = await failure(client.spreadsheets.get({ spreadsheetId: 'nope' }));
    expect(status).toBe(404);
    expect(body).toEqual({
      error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' },
    });
  });
});

describe('spreadsheets.batchUpdate requests', () => {
  it('addSheet replies with the new SheetProperties; deleteSheet replies {}', async () => {
    const reply = await batch([
      { addSheet: { properties: { title: 'Extra', gridProperties: { rowCount: 5, columnCount: 3 } } } },
    ]);
    const added = reply.replies?.[0]?.addSheet?.properties;
    expect(added).toMatchObject({
      title: 'Extra',
      index: 1,
      sheetType: 'GRID',
      gridProperties: { rowCount: 5, columnCount: 3 },
    });
    expect(typeof added?.sheetId).toBe('number');
    expect((await batch([{ deleteSheet: { sheetId: added?.sheetId } }])).replies).toEqual([{}]);
  });

  it("addSheet with a taken title fails with Google's message and changes nothing", async () => {
    const { status, body } = await failure(batch([{ addSheet: { properties: { title: 'Sheet1' } } }]));
    expect(status).toBe(400);
    expect(body.error.message).toBe(
      'Invalid requests[0].addSheet: A sheet with the name "Sheet1" already exists. Please enter another name.',
    );
  });

  it('insertDimension, deleteDimension and moveDimension move cells with their rows', async () => {
    await batch([
      { insertDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 2 } } },
    ]);
    expect(await column()).toEqual(['r1', '', 'r2', 'r3', 'r4']);
    await batch([
      { deleteDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 2 } } },
    ]);
    expect(await column()).toEqual(['r1', 'r2', 'r3', 'r4']);
    // MoveDimensionRequest: destinationIndex is the index before the move ("zero-based ... before the removal").
    await batch([
      {
        moveDimension: {
          source: { sheetId: 0, dimension: 'ROWS', startIndex: 0, endIndex: 1 },
          destinationIndex: 3,
        },
      },
    ]);
    expect(await column()).toEqual(['r2', 'r3', 'r1', 'r4']);
    const grid = (await client.spreadsheets.get({ spreadsheetId })).data.sheets?.[0]?.properties
      ?.gridProperties;
    expect(grid?.rowCount).toBe(10);
  });

  it('MoveDimensionRequest: the documented example, A1..A5 0,1,2,3,4 with ROWS [1..3) to 4 gives 0,3,1,2,4', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [[0], [1], [2], [3], [4]] },
    });
    await batch([
      {
        moveDimension: {
          source: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 3 },
          destinationIndex: 4,
        },
      },
    ]);
    expect(await column('Sheet1!A1:A5')).toEqual(['0', '3', '1', '2', '4']);
  });

  it('appendDimension adds rows at the end', async () => {
    await batch([{ appendDimension: { sheetId: 0, dimension: 'ROWS', length: 5 } }]);
    const grid = (await client.spreadsheets.get({ spreadsheetId })).data.sheets?.[0]?.properties
      ?.gridProperties;
    expect(grid?.rowCount).toBe(15);
  });

  it('addProtectedRange (warningOnly) replies with the protected range, which spreadsheets.get lists', async () => {
    const reply = await batch([
      {
        addProtectedRange: {
          protectedRange: {
            range: { sheetId: 0, startColumnIndex: 4, endColumnIndex: 5 },
            description: 'ids',
            warningOnly: true,
          },
        },
      },
    ]);
    const protectedRange = reply.replies?.[0]?.addProtectedRange?.protectedRange;
    expect(protectedRange).toMatchObject({
      range: { sheetId: 0, startColumnIndex: 4, endColumnIndex: 5 },
      description: 'ids',
      warningOnly: true,
      requestingUserCanEdit: true,
    });
    const listed = (await client.spreadsheets.get({ spreadsheetId })).data.sheets?.[0]?.protectedRanges;
    expect(listed).toEqual([protectedRange]);
    await batch([{ deleteProtectedRange: { protectedRangeId: protectedRange?.protectedRangeId } }]);
    expect(
      (await client.spreadsheets.get({ spreadsheetId })).data.sheets?.[0]?.protectedRanges,
    ).toBeUndefined();
  });

  it('updateCells writes CellData under the fields mask; appendCells appends after the last row with data', async () => {
    await batch([
      {
        updateCells: {
          start: { sheetId: 0, rowIndex: 0, columnIndex: 1 },
          rows: [
            {
              values: [
                { userEnteredValue: { numberValue: 7 } },
                { userEnteredValue: { formulaValue: '=B1*2' } },
              ],
            },
          ],
          fields: 'userEnteredValue',
        },
      },
      {
        appendCells: {
          sheetId: 0,
          rows: [
            {
              values: [
                { userEnteredValue: { stringValue: 'r5' } },
                { userEnteredValue: { boolValue: true } },
              ],
            },
          ],
          fields: 'userEnteredValue',
        },
      },
    ]);
    const values = (
      await client.spreadsheets.values.get({
        spreadsheetId,
        range: 'Sheet1!A1:C5',
        valueRenderOption: 'UNFORMATTED_VALUE',
      })
    ).data.values;
    expect(values).toEqual([['r1', 7, 14], ['r2'], ['r3'], ['r4'], ['r5', true]]);
  });

  it('sortRange sorts rows of the range by the sort specs', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!A1:B4',
      valueInputOption: 'RAW',
      requestBody: {
        values: [
          ['b', 2],
          ['a', 10],
          ['C', 1],
          ['', 5],
        ],
      },
    });
    const reply = await batch([
      {
        sortRange: {
          range: { sheetId: 0, startRowIndex: 0, endRowIndex: 4, startColumnIndex: 0, endColumnIndex: 2 },
          sortSpecs: [{ dimensionIndex: 0, sortOrder: 'DESCENDING' }],
        },
      },
    ]);
    expect(reply.replies).toEqual([{}]);
    expect(await column('Sheet1!A1:A4')).toEqual(['C', 'b', 'a']);
    expect(
      (
        await client.spreadsheets.values.get({
          spreadsheetId,
          range: 'Sheet1!B1:B4',
          valueRenderOption: 'UNFORMATTED_VALUE',
        })
      ).data.values,
    ).toEqual([[1], [2], [10], [5]]);
  });

  it('"If any request is not valid, no requests will be applied"', async () => {
    const { status, body } = await failure(
      batch([
        { insertDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 0, endIndex: 1 } } },
        { deleteSheet: { sheetId: 999 } },
      ]),
    );
    expect(status).toBe(400);
    expect(body.error).toEqual({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: 'Invalid requests[1].deleteSheet: No grid with id: 999',
    });
    expect(await column()).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('updateSheetProperties renames and resizes under its fields mask', async () => {
    await batch([
      {
        updateSheetProperties: {
          properties: { sheetId: 0, title: 'Renamed', gridProperties: { rowCount: 2, columnCount: 3 } },
          fields: 'title,gridProperties.rowCount',
        },
      },
    ]);
    const properties = (await client.spreadsheets.get({ spreadsheetId })).data.sheets?.[0]?.properties;
    expect(properties).toMatchObject({ title: 'Renamed', gridProperties: { rowCount: 2, columnCount: 5 } });
    expect(await column('Renamed!A1:A2')).toEqual(['r1', 'r2']);
  });

  it('a renamed tab keeps the formulas that name it working: they name the new title, as in Sheets', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!B1',
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['=Sheet1!A1&"!"']] },
    });
    await batch([
      { updateSheetProperties: { properties: { sheetId: 0, title: 'My tab' }, fields: 'title' } },
    ]);
    const formula = await client.spreadsheets.values.get({
      spreadsheetId,
      range: "'My tab'!B1",
      valueRenderOption: 'FORMULA',
    });
    expect(formula.data.values).toEqual([['=\'My tab\'!A1&"!"']]);
    expect(await column("'My tab'!B1")).toEqual(['r1!']);
  });

  it('a resize past 10,000,000 cells fails with the message Google gives', async () => {
    const { status, body } = await failure(
      batch([
        {
          updateSheetProperties: {
            properties: { sheetId: 0, gridProperties: { rowCount: 2_000_001 } },
            fields: 'gridProperties.rowCount',
          },
        },
      ]),
    );
    expect(status).toBe(400);
    expect(body.error.message).toBe(
      'Invalid requests[0].updateSheetProperties: This action would increase the number of cells in the workbook above the limit of 10000000 cells.',
    );
  });

  it('includeSpreadsheetInResponse returns updatedSpreadsheet after the requests', async () => {
    const { data } = await client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: {
        includeSpreadsheetInResponse: true,
        requests: [{ appendDimension: { sheetId: 0, dimension: 'COLUMNS', length: 2 } }],
      },
    });
    expect(data.replies).toEqual([{}]);
    expect(data.updatedSpreadsheet?.sheets?.[0]?.properties?.gridProperties).toEqual({
      rowCount: 10,
      columnCount: 7,
    });
  });

  it('an unknown request kind is refused as an unknown JSON field', async () => {
    const { status, body } = await failure(batch([{ frobnicate: {} } as sheets_v4.Schema$Request]));
    expect(status).toBe(400);
    expect(body.error.message).toBe(
      'Invalid JSON payload received. Unknown name "frobnicate" at \'requests[0]\': Cannot find field.',
    );
  });
});
