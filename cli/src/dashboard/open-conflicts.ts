/**
 * Open conflicts across the links of the running stack, and a person's resolution of one.
 *
 * Resolving records the choice in the version store, then publishes the change that
 * `resolutionChange` builds as an ordinary sheet change, so the chosen value reaches the DB and,
 * through its echo, the sheet, by the same idempotent path as any edit. The message's event id is
 * derived from the conflict id (`resolutionEventId`, which also tells applyToDb that the sheet does
 * not show the value yet): publishing it twice (a retried request) applies it once.
 */
import type { ConflictRecord } from '../../../functions/src/core/conflict-record.ts';
import {
  conflictNotFound,
  type ResolutionChoice,
  resolutionChange,
  staleChoice,
} from '../../../functions/src/core/conflict-resolution.ts';
import type { Bus, VersionStore } from '../../../functions/src/ports.ts';
import {
  SHEET_CHANGES_TOPIC,
  type SheetChangeMessage,
  sheetChangeOrderingKey,
} from '../../../functions/src/wire/sheet-change.ts';

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
    async resolve(id, choice) {
      const open = (await list()).find((c) => c.id === id);
      if (!open) throw conflictNotFound(deps.links.join(', '), id);
      const doc = (await deps.store.readRows(open.link, [open.rowId])).get(open.rowId);
      const stale = staleChoice(open, choice, doc?.cells[open.column]?.value);
      if (stale) throw stale;
      const at = now();
      const resolved = await deps.store.resolveConflict(open.link, id, choice, at);
      const change = resolutionChange(resolved, at);
      if (change) {
        const message: SheetChangeMessage = {
          v: 1,
          link: change.link,
          rowId: change.rowId,
          op: 'upsert',
          cells: Object.fromEntries(
            Object.entries(change.cells).map(([column, value]) => [
              column,
              // The sheet holds scalars; a structured DB value (json, arrays) travels as its text.
              value === null || typeof value !== 'object' ? value : JSON.stringify(value),
            ]),
          ),
          isNew: false,
          eventId: change.eventId!,
          time: at,
        };
        await deps.bus.publish(deps.sheetTopic ?? SHEET_CHANGES_TOPIC, [
          { data: Buffer.from(JSON.stringify(message)), orderingKey: sheetChangeOrderingKey(message) },
        ]);
      }
      return resolved;
    },
  };
}
