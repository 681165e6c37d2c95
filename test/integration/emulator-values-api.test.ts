/**
 * Contract tests for spreadsheets.values, through the real client (@googleapis/sheets) with
 * rootUrl pointed at the emulator. Each test names the section of the Sheets API reference
 * (https://developers.google.com/sheets/api/reference/rest/v4/...) whose behaviour it checks.
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
beforeEach(() => {
  spreadsheetId = emulator.model.create({
    title: 'contract',
    sheets: [
      { title: 'Sheet1', sheetId: 0 },
      { title: "Bob's data", sheetId: 7 },
    ],
  }).spreadsheetId;
});

async function put(range: string, values: unknown[][], valueInputOption = 'RAW') {
  return (
    await client.spreadsheets.values.update({
      spreadsheetId,
      range,
      valueInputOption,
      requestBody: { values },
    })
  ).data;
}
async function get(range: string, params: Partial<sheets_v4.Params$Resource$Spreadsheets$Values$Get> = {}) {
  return (await client.spreadsheets.values.get({ spreadsheetId, range, ...params })).data;
}
async function failure(promise: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; response: { data: unknown } };
    return { status: e.status, body: e.response.data };
  }
  throw new Error('expected the request to fail');
}

describe('spreadsheets.values.update (UpdateValuesResponse)', () => {
  it('reports updatedRange as the written box and counts rows, columns and cells', async () => {
    const reply = await put('Sheet1!B2:F10', [['a', 'b'], ['c']]);
    expect(reply).toEqual({
      spreadsheetId,
      updatedRange: 'Sheet1!B2:C3',
      updatedRows: 2,
      updatedColumns: 2,
      updatedCells: 3,
    });
  });

  it('ValueRange.values: null skips a cell, "" clears it', async () => {
    await put('Sheet1!A1:C1', [['x', 'y', 'z']]);
    const reply = await put('Sheet1!A1:C1', [[null, '', 'w']]);
    expect(reply.updatedCells).toBe(2);
    expect((await get('Sheet1!A1:C1')).values).toEqual([['x', '', 'w']]);
  });

  it('includeValuesInResponse returns updatedData rendered with responseValueRenderOption', async () => {
    const { data } = await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!A1',
      valueInputOption: 'USER_ENTERED',
      includeValuesInResponse: true,
      responseValueRenderOption: 'FORMULA',
      requestBody: { values: [['=1+2', '3']] },
    });
    expect(data.updatedData).toEqual({
      range: 'Sheet1!A1:B1',
      majorDimension: 'ROWS',
      values: [['=1+2', 3]],
    });
  });

  it('majorDimension COLUMNS writes each inner array as a column', async () => {
    const reply = (
      await client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Sheet1!A1',
        valueInputOption: 'RAW',
        requestBody: { majorDimension: 'COLUMNS', values: [['a1', 'a2', 'a3'], ['b1']] },
      })
    ).data;
    expect(reply.updatedRange).toBe('Sheet1!A1:B3');
    expect((await get('Sheet1!A1:B3')).values).toEqual([['a1', 'b1'], ['a2'], ['a3']]);
  });

  it('refuses values outside a bounded range with INVALID_ARGUMENT', async () => {
    const { status, body } = await failure(put('Sheet1!A1:B1', [['a', 'b', 'c']]));
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'Requested writing within range [Sheet1!A1:B1], but tried writing to column [C]',
      },
    });
  });

  it('a cell holds at most 50,000 characters: a longer entry fails the whole request (RAW, USER_ENTERED, updateCells)', async () => {
    const message = 'Your input contains more than the maximum of 50000 characters in a single cell.';
    const fits = 'x'.repeat(50_000);
    await put('Sheet1!A1', [[fits]]);
    expect((await get('Sheet1!A1')).values).toEqual([[fits]]);
    for (const option of ['RAW', 'USER_ENTERED']) {
      const { status, body } = await failure(put('Sheet1!A2:B2', [['kept?', `${fits}y`]], option));
      expect(status).toBe(400);
      expect(body).toEqual({ error: { code: 400, status: 'INVALID_ARGUMENT', message } });
    }
    const { status } = await failure(
      client.spreadsheets.batchUpdate({
        spreadsheetId,
        requestBody: {
          requests: [
            {
              appendCells: {
                sheetId: 0,
                rows: [{ values: [{ userEnteredValue: { stringValue: 'kept?' } }] }],
                fields: 'userEnteredValue',
              },
            },
            {
              updateCells: {
                start: { sheetId: 0, rowIndex: 3, columnIndex: 0 },
                rows: [{ values: [{ userEnteredValue: { stringValue: `${fits}y` } }] }],
                fields: 'userEnteredValue',
              },
            },
          ],
        },
      }),
    );
    expect(status).toBe(400);
    // Nothing of the failed requests was written.
    expect((await get('Sheet1!A1:B4')).values).toEqual([[fits]]);
  });

  it('a write past the grid fails with "exceeds grid limits" (values.update never resizes the sheet)', async () => {
    const { status, body } = await failure(put('Sheet1!A1000', [['x'], ['y']]));
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'Range (Sheet1!A1000:A1001) exceeds grid limits. Max rows: 1000, max columns: 26',
      },
    });
    expect((await get('Sheet1!A1000')).values).toBeUndefined();
  });

  it('append past the last row adds rows ("will still insert new rows or columns so the data can be written")', async () => {
    await put('Sheet1!A1000', [['last']]);
    const { data } = await client.spreadsheets.values.append({
      spreadsheetId,
      range: 'Sheet1!A1000',
      valueInputOption: 'RAW',
      requestBody: { values: [['x'], ['y']] },
    });
    expect(data.updates?.updatedRange).toBe('Sheet1!A1001:A1002');
    const sheet = (await client.spreadsheets.get({ spreadsheetId })).data.sheets?.[0];
    expect(sheet?.properties?.gridProperties?.rowCount).toBe(1002);
  });
});

describe('ValueInputOption', () => {
  it('RAW: "The values the user has entered will not be parsed and will be stored as-is."', async () => {
    await put('Sheet1!A1:E1', [['12', '=1+1', 'TRUE', "'x", '2024-01-15']], 'RAW');
    expect((await get('Sheet1!A1:E1', { valueRenderOption: 'UNFORMATTED_VALUE' })).values).toEqual([
      ['12', '=1+1', 'TRUE', "'x", '2024-01-15'],
    ]);
  });

  it('USER_ENTERED: numbers, booleans, dates, a leading apostrophe and formulas parse as typed in the UI', async () => {
    await put(
      'Sheet1!A1:H1',
      [['12', '1,234.5', '=A1*2', 'true', "'0042", '2024-01-15', '15%', 'text']],
      'USER_ENTERED',
    );
    expect((await get('Sheet1!A1:H1', { valueRenderOption: 'UNFORMATTED_VALUE' })).values).toEqual([
      [12, 1234.5, 24, true, '0042', 45306, 0.15, 'text'],
    ]);
    expect((await get('Sheet1!A1:H1')).values).toEqual([
      ['12', '1,234.5', '24', 'TRUE', '0042', '2024-01-15', '15%', 'text'],
    ]);
    expect((await get('Sheet1!C1', { valueRenderOption: 'FORMULA' })).values).toEqual([['=A1*2']]);
  });

  it('a formula is recalculated when the cells it reads change', async () => {
    await put('Sheet1!A1:C1', [['2', '3', '=SUM(A1:B1)']], 'USER_ENTERED');
    await put('Sheet1!A1', [['10']], 'USER_ENTERED');
    expect((await get('Sheet1!C1')).values).toEqual([['13']]);
  });

  it('an unsupported function evaluates to #NAME?, as Google shows an unknown function', async () => {
    await put('Sheet1!A1', [['=NOSUCHFUNCTION(1)']], 'USER_ENTERED');
    expect((await get('Sheet1!A1')).values).toEqual([['#NAME?']]);
  });

  it("an unknown member of the ValueRange body is refused as Google's proto parser refuses it", async () => {
    const { status, body } = await failure(
      client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Sheet1!A1',
        valueInputOption: 'RAW',
        requestBody: { valuess: [['x']] } as sheets_v4.Schema$ValueRange,
      }),
    );
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'Invalid JSON payload received. Unknown name "valuess": Cannot find field.',
      },
    });
  });

  it('requires valueInputOption', async () => {
    const { status, body } = await failure(
      client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Sheet1!A1',
        requestBody: { values: [['x']] },
      }),
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({
      error: { status: 'INVALID_ARGUMENT', message: "'valueInputOption' is required but not specified" },
    });
  });
});

describe('spreadsheets.values.get (ValueRange, ValueRenderOption, DateTimeRenderOption)', () => {
  beforeEach(async () => {
    await put(
      'Sheet1!A1:C3',
      [
        ['name', 'born', 'score'],
        ['ada', '1815-12-10', '1.5'],
        ['bob', '', ''],
      ],
      'USER_ENTERED',
    );
  });

  it('FORMATTED_VALUE (default) renders as displayed; trailing empty cells and rows are omitted', async () => {
    const range = await get('Sheet1!A1:E10');
    expect(range).toEqual({
      range: 'Sheet1!A1:E10',
      majorDimension: 'ROWS',
      values: [['name', 'born', 'score'], ['ada', '1815-12-10', '1.5'], ['bob']],
    });
  });

  it('UNFORMATTED_VALUE with SERIAL_NUMBER (default) and FORMATTED_STRING for dates', async () => {
    expect((await get('Sheet1!B2', { valueRenderOption: 'UNFORMATTED_VALUE' })).values).toEqual([[-30701]]);
    expect(
      (
        await get('Sheet1!B2', {
          valueRenderOption: 'UNFORMATTED_VALUE',
          dateTimeRenderOption: 'FORMATTED_STRING',
        })
      ).values,
    ).toEqual([['1815-12-10']]);
  });

  it('majorDimension COLUMNS returns columns', async () => {
    expect((await get('Sheet1!A1:C3', { majorDimension: 'COLUMNS' })).values).toEqual([
      ['name', 'ada', 'bob'],
      ['born', '1815-12-10'],
      ['score', '1.5'],
    ]);
  });

  it('an empty range has no values member', async () => {
    expect(await get('Sheet1!K1:L5')).toEqual({ range: 'Sheet1!K1:L5', majorDimension: 'ROWS' });
  });

  it('empty rows inside the range stay as empty arrays', async () => {
    await put('Sheet1!A5', [['tail']]);
    expect((await get('Sheet1!A3:A5')).values).toEqual([['bob'], [], ['tail']]);
  });
});

describe('A1 notation (guides/concepts#cell)', () => {
  beforeEach(async () => {
    await put('Sheet1!A1:C3', [
      ['a1', 'b1', 'c1'],
      ['a2', 'b2', 'c2'],
      ['a3', 'b3', 'c3'],
    ]);
    await put("'Bob''s data'!A1", [['quoted']]);
  });

  it.each([
    [
      'Sheet1!A1:B2',
      'Sheet1!A1:B2',
      [
        ['a1', 'b1'],
        ['a2', 'b2'],
      ],
    ],
    ['Sheet1!B2', 'Sheet1!B2', [['b2']]],
    [
      'Sheet1!A:B',
      'Sheet1!A1:B1000',
      [
        ['a1', 'b1'],
        ['a2', 'b2'],
        ['a3', 'b3'],
      ],
    ],
    [
      'Sheet1!B2:C',
      'Sheet1!B2:C1000',
      [
        ['b2', 'c2'],
        ['b3', 'c3'],
      ],
    ],
    [
      'Sheet1!2:3',
      'Sheet1!A2:Z3',
      [
        ['a2', 'b2', 'c2'],
        ['a3', 'b3', 'c3'],
      ],
    ],
    [
      'Sheet1',
      'Sheet1!A1:Z1000',
      [
        ['a1', 'b1', 'c1'],
        ['a2', 'b2', 'c2'],
        ['a3', 'b3', 'c3'],
      ],
    ],
    ['A2:A3', 'Sheet1!A2:A3', [['a2'], ['a3']]],
    ["'Bob''s data'!A1:B2", "'Bob''s data'!A1:B2", [['quoted']]],
    ["'Bob''s data'", "'Bob''s data'!A1:Z1000", [['quoted']]],
    [
      'sheet1!C3:B2',
      'Sheet1!B2:C3',
      [
        ['b2', 'c2'],
        ['b3', 'c3'],
      ],
    ],
  ])('%s reads as %s', async (a1, echoed, values) => {
    const range = await get(a1);
    expect(range.range).toBe(echoed);
    expect(range.values).toEqual(values);
  });

  it.each(['Sheet1!A1:B2:C3', 'Sheet1!', 'Sheet1!A0', "'unclosed!A1", 'Sheet1!1A', 'Nope!A1', 'Nope'])(
    '%s is refused with "Unable to parse range"',
    async (a1) => {
      const { status, body } = await failure(get(a1));
      expect(status).toBe(400);
      expect(body).toEqual({
        error: { code: 400, message: `Unable to parse range: ${a1}`, status: 'INVALID_ARGUMENT' },
      });
    },
  );

  it('a bare tab name that reads as a cell reference is a cell of the first visible sheet, as Google reads it', async () => {
    await client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: { requests: [{ addSheet: { properties: { title: 'B2' } } }] },
    });
    expect(await get('B2')).toEqual({ range: 'Sheet1!B2', majorDimension: 'ROWS', values: [['b2']] });
    expect((await get("'B2'")).range).toBe("'B2'!A1:Z1000");
  });

  it('a range starting outside the grid "exceeds grid limits"', async () => {
    const { status, body } = await failure(get('Sheet1!A1001'));
    expect(status).toBe(400);
    expect(body).toMatchObject({
      error: { message: 'Range (Sheet1!A1001) exceeds grid limits. Max rows: 1000, max columns: 26' },
    });
  });
});

describe('spreadsheets.values.batchGet, batchUpdate, append, clear, batchClear', () => {
  it('batchGet returns one ValueRange per range, in order', async () => {
    await put('Sheet1!A1:B2', [
      ['a', 'b'],
      ['c', 'd'],
    ]);
    const { data } = await client.spreadsheets.values.batchGet({
      spreadsheetId,
      ranges: ['Sheet1!B1:B2', 'Sheet1!A2'],
    });
    expect(data).toEqual({
      spreadsheetId,
      valueRanges: [
        { range: 'Sheet1!B1:B2', majorDimension: 'ROWS', values: [['b'], ['d']] },
        { range: 'Sheet1!A2', majorDimension: 'ROWS', values: [['c']] },
      ],
    });
  });

  it('batchUpdate reports totals and one UpdateValuesResponse per range', async () => {
    const { data } = await client.spreadsheets.values.batchUpdate({
      spreadsheetId,
      requestBody: {
        valueInputOption: 'RAW',
        data: [
          { range: 'Sheet1!A1', values: [['a', 'b']] },
          { range: "'Bob''s data'!C3", values: [['x'], ['y']] },
        ],
      },
    });
    expect(data).toEqual({
      spreadsheetId,
      totalUpdatedRows: 3,
      totalUpdatedColumns: 3,
      totalUpdatedCells: 4,
      totalUpdatedSheets: 2,
      responses: [
        { spreadsheetId, updatedRange: 'Sheet1!A1:B1', updatedRows: 1, updatedColumns: 2, updatedCells: 2 },
        {
          spreadsheetId,
          updatedRange: "'Bob''s data'!C3:C4",
          updatedRows: 2,
          updatedColumns: 1,
          updatedCells: 2,
        },
      ],
    });
  });

  it('batchUpdate is all or nothing: a bad range leaves the first write undone', async () => {
    const { status } = await failure(
      client.spreadsheets.values.batchUpdate({
        spreadsheetId,
        requestBody: {
          valueInputOption: 'RAW',
          data: [
            { range: 'Sheet1!A1', values: [['kept?']] },
            { range: 'Nope!A1', values: [['x']] },
          ],
        },
      }),
    );
    expect(status).toBe(400);
    expect((await get('Sheet1!A1')).values).toBeUndefined();
  });

  it('append writes after the table found in the range and reports tableRange', async () => {
    await put('Sheet1!A1:B2', [
      ['id', 'name'],
      ['1', 'ada'],
    ]);
    const { data } = await client.spreadsheets.values.append({
      spreadsheetId,
      range: 'Sheet1!A:B',
      valueInputOption: 'RAW',
      requestBody: {
        values: [
          ['2', 'bob'],
          ['3', 'cy'],
        ],
      },
    });
    expect(data).toEqual({
      spreadsheetId,
      tableRange: 'Sheet1!A1:B2',
      updates: {
        spreadsheetId,
        updatedRange: 'Sheet1!A3:B4',
        updatedRows: 2,
        updatedColumns: 2,
        updatedCells: 4,
      },
    });
  });

  // spreadsheets.values.append: "The input range is used to search for existing data and find a
  // 'table' within that range. Values will be appended to the next row of the table, starting with
  // the first column of the table." The table is the whole block of data around what the range
  // finds, with all its columns, not only the range's own columns.
  describe('append finds the whole table around the range', () => {
    const append = async (range: string, values: unknown[][]) =>
      (
        await client.spreadsheets.values.append({
          spreadsheetId,
          range,
          valueInputOption: 'RAW',
          requestBody: { values },
        })
      ).data;

    it('a single cell beside data finds the table with all its columns', async () => {
      await put('Sheet1!A1:B2', [
        ['id', 'name'],
        ['1', 'ada'],
      ]);
      const data = await append('Sheet1!A1', [['2', 'bob']]);
      expect(data.tableRange).toBe('Sheet1!A1:B2');
      expect(data.updates?.updatedRange).toBe('Sheet1!A3:B3');
    });

    it('starts at the first column of the table, left of the range', async () => {
      await put('Sheet1!A1:C3', [
        ['id', 'name', 'team'],
        ['1', 'ada', 'red'],
        ['2', 'bob', 'blue'],
      ]);
      const data = await append('Sheet1!B:B', [['3', 'cy', 'red']]);
      expect(data.tableRange).toBe('Sheet1!A1:C3');
      expect(data.updates?.updatedRange).toBe('Sheet1!A4:C4');
      expect((await get('Sheet1!A4:C4')).values).toEqual([['3', 'cy', 'red']]);
    });

    it('takes in rows whose first cells are empty and data touching a corner, not a block past an empty column', async () => {
      await put('Sheet1!A1:B3', [
        ['id', 'name'],
        ['1', 'ada'],
        ['', 'bob'],
      ]);
      await put('Sheet1!C4', [['note']]);
      await put('Sheet1!E1:E5', [['x'], ['x'], ['x'], ['x'], ['x']]);
      const data = await append('Sheet1!A1', [['9']]);
      expect(data.tableRange).toBe('Sheet1!A1:C4');
      expect(data.updates?.updatedRange).toBe('Sheet1!A5');
    });
  });

  it('append with INSERT_ROWS inserts rows so that data below the table moves down', async () => {
    await put('Sheet1!A1:A2', [['head'], ['one']]);
    await put('Sheet1!A4', [['below']]);
    await client.spreadsheets.values.append({
      spreadsheetId,
      range: 'Sheet1!A1',
      valueInputOption: 'RAW',
      insertDataOption: 'INSERT_ROWS',
      requestBody: { values: [['two']] },
    });
    expect((await get('Sheet1!A1:A6')).values).toEqual([['head'], ['one'], ['two'], [], ['below']]);
  });

  it('clear empties values (keeping formats) and returns clearedRange', async () => {
    await put('Sheet1!A1:B2', [
      ['a', 'b'],
      ['c', 'd'],
    ]);
    const { data } = await client.spreadsheets.values.clear({ spreadsheetId, range: 'Sheet1!B1:B' });
    expect(data).toEqual({ spreadsheetId, clearedRange: 'Sheet1!B1:B1000' });
    expect((await get('Sheet1!A1:B2')).values).toEqual([['a'], ['c']]);
  });

  it('batchClear clears each range and returns clearedRanges', async () => {
    await put('Sheet1!A1:B2', [
      ['a', 'b'],
      ['c', 'd'],
    ]);
    const { data } = await client.spreadsheets.values.batchClear({
      spreadsheetId,
      requestBody: { ranges: ['Sheet1!A1', 'Sheet1!B2'] },
    });
    expect(data).toEqual({ spreadsheetId, clearedRanges: ['Sheet1!A1', 'Sheet1!B2'] });
    expect((await get('Sheet1!A1:B2')).values).toEqual([['', 'b'], ['c']]);
  });
});
