/**
 * Held changes (HeldChangeStore) in process memory, for the in-memory version store. Passes the
 * same contract suite as the Firestore adapter (test/support/version-store-contract.ts).
 */
import type { HeldChange } from '../core/mass-change.ts';
import type { HeldChangeStore } from '../ports.ts';
import { heldChangeNotOpen } from './held-change-errors.ts';

export class MemoryHeldChanges implements HeldChangeStore {
  private readonly links = new Map<string, Map<string, { change: HeldChange; rowIds: string[] }>>();

  async holdChange(change: HeldChange, rowIds: readonly string[]): Promise<HeldChange> {
    const held = this.of(change.link);
    const stored = held.get(change.id);
    if (stored) return structuredClone(stored.change);
    held.set(change.id, { change: structuredClone(change), rowIds: [...rowIds] });
    return structuredClone(change);
  }

  async heldChanges(link: string): Promise<HeldChange[]> {
    return [...this.of(link).values()]
      .map((h) => structuredClone(h.change))
      .filter((c) => c.status === 'held')
      .sort((a, b) => a.heldAt - b.heldAt || a.id.localeCompare(b.id));
  }

  async heldChange(link: string, id: string) {
    const stored = this.of(link).get(id);
    return stored ? structuredClone(stored) : undefined;
  }

  async heldRowIds(link: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const { change, rowIds } of this.of(link).values())
      if (change.status === 'held') for (const id of rowIds) ids.add(id);
    return ids;
  }

  async decideHeldChange(
    link: string,
    id: string,
    status: 'approved' | 'discarded',
    at: number,
  ): Promise<HeldChange> {
    const stored = this.of(link).get(id);
    if (stored?.change.status !== 'held') throw heldChangeNotOpen(link, id, stored?.change);
    stored.change = { ...stored.change, status, decidedAt: at };
    return structuredClone(stored.change);
  }

  private of(link: string) {
    const held = this.links.get(link) ?? new Map();
    this.links.set(link, held);
    return held;
  }
}
