/**
 * A person's resolution of an open conflict, wherever it is made (the dashboard and `sheetsync
 * conflicts resolve`, cli/src/dashboard/open-conflicts.ts; the `_sheetsync_conflicts` tab, through
 * sheetWebhook): one path, so every place resolves exactly alike.
 *
 * It records the choice in the version store, then publishes the change `resolutionChange`
 * builds as an ordinary sheet change, so the chosen value reaches the DB and, through its echo,
 * the sheet, by the same idempotent path as any edit. The message's event id is derived from the
 * conflict id (`resolutionEventId`, which also tells applyToDb that the sheet does not show the
 * value yet): publishing it twice (a retried request) applies it once.
 */
import type { ConflictRecord } from '../core/conflict-record.ts';
import {
  conflictNotFound,
  type ResolutionChoice,
  resolutionChange,
  staleChoice,
} from '../core/conflict-resolution.ts';
import type { VersionStore } from '../ports.ts';
import type { SheetChangeMessage } from '../wire/sheet-change.ts';

export interface ResolveDeps {
  store: Pick<VersionStore, 'listOpenConflicts' | 'readRows' | 'resolveConflict'>;
  /** Publishes one sheet change (to `sheetsync-sheet-changes`); resolves once it is acked. */
  publish(message: SheetChangeMessage): Promise<void>;
  now?: () => number;
}

/**
 * Resolves the open conflict `id` of one of `links`: SHEETSYNC_E401 when none has it open,
 * SHEETSYNC_E410 when the cell changed since and the choice would overwrite that change,
 * SHEETSYNC_E402 when it was resolved meanwhile.
 */
export async function resolveOpenConflict(
  deps: ResolveDeps,
  links: readonly string[],
  id: string,
  choice: ResolutionChoice,
): Promise<ConflictRecord> {
  let open: ConflictRecord | undefined;
  for (const link of links) {
    open = (await deps.store.listOpenConflicts(link)).find((c) => c.id === id);
    if (open) break;
  }
  if (!open) throw conflictNotFound(links.join(', '), id);
  const doc = (await deps.store.readRows(open.link, [open.rowId])).get(open.rowId);
  const stale = staleChoice(open, choice, doc?.cells[open.column]?.value);
  if (stale) throw stale;
  const at = (deps.now ?? Date.now)();
  const resolved = await deps.store.resolveConflict(open.link, id, choice, at);
  const change = resolutionChange(resolved, at);
  if (change) {
    await deps.publish({
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
    });
  }
  return resolved;
}
