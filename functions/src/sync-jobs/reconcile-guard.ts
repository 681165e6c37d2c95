/**
 * The mass-change guard (core/mass-change.ts) for reconcile and attach runs. A run finds rows
 * that one side lost and, by default, deletes them on the other side; a run that would delete
 * more than the link's thresholds on one side (the sheet read back empty, a table emptied behind
 * sheetsync's back) deletes none of them and holds them for a person instead.
 *
 * A person's decision runs reconcile again with it: `approve` lets the held rows be deleted
 * (whatever their number), `restore` puts them back on the side that lost them. Rows of a change
 * still held are left alone by other runs (neither deleted nor held again).
 */

import type { Cells } from '../core/cell-value.ts';
import {
  exceedsSafety,
  HELD_SAMPLE_SIZE,
  type HeldChange,
  type HeldSide,
  heldChangeId,
  rowSetOrigin,
} from '../core/mass-change.ts';
import type { Logger } from '../log.ts';
import type { HeldChangeStore } from '../ports.ts';
import type { LinkConfig } from '../wire/config.ts';

/** A person's decision on held rows, carried out by a reconcile run. */
export interface HeldDecision {
  /** Rows whose delete a person approved. */
  approve?: ReadonlySet<string>;
  /** Rows a person wants back on the side that lost them. */
  restore?: ReadonlySet<string>;
}

export interface DeleteCandidate {
  rowId: string;
  key: Cells | null;
}

export interface GuardedDeletes<T extends DeleteCandidate> {
  /** Delete these. */
  deletes: T[];
  /** Put these back on the side that lost them. */
  restores: T[];
  /** The change held now (or, in a dry run, that would be), if any. */
  held?: HeldChange;
}

export interface GuardDeps {
  store: HeldChangeStore;
  link: LinkConfig;
  logger?: Logger;
  now: () => number;
  dryRun: boolean;
  decision?: HeldDecision;
}

/**
 * Splits one side's delete candidates into deletes, restores and a held change. `side` is where
 * the rows would be deleted; `total` is how many rows that side holds.
 */
export async function guardDeletes<T extends DeleteCandidate>(
  deps: GuardDeps,
  side: HeldSide,
  candidates: readonly T[],
  total: number,
): Promise<GuardedDeletes<T>> {
  if (candidates.length === 0) return { deletes: [], restores: [] };
  const approve = deps.decision?.approve ?? new Set<string>();
  const restore = deps.decision?.restore ?? new Set<string>();
  const alreadyHeld = await deps.store.heldRowIds(deps.link.name);
  const deletes: T[] = [];
  const restores: T[] = [];
  const undecided: T[] = [];
  for (const candidate of candidates) {
    if (restore.has(candidate.rowId)) restores.push(candidate);
    else if (approve.has(candidate.rowId)) deletes.push(candidate);
    else if (!alreadyHeld.has(candidate.rowId)) undecided.push(candidate);
  }
  if (!exceedsSafety(undecided.length, total, deps.link.safety)) {
    return { deletes: [...deletes, ...undecided], restores };
  }
  const where = side === 'db' ? 'table' : 'sheet';
  const lost = side === 'db' ? 'sheet' : 'table';
  const change: HeldChange = {
    id: heldChangeId(
      deps.link.name,
      'reconcile',
      rowSetOrigin(
        side,
        undecided.map((c) => c.rowId),
      ),
    ),
    link: deps.link.name,
    source: 'reconcile',
    side,
    count: undecided.length,
    total,
    reason: `reconcile would delete ${undecided.length} of ${total} rows of the ${where}: the ${lost} no longer has them`,
    sample: undecided.slice(0, HELD_SAMPLE_SIZE).map((c) => ({ rowId: c.rowId, key: c.key })),
    evidenceTime: deps.now(),
    heldAt: deps.now(),
    status: 'held',
  };
  if (deps.dryRun) return { deletes, restores, held: change };
  const held = await deps.store.holdChange(
    change,
    undecided.map((c) => c.rowId),
  );
  deps.logger?.warn(
    `held the delete of ${held.count} rows for a person to approve (sheetsync approve ${held.id}) or discard: ${held.reason}`,
    { code: 'SHEETSYNC_E420', link: deps.link.name, held: held.id, count: held.count },
  );
  return { deletes, restores, held };
}
