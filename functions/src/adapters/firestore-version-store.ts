/**
 * The version store on Firestore (DESIGN.md §2, Row document). Layout under a configurable root
 * (default `sheetsync_links`): `{root}/{link}/rows/{rowId}`, `{root}/{link}/keys/{keyId}` and
 * `{root}/{link}/conflicts/{conflictId}`.
 *
 * No hot document: there is no global counter, every counter lives in its row's document, so
 * group commits of different rows never touch a common document. A group commit is one
 * transaction per chunk of rows (Firestore allows 500 writes per transaction): it reads the
 * rows, their key documents and conflict records with one getAll, merges (the core's
 * `mergeRowDocuments`, so a commit computed from an older read loses nothing), and writes.
 * Contention aborts a transaction (ABORTED, or the emulator's lock timeouts); it is retried
 * with exponential backoff and full jitter, and after the last attempt reported as a retryable
 * SHEETSYNC_E404 so the message is redelivered rather than lost.
 *
 * A first sync (attach) writes rows that cannot exist yet: createRows skips the transactions'
 * reads and lock waits with create-only batched writes, several in flight (the emulator commits
 * about 3-5× more rows a second so, see bench/first-sync.bench.ts), and falls back to the
 * transactional merge for any row that exists after all.
 */
import {
  type DocumentReference,
  FieldPath,
  FieldValue,
  type Firestore,
  type Transaction,
} from '@google-cloud/firestore';
import type { Cells } from '../core/cell-value.ts';
import type { ConflictRecord } from '../core/conflict-record.ts';
import { applyResolution, conflictNotFound, type ResolutionChoice } from '../core/conflict-resolution.ts';
import { keyId } from '../core/key-id.ts';
import type { HeldChange } from '../core/mass-change.ts';
import { mergeRowDocuments, type RowDocument } from '../core/row-document.ts';
import { SheetsyncError } from '../errors.ts';
import type { LinkedTab, RowCommit, SheetEpochs, StructureCheck, VersionStore } from '../ports.ts';
import { decodeConflict, decodeRow, encodeConflict, encodeRow } from './firestore-codec.ts';
import { FirestoreHeldChanges } from './firestore-held-changes.ts';
import { type RetryOptions, withContentionRetry } from './firestore-retry.ts';

export interface FirestoreVersionStoreOptions {
  firestore: Firestore;
  /** Top-level collection; tests give each file its own. */
  root?: string;
  retry?: RetryOptions;
  /** Writes per transaction; Firestore's limit is 500. */
  maxWritesPerTransaction?: number;
  /** createRows' batches in flight at once. Default 4. */
  createConcurrency?: number;
  /** The clock of `createdAt` (when a row document was first stored). */
  now?: () => number;
}

/** Rows per createRows batch: a row and its key document are two of a batch's 500 writes. */
const CREATE_BATCH_ROWS = 250;
/** gRPC ALREADY_EXISTS: a `create` found its document. */
const ALREADY_EXISTS = 6;

export class FirestoreVersionStore implements VersionStore {
  private readonly firestore: Firestore;
  private readonly root: string;
  private readonly retry: RetryOptions;
  private readonly maxWrites: number;
  private readonly createConcurrency: number;
  private readonly now: () => number;
  private readonly held: FirestoreHeldChanges;

  constructor(options: FirestoreVersionStoreOptions) {
    this.now = options.now ?? Date.now;
    this.firestore = options.firestore;
    this.root = options.root ?? 'sheetsync_links';
    this.retry = options.retry ?? {};
    this.maxWrites = options.maxWritesPerTransaction ?? 450;
    this.createConcurrency = options.createConcurrency ?? 4;
    this.held = new FirestoreHeldChanges(this.firestore, this.root);
  }

  holdChange(change: HeldChange, rowIds: readonly string[]) {
    return this.held.holdChange(change, rowIds);
  }
  heldChanges(link: string) {
    return this.held.heldChanges(link);
  }
  heldChange(link: string, id: string) {
    return this.held.heldChange(link, id);
  }
  heldRowIds(link: string) {
    return this.held.heldRowIds(link);
  }
  decideHeldChange(link: string, id: string, status: 'approved' | 'discarded', at: number) {
    return this.held.decideHeldChange(link, id, status, at);
  }

  async readRows(link: string, rowIds: readonly string[]): Promise<Map<string, RowDocument>> {
    const found = new Map<string, RowDocument>();
    if (rowIds.length === 0) return found;
    const snapshots = await this.firestore.getAll(...rowIds.map((id) => this.row(link, id)));
    for (const snapshot of snapshots) {
      if (snapshot.exists) found.set(snapshot.id, decodeRow(snapshot.ref.path, snapshot.data()!));
    }
    return found;
  }

  async rowIdsForKeys(link: string, keys: readonly Cells[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    const snapshots = await this.firestore.getAll(...keys.map((key) => this.key(link, keyId(key))));
    for (const snapshot of snapshots) {
      if (snapshot.exists) found.set(snapshot.id, snapshot.get('rowId') as string);
    }
    return found;
  }

  async commitRows(link: string, commits: readonly RowCommit[]): Promise<Map<string, RowDocument>> {
    const stored = new Map<string, RowDocument>();
    for (const chunk of this.chunks(commits)) {
      const merged = await withContentionRetry(this.retry, () =>
        this.firestore.runTransaction((tx) => this.commitChunk(tx, link, chunk), { maxAttempts: 1 }),
      );
      for (const doc of merged) stored.set(doc.rowId, doc);
    }
    return stored;
  }

  async createRows(link: string, docs: readonly RowDocument[]): Promise<{ created: number; merged: number }> {
    // A rowId given twice is created once, then merged (a batch may not create a document twice).
    const seen = new Set<string>();
    const first: RowDocument[] = [];
    const repeats: RowDocument[] = [];
    for (const doc of docs) {
      (seen.has(doc.rowId) ? repeats : first).push(doc);
      seen.add(doc.rowId);
    }
    const batches: RowDocument[][] = [];
    for (let i = 0; i < first.length; i += CREATE_BATCH_ROWS)
      batches.push(first.slice(i, i + CREATE_BATCH_ROWS));
    const counts = { created: 0, merged: repeats.length };
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const result = await this.createBatch(link, batches[next++]!);
        counts.created += result.created;
        counts.merged += result.merged;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.createConcurrency, batches.length) }, worker));
    if (repeats.length > 0)
      await this.commitRows(
        link,
        repeats.map((next) => ({ next })),
      );
    return counts;
  }

  async liveRowIds(link: string, idPrefix?: string): Promise<string[]> {
    const rows = this.row(link, '_').parent;
    let query = rows.where('tombstone', '==', null);
    if (idPrefix !== undefined) {
      // Document ids are the rows' sync ids: the ones starting with the digit sort between it
      // and the next character.
      const next = idPrefix.slice(0, -1) + String.fromCharCode(idPrefix.charCodeAt(idPrefix.length - 1) + 1);
      query = query.where(FieldPath.documentId(), '>=', idPrefix).where(FieldPath.documentId(), '<', next);
    }
    const snapshot = await query.select().get();
    return snapshot.docs.map((d) => d.id);
  }

  async liveRowIdsCreatedSince(link: string, since: number): Promise<string[]> {
    // A range on one field (its automatic single-field index); deleted rows are left out here,
    // since an equality on `tombstone` with it would need a composite index.
    const snapshot = await this.row(link, '_')
      .parent.where('createdAt', '>', since)
      .select('tombstone')
      .get();
    return snapshot.docs.filter((d) => d.get('tombstone') == null).map((d) => d.id);
  }

  async structureChecks(link: string): Promise<Record<string, StructureCheck>> {
    const snapshot = await this.structure(link).get();
    return parseChecks(snapshot.get('buckets'));
  }

  async recordStructureChecks(link: string, checks: Readonly<Record<string, StructureCheck>>): Promise<void> {
    const ref = this.structure(link);
    await withContentionRetry(this.retry, () =>
      this.firestore.runTransaction(
        async (tx) => {
          const stored = parseChecks((await tx.get(ref)).get('buckets'));
          for (const [bucket, check] of Object.entries(checks)) {
            if (!stored[bucket] || stored[bucket].checkedAt < check.checkedAt) stored[bucket] = check;
          }
          // One text field: nothing queries the buckets, so they are not indexed.
          tx.set(ref, { buckets: JSON.stringify(stored) });
        },
        { maxAttempts: 1 },
      ),
    );
  }

  async linkedTab(link: string): Promise<LinkedTab | undefined> {
    const tab = (await this.firestore.collection(this.root).doc(link).get()).get('tab');
    return tab && typeof tab.sheetId === 'number' && typeof tab.spreadsheetId === 'string'
      ? { spreadsheetId: tab.spreadsheetId, sheetId: tab.sheetId, title: String(tab.title ?? '') }
      : undefined;
  }

  async recordLinkedTab(link: string, tab: LinkedTab): Promise<void> {
    await this.firestore
      .collection(this.root)
      .doc(link)
      .set({ tab: { ...tab } }, { merge: true });
  }

  async sheetEpochs(link: string): Promise<SheetEpochs> {
    const snapshot = await this.firestore.collection(this.root).doc(link).get();
    const count = (field: string) => {
      const value = snapshot.get(field);
      return typeof value === 'number' ? value : 0;
    };
    return {
      rows: count('sheetEpoch'),
      values: count('sheetValuesEpoch'),
      holdUntil: count('sheetHoldUntil'),
    };
  }

  async bumpSheetEpoch(link: string, kind: 'rows' | 'values' = 'rows', hold?: number): Promise<void> {
    await this.firestore
      .collection(this.root)
      .doc(link)
      .set(
        {
          [kind === 'rows' ? 'sheetEpoch' : 'sheetValuesEpoch']: FieldValue.increment(1),
          ...(hold === undefined ? {} : { sheetHoldUntil: hold }),
        },
        { merge: true },
      );
  }

  async holdSheetWrites(link: string, until: number): Promise<void> {
    await this.firestore.collection(this.root).doc(link).set({ sheetHoldUntil: until }, { merge: true });
  }

  async listOpenConflicts(link: string, limit = 100): Promise<ConflictRecord[]> {
    // An equality filter only (no composite index needed); open conflicts are few.
    const snapshot = await this.conflicts(link).where('status', '==', 'open').get();
    return snapshot.docs
      .map((d) => decodeConflict(d.data()))
      .sort((a, b) => a.detectedAt - b.detectedAt || a.id.localeCompare(b.id))
      .slice(0, limit);
  }

  async resolveConflict(
    link: string,
    id: string,
    choice: ResolutionChoice,
    at: number,
  ): Promise<ConflictRecord> {
    const ref = this.conflicts(link).doc(id);
    return withContentionRetry(this.retry, () =>
      this.firestore.runTransaction(
        async (tx) => {
          const snapshot = await tx.get(ref);
          if (!snapshot.exists) throw conflictNotFound(link, id);
          const resolved = applyResolution(decodeConflict(snapshot.data()!), choice, at);
          tx.set(ref, encodeConflict(resolved));
          return resolved;
        },
        { maxAttempts: 1 },
      ),
    );
  }

  async close(): Promise<void> {
    await this.firestore.terminate();
  }

  private async commitChunk(
    tx: Transaction,
    link: string,
    chunk: readonly RowCommit[],
  ): Promise<RowDocument[]> {
    const rowRefs = chunk.map((c) => this.row(link, c.next.rowId));
    const conflictRefs = chunk.flatMap((c) => (c.conflicts ?? []).map((r) => this.conflicts(link).doc(r.id)));
    const snapshots = await tx.getAll(...rowRefs, ...conflictRefs);
    const existingConflicts = new Set(
      snapshots.slice(rowRefs.length).flatMap((s) => (s.exists ? [s.id] : [])),
    );
    const merged: RowDocument[] = [];
    chunk.forEach((commit, i) => {
      const snapshot = snapshots[i]!;
      const before = snapshot.exists ? decodeRow(snapshot.ref.path, snapshot.data()!) : undefined;
      const doc = mergeRowDocuments(before, commit.next);
      if (before?.key && doc.key && keyId(before.key) !== keyId(doc.key)) {
        tx.delete(this.key(link, keyId(before.key)));
      }
      if (doc.key && (!before?.key || keyId(before.key) !== keyId(doc.key))) {
        tx.set(this.key(link, keyId(doc.key)), { rowId: doc.rowId, key: JSON.stringify(doc.key) });
      }
      // When the row was first stored, kept across rewrites (liveRowIdsCreatedSince).
      const createdAt = snapshot.exists ? snapshot.get('createdAt') : this.now();
      tx.set(rowRefs[i]!, typeof createdAt === 'number' ? { ...encodeRow(doc), createdAt } : encodeRow(doc));
      for (const conflict of commit.conflicts ?? []) {
        if (existingConflicts.has(conflict.id)) continue;
        existingConflicts.add(conflict.id);
        tx.set(this.conflicts(link).doc(conflict.id), encodeConflict(conflict));
      }
      merged.push(doc);
    });
    return merged;
  }

  /**
   * One atomic batch: `create` of each row document (it fails, whole, with ALREADY_EXISTS when
   * any of them exists) and `set` of its key document, as commitRows writes it for a new row.
   * When some rows exist, those are merged in transactions and the rest created again.
   */
  private async createBatch(
    link: string,
    docs: readonly RowDocument[],
  ): Promise<{ created: number; merged: number }> {
    try {
      await withContentionRetry(this.retry, () => {
        const batch = this.firestore.batch();
        const createdAt = this.now();
        for (const doc of docs) {
          batch.create(this.row(link, doc.rowId), { ...encodeRow(doc), createdAt });
          if (doc.key)
            batch.set(this.key(link, keyId(doc.key)), { rowId: doc.rowId, key: JSON.stringify(doc.key) });
        }
        return batch.commit();
      });
      return { created: docs.length, merged: 0 };
    } catch (error) {
      if ((error as { code?: unknown }).code !== ALREADY_EXISTS) throw error;
      const stored = await this.readRows(
        link,
        docs.map((d) => d.rowId),
      );
      const existing = docs.filter((d) => stored.has(d.rowId));
      if (existing.length === 0) throw error;
      await this.commitRows(
        link,
        existing.map((next) => ({ next })),
      );
      const fresh = docs.filter((d) => !stored.has(d.rowId));
      const rest = fresh.length > 0 ? await this.createBatch(link, fresh) : { created: 0, merged: 0 };
      return { created: rest.created, merged: existing.length + rest.merged };
    }
  }

  /** Rows in chunks whose writes (row, up to two key documents, conflicts) fit one transaction. */
  private *chunks(commits: readonly RowCommit[]): Generator<RowCommit[]> {
    let chunk: RowCommit[] = [];
    let writes = 0;
    for (const commit of commits) {
      const cost = 3 + (commit.conflicts?.length ?? 0);
      if (cost > this.maxWrites) {
        throw new SheetsyncError(
          'SHEETSYNC_E406',
          `Row ${commit.next.rowId} has ${commit.conflicts?.length} conflict records in one commit, more than a transaction holds`,
          'permanent',
        );
      }
      if (writes + cost > this.maxWrites && chunk.length > 0) {
        yield chunk;
        chunk = [];
        writes = 0;
      }
      chunk.push(commit);
      writes += cost;
    }
    if (chunk.length > 0) yield chunk;
  }

  private structure(link: string): DocumentReference {
    return this.firestore.collection(this.root).doc(link).collection('state').doc('structure');
  }

  private row(link: string, rowId: string): DocumentReference {
    return this.firestore.collection(this.root).doc(link).collection('rows').doc(rowId);
  }

  private key(link: string, id: string): DocumentReference {
    return this.firestore.collection(this.root).doc(link).collection('keys').doc(id);
  }

  private conflicts(link: string) {
    return this.firestore.collection(this.root).doc(link).collection('conflicts');
  }
}

function parseChecks(stored: unknown): Record<string, StructureCheck> {
  return typeof stored === 'string' ? (JSON.parse(stored) as Record<string, StructureCheck>) : {};
}
