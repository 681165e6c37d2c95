/**
 * The interfaces the core needs from the outside world. Adapters in ./adapters implement them,
 * each against a real service and (where a contract suite proves them equal) in memory. Here:
 * the version store and the bus; the table and the sheet: ports/table.ts, ports/sheet.ts.
 */
import type { Cells, CellValue } from './core/cell-value.ts';
import type { ConflictRecord } from './core/conflict-record.ts';
import type { HeldChange } from './core/mass-change.ts';
import type { RowDocument } from './core/row-document.ts';

// ─── Version store (Firestore) ──────────────────────────────────────────────────────────────
// Owned by the sync core (issue 4). Adapters: adapters/firestore-version-store.ts (Firestore and
// its emulator) and adapters/memory-version-store.ts; test/support/version-store-contract.ts
// holds both to the same semantics. Layout: `sheetsync_links/{link}/rows/{rowId}` (row
// documents), `…/keys/{keyId}` (primary key → rowId), `…/conflicts/{conflictId}`.

/** One row's part of a group commit. */
export interface RowCommit {
  /**
   * The row document the core computed from an earlier read. The store merges it into the
   * stored one with `mergeRowDocuments` inside its transaction, so commits of the two apply
   * functions commute and a retried commit is harmless.
   */
  next: RowDocument;
  /** Created if absent (ids are deterministic); an existing record is left as it is. */
  conflicts?: readonly ConflictRecord[];
}

/**
 * One id bucket (the first two hex digits of a row id) of a structure event the webhook checked:
 * a digest of the bucket's ids on the sheet, and a time by which every live row of the bucket not
 * among them had been sent a delete (webhook handler, "Structure checks").
 */
export interface StructureCheck {
  digest: string;
  checkedAt: number;
}

/**
 * The longest a write hold lasts (SheetEpochs.holdUntil), should the script's `layout` event that
 * ends it not come: the webhook's answer, the script's id write and its next request take about
 * a second.
 */
export const WRITE_HOLD_MS = 10_000;

/** VersionStore.sheetEpochs. */
/**
 * The tab a link follows, recorded at its first sync (issue 19): found by `sheetId` from then
 * on, so a renamed tab stays linked; `title` is the title it had when last seen.
 */
export interface LinkedTab {
  spreadsheetId: string;
  sheetId: number;
  title: string;
}

export interface SheetEpochs {
  rows: number;
  values: number;
  /**
   * Until when (ms since the epoch, by the webhook's clock) applyToSheet holds its writes to the
   * tab: an edit may be rows sorted without their hidden ids, and until the script has written
   * the ids that follow the rows, a row's id names the row whose values it held before (the
   * webhook handler, "write hold"). 0: no hold.
   */
  holdUntil: number;
}

/**
 * Changes the mass-change guard holds (core/mass-change.ts), kept beside the link's rows:
 * `sheetsync_links/{link}/held/{id}` with the row ids in `…/held/{id}/rows/{n}`.
 */
export interface HeldChangeStore {
  /**
   * Records a held change and the rows it would delete. A change whose id is stored already is
   * left as it is (a retried event or run holds it once); resolves with the stored change.
   */
  holdChange(change: HeldChange, rowIds: readonly string[]): Promise<HeldChange>;
  /** The link's changes with status `held`, oldest first. */
  heldChanges(link: string): Promise<HeldChange[]>;
  /** One change (any status) with its rows, or undefined. */
  heldChange(link: string, id: string): Promise<{ change: HeldChange; rowIds: string[] } | undefined>;
  /** The rows of the link's changes still held, which new checks must not count or hold again. */
  heldRowIds(link: string): Promise<Set<string>>;
  /**
   * Records a person's decision. Refuses (SHEETSYNC_E421) a change that is unknown or decided
   * already, so two people cannot both act on it.
   */
  decideHeldChange(
    link: string,
    id: string,
    status: 'approved' | 'discarded',
    at: number,
  ): Promise<HeldChange>;
}

export interface VersionStore extends HeldChangeStore {
  /** The row documents of `rowIds` in one batched read; unknown rows are absent. */
  readRows(link: string, rowIds: readonly string[]): Promise<Map<string, RowDocument>>;
  /** rowId by primary key (`keyId(key)` → rowId), by direct reads of the key documents. */
  rowIdsForKeys(link: string, keys: readonly Cells[]): Promise<Map<string, string>>;
  /**
   * Commits many rows atomically per row (in as few transactions as the store allows), with
   * their key documents and conflict records; retries contention (ABORTED) with backoff and
   * jitter. Resolves with the stored documents after the merge.
   */
  commitRows(link: string, commits: readonly RowCommit[]): Promise<Map<string, RowDocument>>;
  /**
   * The first sync's bulk write (attach): row documents that should not exist yet, with their
   * key documents, written without read-modify-write transactions (create-only batches, many
   * in flight). A row that exists already is never overwritten: it is merged as `commitRows`
   * merges it. A rowId given twice is created once and merged once. Resolves with the counts.
   */
  createRows(link: string, docs: readonly RowDocument[]): Promise<{ created: number; merged: number }>;
  /**
   * The ids of the link's rows that are not deleted. A query, so only for rare work: the
   * webhook runs it after a structural change to find rows that left the sheet.
   * With `idPrefix` (one lower-case hex digit), only the rows whose id starts with it: a big
   * tab's structure event comes in 16 such parts, and each reads a sixteenth of the rows.
   */
  liveRowIds(link: string, idPrefix?: string): Promise<string[]>;
  /**
   * The ids of the link's live rows first stored after `since` (ms, by the store's clock; a row
   * stored before the store kept that time is never listed). With `liveRowIds` of the id buckets
   * whose ids changed, it lets the webhook check a structure event without reading every row.
   */
  liveRowIdsCreatedSince(link: string, since: number): Promise<string[]>;
  /** What the webhook last checked of the link's structure, per id bucket (StructureCheck). */
  structureChecks(link: string): Promise<Record<string, StructureCheck>>;
  /** Records checks, per bucket keeping the one with the later `checkedAt`. */
  recordStructureChecks(link: string, checks: Readonly<Record<string, StructureCheck>>): Promise<void>;
  /**
   * Counters that change whenever the link's sheet may have changed other than by applyToSheet.
   * `rows`: rows may have moved or appeared (a row inserted, deleted, sorted or added, a header
   * changed; the CLI after it writes to the sheet). `values`: cells of rows that already had
   * their sync id were edited in place (rows did not move). The webhook bumps one of them for
   * every event it accepts. applyToSheet keeps its last read of the tab while both stay the same
   * (adapters/sheets/sheet-tab.ts), so a flush costs no Sheets API read; after a `values` change
   * it reads only the rows it writes. 0 for a link never bumped.
   */
  sheetEpochs(link: string): Promise<SheetEpochs>;
  /** The tab the link follows, if recorded (LinkedTab). */
  linkedTab?(link: string): Promise<LinkedTab | undefined>;
  /** Records the tab the link follows (its first sync, or its title after a rename). */
  recordLinkedTab?(link: string, tab: LinkedTab): Promise<void>;
  /**
   * Bumps the `rows` counter (the default) or the `values` one. With `hold`, sets the write hold
   * (`holdUntil`) to it in the same write (0 clears it).
   */
  bumpSheetEpoch(link: string, kind?: 'rows' | 'values', hold?: number): Promise<void>;
  /** Sets the write hold of the link's tab (`SheetEpochs.holdUntil`), or clears it (0). */
  holdSheetWrites(link: string, until: number): Promise<void>;
  /** Open conflicts (manual, or decided without seeing the DB change), oldest first. */
  listOpenConflicts(link: string, limit?: number): Promise<ConflictRecord[]>;
  /**
   * Closes an open conflict with a person's choice. The caller then publishes the change that
   * `resolutionChange` builds, if any, so the chosen value reaches the DB and the sheet.
   */
  resolveConflict(
    link: string,
    conflictId: string,
    choice: 'sheet' | 'db' | { value: CellValue },
    at: number,
  ): Promise<ConflictRecord>;
  close(): Promise<void>;
}

// ─── Bus (Pub/Sub) ──────────────────────────────────────────────────────────────────────────
// Owned by the database side (issue 2). Adapters: adapters/pubsub-bus.ts (Google Pub/Sub and its
// emulator) and adapters/memory-bus.ts (in process); test/support/bus-contract.ts holds them to
// the same semantics: at-least-once, per-ordering-key order, redelivery after a nack or an
// ack-deadline timeout, dead-lettering after maxDeliveryAttempts.

/** A message to publish. */
export interface BusMessage {
  data: Uint8Array;
  /** Messages with the same ordering key are delivered in publish order (one at a time). */
  orderingKey?: string;
  attributes?: Record<string, string>;
}

/** A delivered message. The same message may be delivered more than once. */
export interface ReceivedMessage {
  /** The bus's id for the message; the same on every redelivery. */
  id: string;
  data: Buffer;
  orderingKey: string | undefined;
  attributes: Record<string, string>;
  /** 1 on the first delivery, counting up on each redelivery. */
  deliveryAttempt: number;
  publishTime: Date;
}

export interface SubscriptionSettings {
  topic: string;
  /**
   * Time the handler has to settle; past it the message is redelivered (and the handler's late
   * result ignored). Pub/Sub allows 10-600 s.
   */
  ackDeadlineSeconds?: number;
  /** After this many failed deliveries the message goes to the dead-letter topic (Pub/Sub: 5-100). */
  deadLetter?: { topic: string; maxDeliveryAttempts: number };
}

/**
 * Resolving acknowledges the message; throwing (or rejecting) nacks it, so it is redelivered.
 * A handler must be idempotent: every delivery is at-least-once.
 */
export type MessageHandler = (message: ReceivedMessage) => Promise<void>;

export interface Subscription {
  /** Stops receiving; in-flight handlers finish, their messages are settled. */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Messages handed out and not yet settled, at most. */
  maxInFlight?: number;
  /**
   * Without it a key's next message waits for the previous one's handler to settle. With it,
   * every message of a key that is waiting when the key's handlers have settled is handed out
   * at once: handlers are called in publish order, each before the next, in one turn of the
   * event loop, and the key's next batch waits until all of them settle. For a handler that
   * queues its message synchronously into an order-keeping group commit (runtime/subscriber.ts,
   * which then keeps per-row order itself): one flush takes every waiting message of a key
   * instead of one, so small messages do not queue up behind a slow flush. A nacked message is
   * redelivered before the key's later messages that were not yet handed out.
   */
  keyBatches?: boolean;
}

export interface Bus {
  /** Creates the topic if it does not exist (idempotent). */
  ensureTopic(topic: string): Promise<void>;
  /** Creates the subscription with message ordering on if it does not exist (idempotent). */
  ensureSubscription(subscription: string, settings: SubscriptionSettings): Promise<void>;
  /**
   * Publishes in order and resolves with the message ids only after the bus has acknowledged
   * every message (it is durable). Rejects, with nothing to assume about which were stored, if
   * any was not.
   */
  publish(topic: string, messages: readonly BusMessage[]): Promise<string[]>;
  subscribe(subscription: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  close(): Promise<void>;
}
