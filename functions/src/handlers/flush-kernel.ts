/**
 * What applyToDb and applyToSheet share around a flush (group commit, docs/design/apply-functions.md):
 *
 * - a flush takes a batch of deliveries apart by link and puts each delivery's outcome back
 *   together: a delivery is acked only when every one of its changes is;
 * - the next flush may start once this one's writes are done (GroupCommit release), while its
 *   version-store commit runs: the row documents under way are kept per link (InFlightDocs) and
 *   merged into what the next flush reads, as the store will merge them (mergeRowDocuments);
 * - the version-store commit goes in slices, concurrently, since a bulk flush touches thousands
 *   of distinct documents and slices never contend.
 */
import { mergeRowDocuments, type RowDocument } from '../core/row-document.ts';
import type { RowCommit, VersionStore } from '../ports.ts';

export type DeliveryOutcome = 'ack' | 'retry';

/** One change of a delivery, as a flush handles it. */
export interface ChangeItem<M> {
  message: M;
  /** Pub/Sub delivery attempt of its delivery, 1 the first time. */
  attempt: number;
  /** Its delivery's index in the flush. */
  delivery: number;
}

/** What a flush of one link gives back: one outcome per change, and its version-store commit. */
export interface LinkFlush {
  outcomes: DeliveryOutcome[];
  commit: Promise<void>;
}

/**
 * Flushes `deliveries` link by link (`flushLink`, in turn), then calls `release` with the
 * outcomes known and awaits every link's commit. A link the config does not name is passed to
 * `unknownLink` and its deliveries retried. Returns one outcome per delivery, in order, and
 * each link's result.
 */
export async function flushByLink<M extends { link: string }, R extends LinkFlush>(
  deliveries: readonly { message: M[]; attempt: number }[],
  steps: {
    isKnown: (link: string) => boolean;
    unknownLink: (link: string) => void;
    flushLink: (link: string, items: ChangeItem<M>[]) => Promise<R>;
    release?: ((known: readonly DeliveryOutcome[]) => void) | undefined;
  },
): Promise<{ outcomes: DeliveryOutcome[]; results: R[] }> {
  const outcomes = new Array<DeliveryOutcome>(deliveries.length).fill('ack');
  const byLink = new Map<string, ChangeItem<M>[]>();
  deliveries.forEach((d, delivery) => {
    for (const message of d.message) {
      const item = { message, attempt: d.attempt, delivery };
      const items = byLink.get(message.link);
      if (items) items.push(item);
      else byLink.set(message.link, [item]);
    }
  });
  const results: R[] = [];
  for (const [link, items] of byLink) {
    if (!steps.isKnown(link)) {
      steps.unknownLink(link);
      for (const item of items) outcomes[item.delivery] = 'retry';
      continue;
    }
    const result = await steps.flushLink(link, items);
    results.push(result);
    items.forEach((item, j) => {
      if (result.outcomes[j] === 'retry') outcomes[item.delivery] = 'retry';
    });
  }
  steps.release?.(outcomes);
  await Promise.all(results.map((r) => r.commit));
  return { outcomes, results };
}

/**
 * Row documents whose commit is under way, per link: a flush that starts before an earlier
 * one's version-store commit finished merges them into what it reads, and finds new rows' keys
 * in them.
 */
export class InFlightDocs {
  private readonly byLink = new Map<string, Map<string, RowDocument>>();

  /** The documents of `link` under way (a live map: commits add and remove theirs). */
  of(link: string): Map<string, RowDocument> {
    let pending = this.byLink.get(link);
    if (!pending) {
      pending = new Map();
      this.byLink.set(link, pending);
    }
    return pending;
  }
}

/** Merges the documents under way of `rowIds` into `docs` (read from the store), in place. */
export function overlayInFlight(
  docs: Map<string, RowDocument>,
  pending: ReadonlyMap<string, RowDocument>,
  rowIds: Iterable<string>,
): void {
  for (const rowId of rowIds) {
    const doc = pending.get(rowId);
    if (doc) docs.set(rowId, mergeRowDocuments(docs.get(rowId), doc));
  }
}

/**
 * Runs `commit` with `commits`' documents marked under way in `pending` until it settles
 * (committed, or failed: the deliveries are redelivered and decided again).
 */
export async function whileInFlight(
  pending: Map<string, RowDocument>,
  commits: readonly RowCommit[],
  commit: () => Promise<void>,
): Promise<void> {
  for (const { next } of commits) pending.set(next.rowId, next);
  try {
    await commit();
  } finally {
    for (const { next } of commits) if (pending.get(next.rowId) === next) pending.delete(next.rowId);
  }
}

/** Runs tasks with at most `size` in flight, first come first served. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(size: number): Limiter {
  if (!(size >= 1)) throw new Error(`a limiter needs at least one slot, not ${size}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // A waiting task takes the slot over; otherwise it is freed.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** Consecutive slices of `items`, `size` each (the last may be shorter). */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Row documents per store.commitRows call (applyToDb). */
const DB_COMMIT_SLICE = 250;
/** New rows per createRows call (applyToDb). */
const CREATE_SLICE = 250;
/** Version-store write calls in flight at once, across flushes (ApplyToDbDeps.storeConcurrency). */
export const STORE_CONCURRENCY = 2;

/**
 * Commits applyToDb's row documents. Rows that had no document when the flush read them (new
 * rows: a paste is mostly these) go through `createRows`, create-only batched writes without
 * read-modify-write transactions; one that appeared meanwhile is merged there as commitRows
 * would. The others (and rows with conflict records) are committed in transactions, in slices:
 * a paste touches hundreds of distinct documents, so slices never contend.
 *
 * Every call takes a slot of `slots`, shared by all flushes: a flush may start while earlier
 * flushes' commits still run (GroupCommit release), and without a bound a run of pastes put
 * 25-30 create batches of 60 rows in the Firestore emulator's queue at once. It committed no
 * faster so, but every other write waited behind the whole queue: sheetWebhook's one-document
 * sheet-epoch bump took 200-2,100 ms during pastes instead of ~20-50 ms, and that bump is on the
 * path of every edit. Measured against the emulator alone (5,000 new rows, bumps meanwhile):
 * slices of 250 rows (one batch each), 2 at a time, 4,500-5,800 rows/s with bumps at a median of
 * 30-50 ms; 125 × 2, 3,100-3,800 rows/s; 60-row slices unbounded, 4,400-5,000 rows/s with bumps
 * up to 700 ms. Acks wait for these commits, and in the sheet-to-db bench's flush timeline the
 * next pastes' messages (same ordering keys) arrived only once the previous flush was acked, so
 * this pace looks to be the pace of deliveries too (not verified against Pub/Sub's own docs).
 * A failure fails the flush, whose messages are redelivered; what was committed then makes
 * those changes duplicates.
 */
export async function commitDocuments(
  store: VersionStore,
  link: string,
  before: ReadonlyMap<string, RowDocument>,
  commits: readonly RowCommit[],
  slots: Limiter,
): Promise<void> {
  const fresh: RowDocument[] = [];
  const merged: RowCommit[] = [];
  for (const commit of commits) {
    if (!before.has(commit.next.rowId) && (commit.conflicts ?? []).length === 0) fresh.push(commit.next);
    else merged.push(commit);
  }
  await Promise.all([
    ...slices(fresh, CREATE_SLICE).map((slice) => slots(() => store.createRows(link, slice))),
    ...slices(merged, DB_COMMIT_SLICE).map((slice) => slots(() => store.commitRows(link, slice))),
  ]);
}

/** Rows per concurrent version-store commit, and commits in flight at once (applyToSheet). */
const SHEET_COMMIT_SLICE = 500;
const SHEET_COMMIT_CONCURRENCY = 4;

/**
 * Commits applyToSheet's row documents in concurrent slices: a bulk flush touches thousands of
 * distinct documents, so slices never contend, and one slow transaction (the Firestore emulator
 * manages a few hundred a second) does not serialize the rest.
 */
export async function commitConcurrently(
  store: VersionStore,
  link: string,
  commits: readonly RowCommit[],
): Promise<void> {
  const parts = slices(commits, SHEET_COMMIT_SLICE);
  let next = 0;
  const worker = async () => {
    while (next < parts.length) await store.commitRows(link, parts[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(SHEET_COMMIT_CONCURRENCY, parts.length) }, worker));
}
