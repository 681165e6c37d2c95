/**
 * `sheetsync approve ID` and `sheetsync discard ID`: a person's decision on a change the
 * mass-change guard held (core/mass-change.ts), carried out by a reconcile run of the link that
 * knows the decision (reconcile-guard.ts). Approve deletes the held rows on the side that still
 * has them (a row changed since is kept, as reconcile keeps any changed row); discard puts them
 * back on the side that lost them. Running reconcile, rather than replaying the held event, also
 * re-identifies rows that lost their ids by key (ids-by-key.ts), so discarding a change held
 * because the id column was deleted gives the rows their ids back.
 *
 * The decision is recorded after the run succeeded: a run stopped by rows moving (E506) leaves
 * the change held, to be decided again.
 */

import { heldChangeNotOpen } from '../adapters/held-change-errors.ts';
import type { HeldChange } from '../core/mass-change.ts';
import type { SyncDeps } from './attach.ts';
import { type ReconcileResult, reconcileLink } from './reconcile.ts';

export type HeldDecisionKind = 'approve' | 'discard';

export interface DecidedChange {
  change: HeldChange;
  reconcile: ReconcileResult;
}

export async function decideHeld(
  deps: SyncDeps & { id: string; decision: HeldDecisionKind },
): Promise<DecidedChange> {
  const { link, store, id } = deps;
  const now = deps.now ?? Date.now;
  const held = await store.heldChange(link.name, id);
  if (held?.change.status !== 'held') throw heldChangeNotOpen(link.name, id, held?.change);
  const rows = new Set(held.rowIds);
  const reconcile = await reconcileLink({
    ...deps,
    dryRun: false,
    decision: deps.decision === 'approve' ? { approve: rows } : { restore: rows },
  });
  const change = await store.decideHeldChange(
    link.name,
    id,
    deps.decision === 'approve' ? 'approved' : 'discarded',
    now(),
  );
  deps.logger?.info(`${change.status} held change ${id}`, { link: link.name, held: id, count: change.count });
  return { change, reconcile };
}
