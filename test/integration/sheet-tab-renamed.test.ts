/**
 * A renamed tab (issue 19): a link follows its tab by sheetId, recorded in the version store at
 * the first sync; the config's title (`links[].sheet`) finds the tab only then. After a person
 * renames the tab (the local sheet's `renameSheet` user action, which fires onChange `OTHER` as
 * Google does: https://developers.google.com/apps-script/guides/triggers/events), edits keep
 * flowing both ways under the stale config, and the mismatch is logged once (SHEETSYNC_E417).
 * Through the real apps-script/, the webhook, Google's Pub/Sub and Firestore emulators,
 * applyToDb, applyToSheet and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { createLogger } from '../../functions/src/log.ts';
import { reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('a renamed tab', () => {
  const db = useTestDatabase();
  const lines: Array<{ message: string; code?: string }> = [];
  const logger = createLogger({
    level: 'INFO',
    write: (line) => {
      lines.push(JSON.parse(line) as { message: string; code?: string });
    },
  });

  const h = useSyncHarness(db, {
    table: 'public.people',
    headers: ['id', 'name'],
    createTable: (sql) => sql`create table public.people (id int primary key, name text)`,
    logger,
  });
  const renamed = 'People 2026';
  const names = (title?: string) =>
    Object.fromEntries(
      (h.tabValues(title).slice(1) as unknown[][]).filter((r) => r[0] !== '').map((r) => [r[0], r[1]]),
    );
  const table = async () =>
    Object.fromEntries(
      (await h.sql`select id, name from public.people order by id`).map((r) => [r.id, r.name]),
    );
  const e417 = () => lines.filter((l) => l.code === 'SHEETSYNC_E417');

  it('syncs under the configured title, and records the tab', async () => {
    await h.sql`insert into public.people values (1, 'Ada'), (2, 'Ben')`;
    await waitFor('two rows on the sheet', async () => Object.keys(names()).length === 2);
    await h.act([{ type: 'edit', range: `${h.tab}!B2`, values: [['Ada L.']] }]);
    await waitFor('the edit in the table', async () => (await table())[1] === 'Ada L.');
    expect(await h.store.linkedTab(h.link)).toEqual({
      spreadsheetId: h.spreadsheetId,
      sheetId: 0,
      title: h.tab,
    });
  });

  it('renamed: sheet edits and table changes keep flowing, nothing is lost, the stale config is logged once', async () => {
    const results = await h.act([{ type: 'renameSheet', sheet: h.tab, title: renamed }]);
    expect(results[0]!.triggers.map((t) => t.functionName)).toContain('handleChange');
    // Sheet → table, twice (the second is not logged again).
    await h.act([{ type: 'edit', range: `'${renamed}'!B3`, values: [['Benjamin']] }]);
    await waitFor('the renamed tab’s edit in the table', async () => (await table())[2] === 'Benjamin');
    await h.act([{ type: 'edit', range: `'${renamed}'!A4:B4`, values: [[3, 'Cy']] }]);
    await waitFor('the new row in the table', async () => (await table())[3] === 'Cy');
    // Table → sheet: an update and an insert land in the renamed tab.
    await h.sql`update public.people set name = 'Ada Lovelace' where id = 1`;
    await h.sql`insert into public.people values (4, 'Di')`;
    await waitFor('both on the renamed tab', async () => {
      const sheet = names(renamed);
      return sheet[1] === 'Ada Lovelace' && sheet[4] === 'Di';
    });
    expect(names(renamed)).toEqual(await table());
    expect(await table()).toEqual({ 1: 'Ada Lovelace', 2: 'Benjamin', 3: 'Cy', 4: 'Di' });
    // Logged once by the webhook and once by applyToSheet, naming both titles.
    const webhookLines = e417().filter((l) => l.message.includes(`to "${renamed}"`));
    expect(webhookLines.length).toBeGreaterThanOrEqual(1);
    expect(webhookLines.length).toBeLessThanOrEqual(2);
    expect(webhookLines[0]!.message).toContain(`from "${h.tab}"`);
    expect(webhookLines[0]!.message).toContain('links[].sheet');
    expect((await h.store.linkedTab(h.link))?.sheetId).toBe(0);
  });

  it('renamed: reconcile finds the tab by its recorded sheetId and repairs drift', async () => {
    // Drift: a table change capture did not see (its triggers off), so the sheet still shows Di.
    await h.sql.begin(async (tx) => {
      await tx`alter table public.people disable trigger user`;
      await tx`update public.people set name = 'Diana' where id = 4`;
      await tx`alter table public.people enable trigger user`;
    });
    expect(names(renamed)[4]).toBe('Di');
    // The config still names the old title, which no tab has now (E504 before issue 19).
    const link = parseConfig({
      links: [{ name: h.link, spreadsheetId: h.spreadsheetId, sheet: h.tab, table: 'public.people' }],
    }).links[0]!;
    const sheetsApi = new SheetsApi({
      rootUrl: h.emulator.url,
      logger,
      writesPerMinute: 600,
      readsPerMinute: 600,
    });
    const before = e417().length;
    const result = await reconcileLink({
      sql: h.sql,
      sheetsApi,
      store: h.store,
      link,
      logger,
      dryRun: false,
    });
    expect(result.cellsToSheet).toBe(1);
    expect(names(renamed)).toEqual(await table());
    expect(names(renamed)[4]).toBe('Diana');
    // The stale title is logged with the hint to update the config.
    const logged = e417().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toContain(`Set links[].sheet to "${renamed}"`);
  });
});
