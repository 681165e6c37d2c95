/**
 * The mass-change guard in reconcile runs (issue 17), against PostgreSQL and the local sheet
 * through @googleapis/sheets: a side that lost more rows than the link's thresholds allow does
 * not take the other side with it; a person approves (the rows are deleted) or discards (they
 * come back); and rows that lost their ids are matched by key instead of deleted and re-inserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { decideHeld } from '../../functions/src/sync-jobs/held-decisions.ts';
import { driftFound, reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import { startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

const TABS = ['Approve', 'Discard', 'TableLost', 'IdsCleared'] as const;

describe('reconcile: mass deletes are held for a person', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('held');
  let emulator: Emulator;
  let api: SheetsApi;

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, TABS));
    for (const tab of TABS) {
      await db.sql.unsafe(`create table public.${tab.toLowerCase()} (id bigint primary key, name text)`);
      await db.sql.unsafe(
        `insert into public.${tab.toLowerCase()} select i, 'name ' || i from generate_series(1, 40) i`,
      );
    }
  });
  afterAll(() => emulator?.close());

  async function attached(tab: (typeof TABS)[number]) {
    const link = parseConfig({
      links: [{ name: tab.toLowerCase(), spreadsheetId, sheet: tab, table: `public.${tab.toLowerCase()}` }],
    }).links[0]!;
    const store = new MemoryVersionStore();
    const deps = { sql: db.sql, sheetsApi: api, store, link };
    await attachLink(deps);
    const sheetId = TABS.indexOf(tab);
    const rows = () => tabValues(emulator, spreadsheetId, `${tab}!A2:C60`).filter((r) => r.length > 0);
    const tableIds = async () =>
      (await db.sql.unsafe(`select id::int from public.${tab.toLowerCase()} order by id`)).map((r) => r.id);
    const deleteSheetRows = (startIndex: number, endIndex: number) =>
      api.client.spreadsheets.batchUpdate({
        spreadsheetId,
        requestBody: {
          requests: [{ deleteDimension: { range: { sheetId, dimension: 'ROWS', startIndex, endIndex } } }],
        },
      });
    return { deps, store, link, rows, tableIds, deleteSheetRows };
  }

  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('holds 30 of 40 rows the sheet lost; approve deletes them from the table', async () => {
    const { deps, store, tableIds, deleteSheetRows } = await attached('Approve');
    await deleteSheetRows(11, 41); // rows 11-40 of the table leave the sheet
    const result = await reconcileLink({ ...deps, dryRun: false });
    expect(result).toMatchObject({ rowsDeletedFromDb: 0, rowsDeletedFromSheet: 0 });
    expect(result.held).toEqual([expect.objectContaining({ side: 'db', count: 30, total: 40 })]);
    expect(await tableIds()).toEqual(range(1, 40));
    // Another run leaves the held rows alone: not deleted, not held again.
    const again = await reconcileLink({ ...deps, dryRun: false });
    expect(again.held).toEqual([]);
    expect(again.rowsDeletedFromDb).toBe(0);
    expect(await store.heldChanges('approve')).toHaveLength(1);

    const decided = await decideHeld({ ...deps, id: result.held[0]!.id, decision: 'approve' });
    expect(decided.change.status).toBe('approved');
    expect(decided.reconcile.rowsDeletedFromDb).toBe(30);
    expect(await tableIds()).toEqual(range(1, 10));
    expect(await store.heldChanges('approve')).toEqual([]);
    await expect(decideHeld({ ...deps, id: result.held[0]!.id, decision: 'discard' })).rejects.toMatchObject({
      code: 'SHEETSYNC_E421',
    });
  });

  it('discard puts the rows the sheet lost back on it, with their ids', async () => {
    const { deps, rows, tableIds, deleteSheetRows } = await attached('Discard');
    const before = rows();
    await deleteSheetRows(1, 31); // rows 1-30 leave the sheet
    const { held } = await reconcileLink({ ...deps, dryRun: false });
    expect(held).toHaveLength(1);
    const decided = await decideHeld({ ...deps, id: held[0]!.id, decision: 'discard' });
    expect(decided.change.status).toBe('discarded');
    expect(await tableIds()).toEqual(range(1, 40));
    const sorted = (values: unknown[][]) => [...values].sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(sorted(rows())).toEqual(sorted(before));
    expect(driftFound(await reconcileLink({ ...deps, dryRun: true }))).toBe(false);
  });

  it('holds 30 of 40 rows the table lost; discard puts them back in the table from the sheet', async () => {
    const { deps, rows, tableIds } = await attached('TableLost');
    await db.sql`delete from public.tablelost where id > 10`;
    const { held, rowsDeletedFromSheet } = await reconcileLink({ ...deps, dryRun: false });
    expect(rowsDeletedFromSheet).toBe(0);
    expect(held).toEqual([expect.objectContaining({ side: 'sheet', count: 30 })]);
    expect(rows()).toHaveLength(40);
    await decideHeld({ ...deps, id: held[0]!.id, decision: 'discard' });
    expect(await tableIds()).toEqual(range(1, 40));
    expect(await db.sql`select name from public.tablelost where id = 33`).toEqual([{ name: 'name 33' }]);
  });

  it('matches rows whose ids were cleared by their key: nothing deleted, nothing inserted', async () => {
    const { deps, rows, tableIds } = await attached('IdsCleared');
    const before = rows();
    await api.client.spreadsheets.values.clear({ spreadsheetId, range: 'IdsCleared!C2:C41' });
    expect(rows().every((r) => r[2] === undefined || r[2] === '')).toBe(true);
    const result = await reconcileLink({ ...deps, dryRun: false });
    expect(result).toMatchObject({ rowsDeletedFromDb: 0, rowsInsertedInDb: 0, held: [] });
    expect(rows()).toEqual(before);
    expect(await tableIds()).toEqual(range(1, 40));
  });
});
