/**
 * The version store in process memory, for the embedded default without the Google Cloud SDK
 * and for fast tests. It passes the same contract suite as the Firestore adapter
 * (test/support/version-store-contract.ts). Documents are deep-copied in and out, as a remote
 * store would, so callers cannot change stored state by mutating what they hold.
 */
import type { Cells } from '../core/cell-value.ts';
import type { ConflictRecord } from '../core/conflict-record.ts';
import { applyResolution, conflictNotFound, type ResolutionChoice } from '../core/conflict-resolution.ts';
import { keyId } from '../core/key-id.ts';
import type { HeldChange } from '../core/mass-change.ts';
import { mergeRowDocuments, type RowDocument } from '../core/row-document.ts';
import { SheetsyncError } from '../errors.ts';
import type { LinkedTab, RowCommit, SheetEpochs, StructureCheck, VersionStore } from '../ports.ts';
import { MemoryHeldChanges } from './memory-held-changes.ts';

interface LinkState {
  rows: Map<string, RowDocument>;
  /** rowId → when the row was first stored. */
  created: Map<string, number>;
  structure: Record<string, StructureCheck>;
  keys: Map<string, string>;
  conflicts: Map<string, ConflictRecord>;
}

export class MemoryVersionStore implements VersionStore {
  private readonly links = new Map<string, LinkState>();
  private closed = false;
  private readonly now: () => number;

  private readonly held = new MemoryHeldChanges();

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  holdChange(change: HeldChange, rowIds: readonly string[]) {
    return this.open(() => this.held.holdChange(change, rowIds));
  }
  heldChanges(link: string) {
    return this.open(() => this.held.heldChanges(link));
  }
  heldChange(link: string, id: string) {
    return this.open(() => this.held.heldChange(link, id));
  }
  heldRowIds(link: string) {
    return this.open(() => this.held.heldRowIds(link));
  }
  decideHeldChange(link: string, id: string, status: 'approved' | 'discarded', at: number) {
    return this.open(() => this.held.decideHeldChange(link, id, status, at));
  }

  async readRows(link: string, rowIds: readonly string[]): Promise<Map<string, RowDocument>> {
    const state = this.state(link);
    const found = new Map<string, RowDocument>();
    for (const rowId of rowIds) {
      const doc = state.rows.get(rowId);
      if (doc) found.set(rowId, structuredClone(doc));
    }
    return found;
  }

  async liveRowIds(link: string, idPrefix?: string): Promise<string[]> {
    return [...this.state(link).rows.values()]
      .filter((doc) => !doc.tombstone && (idPrefix === undefined || doc.rowId.startsWith(idPrefix)))
      .map((doc) => doc.rowId);
  }

  async liveRowIdsCreatedSince(link: string, since: number): Promise<string[]> {
    const state = this.state(link);
    return [...state.rows.values()]
      .filter((doc) => !doc.tombstone && (state.created.get(doc.rowId) ?? -Infinity) > since)
      .map((doc) => doc.rowId);
  }

  async structureChecks(link: string): Promise<Record<string, StructureCheck>> {
    return structuredClone(this.state(link).structure);
  }

  async recordStructureChecks(link: string, checks: Readonly<Record<string, StructureCheck>>): Promise<void> {
    const stored = this.state(link).structure;
    for (const [bucket, check] of Object.entries(checks)) {
      if (!stored[bucket] || stored[bucket].checkedAt < check.checkedAt) stored[bucket] = { ...check };
    }
  }

  private readonly epochs = new Map<string, SheetEpochs>();

  private readonly tabs = new Map<string, LinkedTab>();

  async linkedTab(link: string): Promise<LinkedTab | undefined> {
    const tab = this.tabs.get(link);
    return tab ? { ...tab } : undefined;
  }

  async recordLinkedTab(link: string, tab: LinkedTab): Promise<void> {
    this.tabs.set(link, { ...tab });
  }

  async sheetEpochs(link: string): Promise<SheetEpochs> {
    return this.epochsOf(link);
  }

  // Read and written in one synchronous step, so concurrent bumps all count.
  private epochsOf(link: string): SheetEpochs {
    return { ...(this.epochs.get(link) ?? { rows: 0, values: 0, holdUntil: 0 }) };
  }

  async bumpSheetEpoch(link: string, kind: 'rows' | 'values' = 'rows', hold?: number): Promise<void> {
    const epochs = this.epochsOf(link);
    this.epochs.set(link, {
      ...epochs,
      [kind]: epochs[kind] + 1,
      ...(hold === undefined ? {} : { holdUntil: hold }),
    });
  }

  async holdSheetWrites(link: string, until: number): Promise<void> {
    this.epochs.set(link, { ...this.epochsOf(link), holdUntil: until });
  }

  async rowIdsForKeys(link: string, keys: readonly Cells[]): Promise<Map<string, string>> {
    const state = this.state(link);
    const found = new Map<string, string>();
    for (const key of keys) {
      const id = keyId(key);
      const rowId = state.keys.get(id);
      if (rowId) found.set(id, rowId);
    }
    return found;
  }

  async commitRows(link: string, commits: readonly RowCommit[]): Promise<Map<string, RowDocument>> {
    const state = this.state(link);
    const stored = new Map<string, RowDocument>();
    // Synchronous from here on: one event-loop turn is this store's transaction.
    for (const commit of commits) {
      const rowId = commit.next.rowId;
      const before = state.rows.get(rowId);
      const merged = mergeRowDocuments(before && structuredClone(before), structuredClone(commit.next));
      if (before?.key && merged.key && keyId(before.key) !== keyId(merged.key)) {
        state.keys.delete(keyId(before.key));
      }
      if (merged.key) state.keys.set(keyId(merged.key), rowId);
      if (!before) state.created.set(rowId, this.now());
      state.rows.set(rowId, merged);
      for (const conflict of commit.conflicts ?? []) {
        if (!state.conflicts.has(conflict.id)) state.conflicts.set(conflict.id, structuredClone(conflict));
      }
      stored.set(rowId, structuredClone(merged));
    }
    return stored;
  }

  async createRows(link: string, docs: readonly RowDocument[]): Promise<{ created: number; merged: number }> {
    const state = this.state(link);
    const merges: RowDocument[] = [];
    for (const doc of docs) {
      // Stored already (before, or earlier in this call): merged, never overwritten.
      if (state.rows.has(doc.rowId)) {
        merges.push(doc);
        continue;
      }
      if (doc.key) state.keys.set(keyId(doc.key), doc.rowId);
      state.created.set(doc.rowId, this.now());
      state.rows.set(doc.rowId, structuredClone(doc));
    }
    if (merges.length > 0)
      await this.commitRows(
        link,
        merges.map((next) => ({ next })),
      );
    return { created: docs.length - merges.length, merged: merges.length };
  }

  async listOpenConflicts(link: string, limit = 100): Promise<ConflictRecord[]> {
    return [...this.state(link).conflicts.values()]
      .filter((c) => c.status === 'open')
      .sort((a, b) => a.detectedAt - b.detectedAt || a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((c) => structuredClone(c));
  }

  async resolveConflict(
    link: string,
    conflictId: string,
    choice: ResolutionChoice,
    at: number,
  ): Promise<ConflictRecord> {
    const conflicts = this.state(link).conflicts;
    const current = conflicts.get(conflictId);
    if (!current) throw conflictNotFound(link, conflictId);
    const resolved = applyResolution(current, choice, at);
    conflicts.set(conflictId, resolved);
    return structuredClone(resolved);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private open<T>(call: () => Promise<T>): Promise<T> {
    this.state('');
    return call();
  }

  private state(link: string): LinkState {
    if (this.closed) throw new SheetsyncError('SHEETSYNC_E403', 'The version store is closed', 'permanent');
    let state = this.links.get(link);
    if (!state) {
      state = { rows: new Map(), created: new Map(), structure: {}, keys: new Map(), conflicts: new Map() };
      this.links.set(link, state);
    }
    return state;
  }
}
