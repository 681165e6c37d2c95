/**
 * attach and reconcile write to the sheet behind applyToSheet's kept snapshot of the tab
 * (SheetTab, changeToken): every run that may have written bumps the link's sheet epoch, so
 * applyToSheet reads the tab again; a dry run writes nothing and bumps nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../cli/src/sync-run.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('attach and reconcile tell applyToSheet the sheet changed', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('epoch');
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'People', sheetId: 0 }] }, 'api');
    await db.sql`create table public.people (id bigint primary key, name text)`;
    await db.sql`insert into public.people values (1, 'Ada'), (2, 'Grace')`;
  });
  afterAll(() => emulator?.close());

  it('bumps the sheet epoch after attach and reconcile, not after a dry run', async () => {
    const store = new MemoryVersionStore();
    const services = {
      sql: db.sql,
      sheetsApi: new SheetsApi({ rootUrl: emulator.url, logger: silentLogger }),
      store,
      config: parseConfig({
        links: [{ name: 'people', spreadsheetId, sheet: 'People', table: 'public.people' }],
      }),
      source: 'test',
    };
    await runSync(services, 'attach', 'people', { dryRun: false });
    expect(tabValues(emulator, spreadsheetId, 'People!A2:B')).toEqual([
      [1, 'Ada'],
      [2, 'Grace'],
    ]);
    expect((await store.sheetEpochs('people')).rows).toBe(1);
    await runSync(services, 'reconcile', 'people', { dryRun: true });
    expect((await store.sheetEpochs('people')).rows).toBe(1);
    await runSync(services, 'reconcile', 'people', { dryRun: false });
    expect((await store.sheetEpochs('people')).rows).toBe(2);
  });
});
