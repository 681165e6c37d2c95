/**
 * The emulator's browser grid in a real headless Chromium (Debian's, driven by playwright-core):
 * what a person types reaches the Sheets API and the Apps Script's onEdit; what the API writes
 * shows in the open page without a reload. Leaves a screenshot in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeA1 } from '../../emulator/src/model/operations.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { launchChromium } from '../support/chromium.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const SCRIPT_DIR = join(import.meta.dirname, '../../apps-script/test-fixtures');

let emulator: Emulator;
let client: sheets_v4.Sheets;
let browser: Browser;
let page: Page;
let webhook: Server;
let spreadsheetId: string;
const reports: Array<Record<string, unknown>> = [];

async function admin(path: string, body: unknown) {
  const response = await fetch(`${emulator.url}/_emulator/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

const readCells = async (range: string) =>
  (await client.spreadsheets.values.get({ spreadsheetId, range: `Sheet1!${range}` })).data.values ?? [];

beforeAll(async () => {
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      reports.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;
  emulator = await createEmulator({ quotas: { enabled: false }, appsScript: { scriptDir: SCRIPT_DIR } });
  client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
  spreadsheetId = (await admin('/spreadsheets', { title: 'Customers' })).spreadsheetId as string;
  await admin(`/spreadsheets/${spreadsheetId}/script:run`, {
    function: 'configure',
    args: [webhookUrl, 'secret'],
  });
  await admin(`/spreadsheets/${spreadsheetId}/script:run`, { function: 'installTriggers' });
  await client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Sheet1!A1',
    valueInputOption: 'USER_ENTERED',
    requestBody: {
      values: [
        ['_sheetsync_id', 'id', 'name', 'email', 'plan', 'seats', 'renews'],
        ['6f1c0c1e-1', '1', 'Ada Lovelace', 'ada@example.com', 'pro', '12', '2026-01-31'],
        ['9b2e4f7a-2', '2', 'Grace Hopper', 'grace@example.com', 'team', '40', '2026-03-15'],
        ['1d7c8e90-3', '3', 'Alan Turing', 'alan@example.com', 'free', '1', '2026-07-04'],
      ],
    },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
  await page.goto(`${emulator.url}/spreadsheets/${spreadsheetId}`);
  await page.locator('#status.live').waitFor();
  await page.locator('[data-cell="C2"]', { hasText: 'Ada Lovelace' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await new Promise((resolve) => webhook.close(resolve));
});

it('typing into a cell writes it through the user actions, readable by the API, and runs onEdit', async () => {
  reports.length = 0;
  await page.locator('[data-cell="C5"]').click();
  await page.keyboard.type('Katherine Johnson');
  await page.keyboard.press('Tab');
  await page.keyboard.type('kj@example.com');
  await page.keyboard.press('Enter');
  await expect.poll(() => readCells('C5:D5')).toEqual([['Katherine Johnson', 'kj@example.com']]);
  await expect
    .poll(() => reports.filter((r) => r.kind === 'edit').map((r) => [r.range, r.value, 'oldValue' in r]))
    .toEqual([
      ['C5', 'Katherine Johnson', false],
      ['D5', 'kj@example.com', false],
    ]);
});

it('a pasted block lands at the selected cell and fires one onEdit without value', async () => {
  reports.length = 0;
  await page.locator('[data-cell="E5"]').click();
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData('text/plain', 'pro\t7\r\nteam\t3\r\n');
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  });
  await expect
    .poll(() => readCells('E5:F6'))
    .toEqual([
      ['pro', '7'],
      ['team', '3'],
    ]);
  await expect
    .poll(() => reports.filter((r) => r.kind === 'edit').map((r) => [r.range, 'value' in r]))
    .toEqual([['E5:F6', false]]);
});

it('an API write shows in the open page without a reload', async () => {
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => navigations.push(frame.url()));
  await client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Sheet1!C3',
    valueInputOption: 'RAW',
    requestBody: { values: [['Rear Admiral Grace Hopper']] },
  });
  await page.locator('[data-cell="C3"]', { hasText: 'Rear Admiral Grace Hopper' }).waitFor({ timeout: 5000 });
  expect(navigations).toEqual([]);
});

it('toolbar row actions go through the user actions and fire onChange', async () => {
  reports.length = 0;
  await page.locator('[data-cell="B4"]').click();
  await page.getByRole('button', { name: 'Insert row above' }).click();
  await expect.poll(() => reports.map((r) => r.changeType)).toEqual(['INSERT_ROW']);
  await expect.poll(() => readCells('C4:C5')).toEqual([[], ['Alan Turing']]);
  await page.getByRole('button', { name: 'Delete row' }).click();
  await expect.poll(() => readCells('C4')).toEqual([['Alan Turing']]);
});

it('hidden columns are not shown, and the screenshot is kept', async () => {
  await client.spreadsheets.batchUpdate({
    spreadsheetId,
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
  await page.locator('[data-cell="A1"]').waitFor({ state: 'detached', timeout: 5000 });
  await expect(page.locator('.col-head').first().textContent()).resolves.toBe('B');
  await page.locator('[data-cell="C3"]').click();
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'emulator-grid.png') });
});

it('the context menu moves a column through the user actions; onChange OTHER and onEdit for the column fire', async () => {
  reports.length = 0;
  await page.locator('.col-head', { hasText: /^E$/ }).click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Move column right' }).click();
  await expect.poll(() => readCells('E1:F1')).toEqual([['seats', 'plan']]);
  await expect
    .poll(() => reports.map((r) => (r.kind === 'edit' ? `edit ${r.range}` : `change ${r.changeType}`)).sort())
    .toEqual(['change OTHER', expect.stringMatching(/^edit F1:F\d+$/)]);
  // The selection moved with the column: moving it left puts it back.
  await page.locator('.col-head', { hasText: /^F$/ }).click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Move column left' }).click();
  await expect.poll(() => readCells('E1:F1')).toEqual([['plan', 'seats']]);
  // The cells move before the triggers run: wait for them, so none reports into the next test.
  await expect.poll(() => reports.length).toBe(4);
});

it('whole rows copied and pasted from the menu carry the hidden id column; one onEdit for the pasted rows', async () => {
  const copied = await readCells('A2:G3');
  reports.length = 0;
  await page.locator('.row-head', { hasText: /^2$/ }).click();
  await page.locator('.row-head', { hasText: /^3$/ }).click({ modifiers: ['Shift'] });
  await page.locator('[data-cell="C2"]').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Copy' }).click();
  await page.locator('.row-head', { hasText: /^10$/ }).click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Paste' }).click();
  await expect.poll(() => readCells('A10:G11')).toEqual(copied);
  await expect
    .poll(() => reports.map((r) => (r.kind === 'edit' ? [r.range, 'value' in r] : r.changeType)))
    .toEqual(expect.arrayContaining([['A10:Z11', false], 'EDIT']));
  expect(reports).toHaveLength(2);
});

it('Delete over a selection clears it with one clear action and one onEdit for the block', async () => {
  reports.length = 0;
  await page.locator('[data-cell="C10"]').click();
  await page.locator('[data-cell="D11"]').click({ modifiers: ['Shift'] });
  await page.keyboard.press('Delete');
  await expect.poll(() => readCells('C10:D11')).toEqual([]);
  expect((await readCells('B10:B11')).flat()).toEqual(['1', '2']);
  await expect
    .poll(() => reports.map((r) => (r.kind === 'edit' ? r.range : r.changeType)).sort())
    .toEqual(['C10:D11', 'EDIT']);
});

it('a sheet of 50,000 rows renders only the rows on screen and scrolls to its end', async () => {
  const big = emulator.model.create({
    title: 'Big',
    sheets: [{ title: 'Sheet1', sheetId: 0, rowCount: 50_000, columnCount: 4 }],
  });
  const values = Array.from({ length: 50_000 }, (_, i) => [`row ${i + 1}`, String(i)]);
  // Filled through the model: this test is about the page, not about a 50k-row API write.
  emulator.model.mutate(big.spreadsheetId, 'api', (spreadsheet, emit) =>
    writeA1(spreadsheet, emit, 'Sheet1!A1', values, { valueInputOption: 'RAW' }),
  );
  const bigPage = await browser.newPage({ viewport: { width: 1280, height: 640 } });
  try {
    await bigPage.goto(`${emulator.url}/spreadsheets/${big.spreadsheetId}`);
    await bigPage.locator('[data-cell="A1"]', { hasText: 'row 1' }).waitFor();
    expect(await bigPage.locator('.row').count()).toBeLessThan(60);
    await bigPage.evaluate(() => {
      const grid = document.getElementById('grid')!;
      grid.scrollTop = grid.scrollHeight;
    });
    await bigPage.locator('[data-cell="A50000"]', { hasText: 'row 50000' }).waitFor({ timeout: 30_000 });
    expect(await bigPage.locator('.row').count()).toBeLessThan(60);
  } finally {
    await bigPage.close();
  }
});

it('double-clicking a tab renames it (renameSheet, onChange OTHER)', async () => {
  reports.length = 0;
  page.once('dialog', (dialog) => void dialog.accept('Customers 2024'));
  await page.locator('.tab', { hasText: 'Sheet1' }).dblclick();
  await page.locator('.tab', { hasText: 'Customers 2024' }).waitFor({ timeout: 5000 });
  const { data } = await client.spreadsheets.get({ spreadsheetId, fields: 'sheets(properties(title))' });
  expect(data.sheets?.map((sheet) => sheet.properties?.title)).toEqual(['Customers 2024']);
  await expect.poll(() => reports.map((r) => r.changeType)).toEqual(['OTHER']);
});
