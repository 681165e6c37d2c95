/**
 * Keeps each spreadsheet's `_sheetsync_conflicts` tab (adapters/sheets/conflicts-tab.ts) listing
 * the open conflicts of the links that sync it: after a flush recorded conflicts or applied a
 * resolution, the tab of each spreadsheet concerned is rewritten from the version store's open
 * conflicts (a query per link, a read of their rows' keys) with two Sheets requests.
 */
import type { ConflictsTab } from '../adapters/sheets/conflicts-tab.ts';
import { conflictRows } from '../adapters/sheets/conflicts-tab.ts';
import type { Cells } from '../core/cell-value.ts';
import type { ConflictRecord } from '../core/conflict-record.ts';
import type { VersionStore } from '../ports.ts';

export function conflictsShower(deps: {
  tab: Pick<ConflictsTab, 'show'>;
  store: Pick<VersionStore, 'listOpenConflicts' | 'readRows'>;
  /** Every link with its spreadsheet. */
  links: ReadonlyArray<{ name: string; spreadsheetId: string }>;
}): (links: readonly string[]) => Promise<void> {
  return async (changed) => {
    const spreadsheets = new Set(
      deps.links.filter((l) => changed.includes(l.name)).map((l) => l.spreadsheetId),
    );
    await Promise.all(
      [...spreadsheets].map(async (spreadsheetId) => {
        const conflicts: ConflictRecord[] = [];
        const keys = new Map<string, Cells | null>();
        for (const { name } of deps.links.filter((l) => l.spreadsheetId === spreadsheetId)) {
          const open = await deps.store.listOpenConflicts(name);
          if (open.length === 0) continue;
          conflicts.push(...open);
          const docs = await deps.store.readRows(name, [...new Set(open.map((c) => c.rowId))]);
          for (const [rowId, doc] of docs) keys.set(`${name}\u0000${rowId}`, doc.key);
        }
        conflicts.sort((a, b) => a.detectedAt - b.detectedAt || a.id.localeCompare(b.id));
        await deps.tab.show(
          spreadsheetId,
          conflictRows(conflicts, (link, rowId) => keys.get(`${link}\u0000${rowId}`)),
        );
      }),
    );
  };
}
