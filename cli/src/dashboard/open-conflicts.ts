/**
 * Open conflicts across the links of the running stack, and a person's resolution of one.
 *
 * Resolving goes the one way every place resolves (functions/src/sync-jobs/resolve-conflict.ts):
 * the choice recorded, then the change carrying the chosen value published as a sheet change.
 */
import type { ConflictRecord } from '../../../functions/src/core/conflict-record.ts';
import type { ResolutionChoice } from '../../../functions/src/core/conflict-resolution.ts';
import type { Bus, VersionStore } from '../../../functions/src/ports.ts';
import { resolveOpenConflict } from '../../../functions/src/sync-jobs/resolve-conflict.ts';
import { SHEET_CHANGES_TOPIC, sheetChangeOrderingKey } from '../../../functions/src/wire/sheet-change.ts';

export interface ConflictDesk {
  list(): Promise<ConflictRecord[]>;
  /**
   * Resolves the conflict with `id` in whichever link holds it; SHEETSYNC_E401 when none does,
   * SHEETSYNC_E410 when the cell changed since and the choice would overwrite that change.
   */
  resolve(id: string, choice: ResolutionChoice): Promise<ConflictRecord>;
}

export function conflictDesk(deps: {
  store: VersionStore;
  bus: Bus;
  links: readonly string[];
  /** Where sheet changes go; default `sheetsync-sheet-changes`. */
  sheetTopic?: string;
  now?: () => number;
}): ConflictDesk {
  const now = deps.now ?? Date.now;
  const list = async () => {
    const all: ConflictRecord[] = [];
    for (const link of deps.links) all.push(...(await deps.store.listOpenConflicts(link)));
    return all.sort((a, b) => a.detectedAt - b.detectedAt);
  };
  return {
    list,
    resolve: (id, choice) =>
      resolveOpenConflict(
        {
          store: deps.store,
          now,
          publish: async (message) => {
            await deps.bus.publish(deps.sheetTopic ?? SHEET_CHANGES_TOPIC, [
              { data: Buffer.from(JSON.stringify(message)), orderingKey: sheetChangeOrderingKey(message) },
            ]);
          },
        },
        deps.links,
        id,
        choice,
      ),
  };
}
