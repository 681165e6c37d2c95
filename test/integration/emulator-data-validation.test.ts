/**
 * Contract tests for data validation and number formats through @googleapis/sheets:
 * - SetDataValidationRequest (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#SetDataValidationRequest):
 *   "Sets a data validation rule to every cell in the range. To clear validation in a range,
 *   call this with no rule specified."
 * - ConditionType (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#ConditionType):
 *   BOOLEAN "Renders as a cell checkbox. Supports zero, one or two ConditionValues"; ONE_OF_LIST
 *   "The cell's value must be in the list of condition values"; DATE_IS_VALID "The cell's value
 *   must be a date ... Requires no ConditionValues".
 * - DataValidationRule.strict: "True if invalid data should be rejected." The rule is a cell's
 *   (CellData.dataValidation), returned by spreadsheets.get with grid data.
 * - RepeatCellRequest (…/request#RepeatCellRequest): "Only the fields listed in the fields field
 *   are updated; others are unchanged."
 * - Rejection applies to what a person enters (Sheets Help, "Create an in-cell dropdown list":
 *   "If the data is invalid: Show a warning / Reject the input"); values the API writes are not
 *   validated: DataValidationRule documents no effect on values.update, and public reports agree
 *   that API and script writes store invalid values (see emulator/README.md).
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
    title: 'typed',
    sheets: [{ title: 'Sheet1', sheetId: 0, rowCount: 6, columnCount: 4 }],
  }).spreadsheetId;
});

const column = (c: number) => ({
  sheetId: 0,
  startRowIndex: 1,
  startColumnIndex: c,
  endColumnIndex: c + 1,
});
const batch = async (requests: sheets_v4.Schema$Request[]) =>
  (await client.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } })).data;
const cellData = async (range: string, fields = 'sheets.data.rowData.values') =>
  (
    await client.spreadsheets.get({ spreadsheetId, ranges: [range], includeGridData: true, fields })
  ).data.sheets?.[0]?.data?.[0]?.rowData?.map((row) => row.values ?? []) ?? [];
const read = async (range: string) =>
  (await client.spreadsheets.values.get({ spreadsheetId, range })).data.values ?? [];
async function userEdit(range: string, value: unknown) {
  return fetch(`${emulator.url}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actions: [{ type: 'edit', range, values: [[value]] }] }),
  });
}
async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; response: { data: { error: { message: string } } } };
    return { status: e.status, message: e.response.data.error.message };
  }
  throw new Error('expected the request to fail');
}

const plans = {
  condition: { type: 'ONE_OF_LIST', values: [{ userEnteredValue: 'free' }, { userEnteredValue: 'pro' }] },
  strict: true,
  showCustomUi: true,
};

describe('setDataValidation', () => {
  it('sets the rule on every cell of the range; spreadsheets.get returns it per cell', async () => {
    await batch([
      { setDataValidation: { range: column(0), rule: { condition: { type: 'BOOLEAN' } } } },
      { setDataValidation: { range: column(1), rule: plans } },
      {
        setDataValidation: { range: column(2), rule: { condition: { type: 'DATE_IS_VALID' }, strict: true } },
      },
    ]);
    const rows = await cellData('Sheet1!A1:C6', 'sheets.data.rowData.values.dataValidation');
    // The header row (index 0) is outside the ranges; rows 2..6 carry the rules.
    expect(rows[0]).toEqual([]);
    expect(rows.slice(1)).toHaveLength(5);
    for (const row of rows.slice(1)) {
      expect(row.map((cell) => cell.dataValidation)).toEqual([
        { condition: { type: 'BOOLEAN' } },
        plans,
        { condition: { type: 'DATE_IS_VALID' }, strict: true },
      ]);
    }
  });

  it('clears the rule when none is given, keeping values', async () => {
    await batch([{ setDataValidation: { range: column(1), rule: plans } }]);
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!B2',
      valueInputOption: 'RAW',
      requestBody: { values: [['pro']] },
    });
    await batch([{ setDataValidation: { range: column(1) } }]);
    const rows = await cellData('Sheet1!B2:B3');
    expect(rows[0]?.[0]?.dataValidation).toBeUndefined();
    expect(rows[0]?.[0]?.userEnteredValue).toEqual({ stringValue: 'pro' });
    expect(rows[1]).toBeUndefined();
  });

  it('refuses malformed rules, applying nothing of the batch', async () => {
    const noValues = await failure(
      batch([
        { setDataValidation: { range: column(0), rule: { condition: { type: 'BOOLEAN' } } } },
        { setDataValidation: { range: column(1), rule: { condition: { type: 'ONE_OF_LIST' } } } },
      ]),
    );
    expect(noValues.status).toBe(400);
    expect(noValues.message).toMatch(/^Invalid requests\[1\]\.setDataValidation: ONE_OF_LIST/);
    const dateWithValue = await failure(
      batch([
        {
          setDataValidation: {
            range: column(2),
            rule: { condition: { type: 'DATE_IS_VALID', values: [{ userEnteredValue: 'x' }] } },
          },
        },
      ]),
    );
    expect(dateWithValue.message).toContain('DATE_IS_VALID requires no condition values');
    expect(await cellData('Sheet1!A2:A2', 'sheets.data.rowData.values.dataValidation')).toEqual([]);
  });
});

describe('strict rules: a person is refused, the API is not', () => {
  beforeEach(async () => {
    await batch([
      { setDataValidation: { range: column(0), rule: { condition: { type: 'BOOLEAN' }, strict: true } } },
      { setDataValidation: { range: column(1), rule: plans } },
      {
        setDataValidation: { range: column(2), rule: { condition: { type: 'DATE_IS_VALID' }, strict: true } },
      },
    ]);
  });

  it('typing a value outside a strict ONE_OF_LIST is refused and the cell keeps its value', async () => {
    expect((await userEdit('Sheet1!B2', 'pro')).status).toBe(200);
    const refused = await userEdit('Sheet1!B2', 'enterprise');
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { message: string; status: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toBe(
      'Invalid actions[0] (edit): There was a problem with Sheet1!B2: Input must be an item on the specified list.',
    );
    expect(await read('Sheet1!B2')).toEqual([['pro']]);
  });

  it('a checkbox takes TRUE/FALSE, a date column a date; other entries are refused', async () => {
    expect((await userEdit('Sheet1!A2', true)).status).toBe(200);
    expect((await userEdit('Sheet1!A3', 'false')).status).toBe(200);
    expect((await userEdit('Sheet1!A4', 'yes')).status).toBe(400);
    expect((await userEdit('Sheet1!C2', '2026-03-15')).status).toBe(200);
    expect((await userEdit('Sheet1!C3', 'soon')).status).toBe(400);
    // An empty entry clears the cell whatever the rule: blank cells pass validation.
    expect((await userEdit('Sheet1!B3', '')).status).toBe(200);
    expect(await read('Sheet1!A2:C4')).toEqual([['TRUE', '', '2026-03-15'], ['FALSE']]);
  });

  it('values.update stores an invalid value, and the cell keeps its rule', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!A2',
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['maybe', 'enterprise', 'soon']] },
    });
    expect(await read('Sheet1!A2:C2')).toEqual([['maybe', 'enterprise', 'soon']]);
    const [row] = await cellData('Sheet1!A2:C2', 'sheets.data.rowData.values.dataValidation');
    expect(row?.map((cell) => cell.dataValidation?.condition?.type)).toEqual([
      'BOOLEAN',
      'ONE_OF_LIST',
      'DATE_IS_VALID',
    ]);
    await client.spreadsheets.values.clear({ spreadsheetId, range: 'Sheet1!A2:C2' });
    const [cleared] = await cellData('Sheet1!A2:C2');
    expect(cleared?.map((cell) => [cell.userEnteredValue, cell.dataValidation?.condition?.type])).toEqual([
      [undefined, 'BOOLEAN'],
      [undefined, 'ONE_OF_LIST'],
      [undefined, 'DATE_IS_VALID'],
    ]);
  });

  it('cells with only a rule are not data: values.append writes after the last value', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [['done', 'plan', 'due']] },
    });
    const { data } = await client.spreadsheets.values.append({
      spreadsheetId,
      range: 'Sheet1!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [[true, 'free', '']] },
    });
    expect(data.updates?.updatedRange).toBe('Sheet1!A2:C2');
  });
});

describe('repeatCell and updateCells', () => {
  it('repeatCell with userEnteredFormat.numberFormat changes the number format only', async () => {
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!D2',
      valueInputOption: 'RAW',
      requestBody: { values: [[1234.5], [7]] },
    });
    await batch([
      {
        repeatCell: {
          range: column(3),
          cell: { userEnteredFormat: { textFormat: { bold: true } } },
          fields: 'userEnteredFormat',
        },
      },
      {
        repeatCell: {
          range: column(3),
          cell: { userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '#,##0.00' } } },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
    ]);
    expect(await read('Sheet1!D2:D3')).toEqual([['1,234.50'], ['7.00']]);
    const rows = await cellData('Sheet1!D2:D6', 'sheets.data.rowData.values.userEnteredFormat');
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row[0]?.userEnteredFormat).toEqual({
        textFormat: { bold: true },
        numberFormat: { type: 'NUMBER', pattern: '#,##0.00' },
      });
    }
    // A value written later is shown in the column's format.
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!D5',
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['99']] },
    });
    expect(await read('Sheet1!D5')).toEqual([['99.00']]);
  });

  it('a date format set by repeatCell renders a typed date', async () => {
    await batch([
      {
        repeatCell: {
          range: column(2),
          cell: { userEnteredFormat: { numberFormat: { type: 'DATE', pattern: 'yyyy-mm-dd' } } },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
    ]);
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Sheet1!C2',
      valueInputOption: 'RAW',
      requestBody: { values: [[46096]] },
    });
    expect(await read('Sheet1!C2')).toEqual([['2026-03-15']]);
  });

  it('updateCells writes dataValidation under its field mask', async () => {
    await batch([
      {
        updateCells: {
          start: { sheetId: 0, rowIndex: 1, columnIndex: 0 },
          rows: [
            {
              values: [
                { userEnteredValue: { boolValue: true }, dataValidation: { condition: { type: 'BOOLEAN' } } },
                { userEnteredValue: { stringValue: 'free' }, dataValidation: plans },
              ],
            },
          ],
          fields: 'userEnteredValue,dataValidation',
        },
      },
    ]);
    const [row] = await cellData('Sheet1!A2:B2');
    expect(row?.map((cell) => [cell.formattedValue, cell.dataValidation])).toEqual([
      ['TRUE', { condition: { type: 'BOOLEAN' } }],
      ['free', plans],
    ]);
    // A mask without dataValidation leaves the rules alone.
    await batch([
      {
        updateCells: {
          start: { sheetId: 0, rowIndex: 1, columnIndex: 1 },
          rows: [{ values: [{ userEnteredValue: { stringValue: 'pro' } }] }],
          fields: 'userEnteredValue',
        },
      },
    ]);
    const [after] = await cellData('Sheet1!B2');
    expect(after?.[0]?.dataValidation).toEqual(plans);
  });
});
