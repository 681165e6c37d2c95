/**
 * The tab attach, reconcile and restore work on: found by the sheetId the link recorded at its
 * first sync (issue 19; sheet-webhook/linked-tabs.ts), so a renamed tab is still the link's tab.
 * The config's title finds the tab only until a sheetId is recorded, and attach and reconcile
 * record it then (as the webhook and applyToSheet do). A config title that no longer names the
 * tab is logged (SHEETSYNC_E417) with the hint to update the config; nothing else changes.
 */
import type { LinkedTab } from '../ports.ts';
import type { SyncDeps } from './link-sync-deps.ts';
import { SheetGrid } from './sheet-grid.ts';

export async function linkedGrid(deps: SyncDeps): Promise<SheetGrid> {
  const { link, store, sheetsApi } = deps;
  const configured = new SheetGrid(sheetsApi, link.spreadsheetId, link.sheet);
  if (!store.linkedTab || !store.recordLinkedTab) return configured;
  const stored = await store.linkedTab(link.name);
  // A record of another spreadsheet (the link was pointed elsewhere) is no record.
  const recorded = stored?.spreadsheetId === link.spreadsheetId ? stored : undefined;
  const meta = await sheetsApi.call('read', 'spreadsheets.get', () =>
    sheetsApi.client.spreadsheets.get({
      spreadsheetId: link.spreadsheetId,
      fields: 'sheets.properties(sheetId,title)',
    }),
  );
  const tabs = (meta.sheets ?? []).map((s) => s.properties ?? {});
  const found = recorded
    ? tabs.find((p) => p.sheetId === recorded.sheetId)
    : tabs.find((p) => p.title === link.sheet);
  // No such tab (deleted, or not there yet): the config's title, which fails as before (E504).
  if (found?.sheetId == null || found.title == null) return configured;
  const tab: LinkedTab = { spreadsheetId: link.spreadsheetId, sheetId: found.sheetId, title: found.title };
  if (!recorded || recorded.title !== tab.title) await store.recordLinkedTab(link.name, tab);
  if (tab.title !== link.sheet)
    deps.logger?.warn(
      `link ${link.name}'s tab was renamed from "${link.sheet}" to "${tab.title}"; it keeps syncing (the link follows the tab by its sheetId). Set links[].sheet to "${tab.title}" in the config`,
      { code: 'SHEETSYNC_E417', link: link.name },
    );
  return new SheetGrid(sheetsApi, link.spreadsheetId, tab.title);
}
