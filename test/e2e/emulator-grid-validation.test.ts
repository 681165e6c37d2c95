/**
 * The browser grid draws data validation in a real headless Chromium: a BOOLEAN rule as a
 * checkbox ("Renders as a cell checkbox", ConditionType BOOLEAN), a ONE_OF_LIST rule with
 * showCustomUi as a dropdown ("If true, "List" conditions will show a dropdown",
 * DataValidationRule); clicking and choosing write through the user actions, and a value
 * outside a strict list typed into the grid is refused. A cell's note shows as a corner mark with
 * its text on hover, and userEnteredFormat.backgroundColor as its fill (CellData, CellFormat:
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/cells). Leaves a
 * screenshot in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { launchChromium } from '../support/chromium.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

let emulator: Emulator;
let client: sheets_v4.Sheets;
let browser: Browser;
let page: Page;
let spreadsheetId: string;

const read = async (range: string) =>
  (await client.spreadsheets.values.get({ spreadsheetId, range: `Sheet1!${range}` })).data.values ?? [];
const column = (c: number) => ({ sheetId: 0, startRowIndex: 1, startColumnIndex: c, endColumnIndex: c + 1 });

beforeAll(async () => {
  emulator = await createEmulator({ quotas: { enabled: false } });
  client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
  spreadsheetId = emulator.model.create({
    title: 'Tasks',
    sheets: [{ title: 'Sheet1', sheetId: 0, rowCount: 20, columnCount: 4 }],
  }).spreadsheetId;
  await client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Sheet1!A1',
    valueInputOption: 'USER_ENTERED',
    requestBody: {
      values: [
        ['task', 'done', 'status'],
        ['write tests', 'FALSE', 'open'],
        ['ship', 'TRUE', 'closed'],
      ],
    },
  });
  await client.spreadsheets.batchUpdate({
    spreadsheetId,
    requestBody: {
      requests: [
        { setDataValidation: { range: column(1), rule: { condition: { type: 'BOOLEAN' } } } },
        {
          setDataValidation: {
            range: column(2),
            rule: {
              condition: {
                type: 'ONE_OF_LIST',
                values: [{ userEnteredValue: 'open' }, { userEnteredValue: 'closed' }],
              },
              strict: true,
              showCustomUi: true,
            },
          },
        },
      ],
    },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1000, height: 480 } });
  await page.goto(`${emulator.url}/spreadsheets/${spreadsheetId}`);
  await page.locator('#status.live').waitFor();
  await page.locator('[data-cell="A2"]', { hasText: 'write tests' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});

it('a BOOLEAN rule is a checkbox; clicking it writes TRUE through the user actions', async () => {
  const unchecked = page.locator('[data-cell="B2"] input.cell-check');
  await expect(unchecked.isChecked()).resolves.toBe(false);
  await expect(page.locator('[data-cell="B3"] input.cell-check').isChecked()).resolves.toBe(true);
  // An empty cell under the rule is an unchecked box too.
  await expect(page.locator('[data-cell="B4"] input.cell-check').isChecked()).resolves.toBe(false);
  await unchecked.click();
  await expect.poll(() => read('B2')).toEqual([['TRUE']]);
  const cell = (
    await client.spreadsheets.get({
      spreadsheetId,
      ranges: ['Sheet1!B2'],
      includeGridData: true,
      fields: 'sheets.data.rowData.values.userEnteredValue',
    })
  ).data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.[0];
  expect(cell?.userEnteredValue).toEqual({ boolValue: true });
});

it('a ONE_OF_LIST rule is a dropdown; picking an item writes it', async () => {
  const dropdown = page.locator('[data-cell="C2"] select.cell-list');
  await expect(dropdown.inputValue()).resolves.toBe('open');
  await expect(dropdown.locator('option').allTextContents()).resolves.toEqual(['', 'open', 'closed']);
  await dropdown.selectOption('closed');
  await expect.poll(() => read('C2')).toEqual([['closed']]);
});

it('a note and a background colour written by the API show on the cell, and go when cleared', async () => {
  const mark = (note: string | undefined, backgroundColor: sheets_v4.Schema$Color | undefined) =>
    client.spreadsheets.batchUpdate({
      spreadsheetId,
      requestBody: {
        requests: [
          {
            updateCells: {
              start: { sheetId: 0, rowIndex: 2, columnIndex: 0 },
              rows: [{ values: [{ note, userEnteredFormat: { backgroundColor } }] }],
              fields: 'note,userEnteredFormat.backgroundColor',
            },
          },
        ],
      },
    });
  await mark('not synced: "lots" is not a whole number', { red: 1, green: 0.9, blue: 0.6 });
  const cell = page.locator('[data-cell="A3"].has-note');
  await cell.waitFor({ timeout: 5000 });
  await expect(cell.getAttribute('title')).resolves.toBe('not synced: "lots" is not a whole number');
  await expect(cell.evaluate((el) => getComputedStyle(el).backgroundColor)).resolves.toBe(
    'rgb(255, 230, 153)',
  );
  await expect(cell.textContent()).resolves.toBe('ship');
  await mark(undefined, undefined);
  await page.locator('[data-cell="A3"].has-note').waitFor({ state: 'detached', timeout: 5000 });
  expect(await read('A3')).toEqual([['ship']]);
});

it('typing a value outside the strict list is refused: the sheet keeps the value and says why', async () => {
  await page.locator('[data-cell="A3"]').click();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.type('maybe');
  await page.keyboard.press('Enter');
  await page.locator('.toast', { hasText: 'Input must be an item on the specified list.' }).waitFor();
  await expect(page.locator('[data-cell="C3"] select.cell-list').inputValue()).resolves.toBe('closed');
  expect(await read('C3')).toEqual([['closed']]);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'emulator-grid-validation.png') });
});
