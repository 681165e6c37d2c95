/**
 * Held changes (HeldChangeStore) on Firestore: `{root}/{link}/held/{id}` holds the change, and
 * `{root}/{link}/held/{id}/rows/{n}` its row ids in chunks (a whole tab's ids would pass the
 * 1 MiB document limit: 10,000 ids are about 370 KB).
 */
import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import type { HeldChange } from '../core/mass-change.ts';
import type { HeldChangeStore } from '../ports.ts';
import { heldChangeNotOpen } from './held-change-errors.ts';

const IDS_PER_DOCUMENT = 10_000;
/** gRPC ALREADY_EXISTS: a `create` found its document. */
const ALREADY_EXISTS = 6;

export class FirestoreHeldChanges implements HeldChangeStore {
  constructor(
    private readonly firestore: Firestore,
    private readonly root: string,
  ) {}

  async holdChange(change: HeldChange, rowIds: readonly string[]): Promise<HeldChange> {
    const ref = this.held(change.link).doc(change.id);
    const existing = await ref.get();
    if (existing.exists) return decode(existing.data()!);
    // Rows first, then the change with create(): a change is never visible without its rows. Two
    // holds of one id at once come from one event or run, so they write the same rows.
    const writes: Promise<unknown>[] = [];
    for (let i = 0, n = 0; i < rowIds.length; i += IDS_PER_DOCUMENT, n++)
      writes.push(
        ref
          .collection('rows')
          .doc(String(n).padStart(6, '0'))
          .set({ ids: rowIds.slice(i, i + IDS_PER_DOCUMENT) }),
      );
    await Promise.all(writes);
    try {
      await ref.create(encode(change));
      return change;
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
      return decode((await ref.get()).data()!);
    }
  }

  async heldChanges(link: string): Promise<HeldChange[]> {
    const snapshot = await this.held(link).where('status', '==', 'held').get();
    return snapshot.docs
      .map((d) => decode(d.data()))
      .sort((a, b) => a.heldAt - b.heldAt || a.id.localeCompare(b.id));
  }

  async heldChange(link: string, id: string) {
    const ref = this.held(link).doc(id);
    const snapshot = await ref.get();
    if (!snapshot.exists) return undefined;
    return { change: decode(snapshot.data()!), rowIds: await this.rowIdsOf(ref) };
  }

  async heldRowIds(link: string): Promise<Set<string>> {
    const snapshot = await this.held(link).where('status', '==', 'held').get();
    const ids = new Set<string>();
    for (const doc of snapshot.docs) for (const id of await this.rowIdsOf(doc.ref)) ids.add(id);
    return ids;
  }

  async decideHeldChange(
    link: string,
    id: string,
    status: 'approved' | 'discarded',
    at: number,
  ): Promise<HeldChange> {
    const ref = this.held(link).doc(id);
    return this.firestore.runTransaction(async (tx) => {
      const snapshot = await tx.get(ref);
      const change = snapshot.exists ? decode(snapshot.data()!) : undefined;
      if (change?.status !== 'held') throw heldChangeNotOpen(link, id, change);
      const decided: HeldChange = { ...change, status, decidedAt: at };
      tx.update(ref, { status, decidedAt: at });
      return decided;
    });
  }

  private async rowIdsOf(ref: DocumentReference): Promise<string[]> {
    const chunks = await ref.collection('rows').orderBy('__name__').get();
    return chunks.docs.flatMap((d) => d.get('ids') as string[]);
  }

  private held(link: string) {
    return this.firestore.collection(this.root).doc(link).collection('held');
  }
}

/** The sample's keys may hold any JSON value (Firestore refuses arrays in arrays): kept as text. */
function encode(change: HeldChange): Record<string, unknown> {
  const { sample, decidedAt, ...rest } = change;
  return { ...rest, sample: JSON.stringify(sample), ...(decidedAt === undefined ? {} : { decidedAt }) };
}

function decode(data: Record<string, unknown>): HeldChange {
  return { ...(data as unknown as HeldChange), sample: JSON.parse(String(data.sample ?? '[]')) };
}
