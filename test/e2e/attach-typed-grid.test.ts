/**
 * Issue 22's first "done when", in a real headless Chromium: after `attach` of a PostgreSQL
 * table with a boolean, an enum, a date and a numeric column, the local sheet's grid shows a
 * checkbox, a dropdown, the date and the number in its format; a value outside the enum typed
 * into the grid is refused by the sheet. Leaves test-artifacts/typed-columns.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { launchChromium } from '../support/chromium.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

describe('typed columns in the grid after attach', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let api: SheetsApi;
  let firestore: Firestore;
  let browser: Browser;
  let page: Page;
  const spreadsheetId = uniqueName('typedgrid');

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['Orders']));
    const versions = emulatorVersionStore();
    firestore = versions.firestore;
    await db.sql`create type public.order_status as enum ('new', 'paid', 'shipped')`;
    await db.sql`create table public.orders (
      id int generated always as identity primary key,
      customer text, paid boolean, status public.order_status, due date, amount numeric(10,2))`;
    await db.sql`insert into public.orders (customer, paid, status, due, amount) values
      ('Ada', true, 'paid', '2026-03-15', 1250), ('Grace', false, 'new', '2026-04-01', 99.5)`;
    const link = parseConfig({
      links: [{ name: 'orders', spreadsheetId, sheet: 'Orders', table: 'public.orders' }],
    }).links[0]!;
    await attachLink({ sql: db.sql, sheetsApi: api, store: versions.store, link });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 360 } });
    await page.goto(`${emulator.url}/spreadsheets/${spreadsheetId}`);
    await page.locator('#status.live').waitFor();
    await page.locator('[data-cell="B2"]', { hasText: 'Ada' }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await firestore?.terminate();
    await emulator?.close();
  });

  it('shows a checkbox, a dropdown, the date and the number in its format', async () => {
    // Columns: id, customer, paid, status, due, amount, _sheetsync_id (hidden).
    await expect(page.locator('[data-cell="C2"] input.cell-check').isChecked()).resolves.toBe(true);
    await expect(page.locator('[data-cell="C3"] input.cell-check').isChecked()).resolves.toBe(false);
    const status = page.locator('[data-cell="D2"] select.cell-list');
    await expect(status.inputValue()).resolves.toBe('paid');
    await expect(status.locator('option').allTextContents()).resolves.toEqual(['', 'new', 'paid', 'shipped']);
    await expect(page.locator('[data-cell="E2"]').textContent()).resolves.toBe('2026-03-15');
    await expect(page.locator('[data-cell="F2"]').textContent()).resolves.toBe('1250.00');
    await expect(page.locator('[data-cell="F3"]').textContent()).resolves.toBe('99.50');
  });

  it('refuses a value outside the enum typed into the grid', async () => {
    await page.locator('[data-cell="B3"]').click();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.type('lost');
    await page.keyboard.press('Enter');
    await page.locator('.toast', { hasText: 'Input must be an item on the specified list.' }).waitFor();
    await expect(page.locator('[data-cell="D3"] select.cell-list').inputValue()).resolves.toBe('new');
    const { data } = await api.client.spreadsheets.values.get({ spreadsheetId, range: 'Orders!D3' });
    expect(data.values).toEqual([['new']]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'typed-columns.png') });
  });
});
