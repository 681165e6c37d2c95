/**
 * The deletes a `structure` event implies, through the mass-change guard (core/mass-change.ts).
 * A live row missing from the event's ids was deleted on the sheet, unless the ids themselves are
 * in doubt: rows holding data without an id (the hidden column deleted or cleared) mean ids were
 * lost, not rows. So the deletes are held for a person when the event reports such rows, or
 * when they pass the link's thresholds; rows already held are neither deleted nor held again.
 */
import { exceedsSafety, HELD_SAMPLE_SIZE, type HeldChange, heldChangeId } from '../../core/mass-change.ts';
import type { Logger } from '../../log.ts';
import type { HeldChangeStore, VersionStore } from '../../ports.ts';
import type { LinkConfig } from '../../wire/config.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';
import type { WebhookBody } from '../../wire/webhook.ts';
import { planStructureCheck, type StructurePlan, type StructureStore } from './structure-check.ts';

export type StructureEvent = Extract<WebhookBody, { kind: 'structure' }>;

export interface StructureDeletesDeps {
  liveRowIds(link: string, idPrefix?: string): Promise<Iterable<string>>;
  structure?: StructureStore;
  /** Where held changes are kept, and the rows' documents for a held change's sample. */
  held?: HeldChangeStore & Pick<VersionStore, 'readRows'>;
  logger: Logger;
}

export interface StructureDeletes {
  messages: SheetChangeMessage[];
  /** To record once the deletes are published (or held). */
  plan?: StructurePlan;
  held?: HeldChange;
}

export async function structureDeletes(
  event: StructureEvent,
  link: LinkConfig,
  deps: StructureDeletesDeps,
  now: number,
): Promise<StructureDeletes> {
  const present = new Set(event.ids);
  const { ids, time, idPrefix } = event;
  const plan = deps.structure
    ? await planStructureCheck(
        deps.structure,
        deps.liveRowIds,
        link.name,
        { ids, time, ...(idPrefix === undefined ? {} : { idPrefix }) },
        now,
      )
    : undefined;
  let missing: string[] = [];
  for (const rowId of plan ? plan.candidates : await deps.liveRowIds(link.name, idPrefix))
    if (!present.has(rowId)) missing.push(rowId);
  // After a paste of whole rows, a row missing is one pasted over (its id cell now holds the
  // copy's): nothing was deleted, so its table values go back to the sheet (issue 19).
  if (event.changeType === PASTED_OVER)
    return { messages: deleteMessages(event, link, missing, 'restore'), plan };
  if (missing.length === 0 || !deps.held) return { messages: deleteMessages(event, link, missing), plan };

  const alreadyHeld = await deps.held.heldRowIds(link.name);
  missing = missing.filter((rowId) => !alreadyHeld.has(rowId));
  const total = event.ids.length + missing.length;
  const reason =
    (event.unidentified ?? 0) > 0 && missing.length > 0
      ? `${event.unidentified} rows of the tab hold data but no sync id (was the hidden _sheetsync_id column deleted or cleared?), and ${missing.length} synced rows are missing from it`
      : exceedsSafety(missing.length, total, link.safety)
        ? `${missing.length} of ${total} rows are missing from the sheet after one change (${event.changeType})`
        : undefined;
  if (!reason) return { messages: deleteMessages(event, link, missing), plan };

  const sampleDocs = await deps.held.readRows(link.name, missing.slice(0, HELD_SAMPLE_SIZE));
  const held = await deps.held.holdChange(
    {
      id: heldChangeId(link.name, 'structure', event.eventId),
      link: link.name,
      source: 'structure',
      side: 'db',
      count: missing.length,
      total,
      reason,
      sample: missing
        .slice(0, HELD_SAMPLE_SIZE)
        .map((rowId) => ({ rowId, key: sampleDocs.get(rowId)?.key ?? null })),
      evidenceTime: event.time,
      heldAt: now,
      status: 'held',
    },
    missing,
  );
  deps.logger.warn(
    `held the delete of ${held.count} rows for a person to approve (sheetsync approve ${held.id}) or discard: ${held.reason}`,
    { code: 'SHEETSYNC_E420', link: link.name, held: held.id, count: held.count },
  );
  return { messages: [], plan, held };
}

/** The `changeType` of the structure event the script sends after a paste that copied sync ids. */
export const PASTED_OVER = 'PASTE';

function deleteMessages(
  event: StructureEvent,
  link: LinkConfig,
  rowIds: readonly string[],
  op: 'delete' | 'restore' = 'delete',
) {
  return rowIds.map(
    (rowId): SheetChangeMessage => ({
      v: 1,
      link: link.name,
      rowId,
      op,
      cells: {},
      isNew: false,
      eventId: event.eventId,
      time: event.time,
    }),
  );
}
