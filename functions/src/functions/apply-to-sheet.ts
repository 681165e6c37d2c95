/**
 * applyToSheet: applies database changes (topic `sheetsync-db-changes`) to the sheet.
 *
 * One flush per batch of concurrent deliveries (group commit, 200 ms window by default), per
 * link: one read of the tab (headers, `_sheetsync_id` column, row positions and current values),
 * the core's decision per change (duplicates dropped, echoes of applyToDb's own writes skipped
 * except for values the DB added, such as a serial key), then at most three write requests
 * (structure, changed cells, deletes and appends; SheetTab), then one version-store commit.
 * The store commit comes after the sheet write: a crash between them redelivers, and the
 * decision then finds the sheet already showing the values and writes nothing new.
 */
import { createHash } from 'node:crypto';
import type { SheetTab, SheetValue, TabSnapshot, TabWrite } from '../adapters/sheets/sheet-tab.ts';
import type { Cells } from '../core/cell-value.ts';
import { fromDb, fromSheet, SHEET_CELL_MAX_CHARS, tooLongForSheet, toSheet } from '../core/coercion.ts';
import { type ColumnType, parseColumnType } from '../core/column-type.ts';
import { keyId } from '../core/key-id.ts';
import {
  type DbDecision,
  mergeDbChange,
  stampSheetWrites,
  truncateDeletes,
} from '../core/merge-db-change.ts';
import { mergeRowDocuments, type RowDocument } from '../core/row-document.ts';
import type { Logger } from '../log.ts';
import { type RowCommit, type SheetEpochs, type VersionStore, WRITE_HOLD_MS } from '../ports.ts';
import { withinColumns } from '../relay/column-filter.ts';
import type { DbChangeMessage } from '../wire/db-change.ts';
import type { RowChange } from '../wire/row-change.ts';
import type { DeliveryOutcome } from './apply-to-db.ts';

/** One Pub/Sub delivery: a batch of changes (wire/db-change.ts parseDbChanges), in order. */
export interface DbDelivery {
  message: DbChangeMessage[];
  attempt: number;
}

/** One change of a delivery, as a flush handles it. */
interface ChangeItem {
  message: DbChangeMessage;
  delivery: number;
}

export interface ApplyToSheetDeps {
  store: VersionStore;
  /** link name → its tab, and whether table columns missing from the sheet get a header. */
  links: Map<string, { tab: SheetTab; addMissingHeaders: boolean; columns?: readonly string[] }>;
  logger: Logger;
  now?: () => number;
}

export interface FlushStats {
  writeRequests: number;
  cellsWritten: number;
}

/** How often a flush held by the webhook (SheetEpochs.holdUntil) looks again. */
const HOLD_POLL_MS = 100;

/** The write hold in a SheetTab's change token (VersionStore.sheetEpochs), 0 without one. */
function heldUntil(token: unknown): number {
  const hold = (token as Partial<SheetEpochs> | undefined)?.holdUntil;
  return typeof hold === 'number' ? hold : 0;
}

export function createApplyToSheet(deps: ApplyToSheetDeps) {
  const now = deps.now ?? Date.now;
  const stats: FlushStats = { writeRequests: 0, cellsWritten: 0 };

  /**
   * A delivery is acked only when every one of its changes is: a redelivered batch repeats its
   * applied changes, which the version store then drops as duplicates.
   */
  /**
   * Row documents whose commit is under way, per link: a flush that starts before an earlier
   * one's commit finished (GroupCommit release) merges them into what it reads, as the store
   * will (mergeRowDocuments), and finds new rows' keys in them.
   */
  const inFlight = new Map<string, Map<string, RowDocument>>();

  async function flush(
    deliveries: readonly DbDelivery[],
    release?: (known: readonly DeliveryOutcome[]) => void,
  ): Promise<DeliveryOutcome[]> {
    const outcomes = new Array<DeliveryOutcome>(deliveries.length).fill('ack');
    const commits: Array<Promise<void>> = [];
    const byLink = new Map<string, ChangeItem[]>();
    deliveries.forEach((d, delivery) => {
      for (const message of d.message) {
        const items = byLink.get(message.link);
        if (items) items.push({ message, delivery });
        else byLink.set(message.link, [{ message, delivery }]);
      }
    });
    for (const [link, items] of byLink) {
      if (!deps.links.has(link)) {
        deps.logger.error('database change for an unknown link; check the config', {
          link,
          code: 'SHEETSYNC_E102',
        });
        for (const item of items) outcomes[item.delivery] = 'retry';
        continue;
      }
      // Columns outside the link's list never reach the sheet (relay/column-filter.ts).
      const { columns } = deps.links.get(link)!;
      const written = await flushLink(
        link,
        columns ? items.map((item) => ({ ...item, message: withinColumns(item.message, columns) })) : items,
      );
      commits.push(written.commit);
      items.forEach((item, j) => {
        if (written.outcomes[j] === 'retry') outcomes[item.delivery] = 'retry';
      });
    }
    // Every sheet write is done and every kept snapshot shows it: the next flush may start while
    // the version-store commits finish. A delivery is acked only after its commit.
    release?.(outcomes);
    await Promise.all(commits);
    return outcomes;
  }

  /** Decides and writes one link's changes; `commit` finishes with the version-store commit. */
  async function flushLink(
    link: string,
    deliveries: ChangeItem[],
  ): Promise<{ outcomes: DeliveryOutcome[]; commit: Promise<void> }> {
    const { tab, addMissingHeaders } = deps.links.get(link)!;
    const outcomes = new Array<DeliveryOutcome>(deliveries.length).fill('ack');
    const types = new Map<string, ColumnType>();
    const typeOf = (column: string, message: DbChangeMessage) => {
      let type = types.get(column);
      if (!type) {
        type = parseColumnType(message.types[column] ?? 'text');
        types.set(column, type);
      }
      return type;
    };
    const canonical = (cells: Record<string, unknown>, message: DbChangeMessage): Cells => {
      const out: Cells = {};
      for (const [column, value] of Object.entries(cells)) {
        const coerced = fromDb(value as Cells[string], typeOf(column, message));
        out[column] = coerced.ok ? coerced.value : (value as Cells[string]);
      }
      return out;
    };

    // Primary key → rowId, by direct reads of the key documents.
    const keys = deliveries.map(({ message }) => canonical(message.key, message));
    const previous = deliveries.map(({ message }) =>
      message.previousKey ? canonical(message.previousKey, message) : undefined,
    );
    const started = performance.now();
    /** How long the oldest change waited before this flush began (relay, Pub/Sub, the window). */
    // A loop, not Math.min(...): a bulk statement puts hundreds of thousands of changes in a flush.
    let oldest = Number.POSITIVE_INFINITY;
    for (const { message } of deliveries) oldest = Math.min(oldest, Date.parse(message.time));
    const queuedMs = Math.max(0, now() - oldest);
    const phaseMs: Record<string, number> = {};
    const phase = (name: string) => {
      phaseMs[name] = Math.round(performance.now() - started);
    };
    const pendingDocs = inFlight.get(link) ?? new Map<string, RowDocument>();
    inFlight.set(link, pendingDocs);
    const isTruncate = (message: DbChangeMessage) => message.op === 'TRUNCATE';
    const known = await deps.store.rowIdsForKeys(link, [
      ...keys.filter((_, i) => !isTruncate(deliveries[i]!.message)),
      ...previous.filter((k): k is Cells => k !== undefined),
    ]);
    // Keys of rows an earlier flush is still committing. A key inserted again after a DELETE or
    // TRUNCATE may name its new row only there while its key document still names the old one.
    const pendingLive = new Map<string, string>();
    for (const doc of pendingDocs.values()) {
      if (!doc.key || doc.tombstone) continue;
      pendingLive.set(keyId(doc.key), doc.rowId);
      if (!known.has(keyId(doc.key))) known.set(keyId(doc.key), doc.rowId);
    }
    const rowIds = deliveries.map(({ message }, i) => {
      if (isTruncate(message)) return undefined;
      const found = known.get(keyId(previous[i] ?? keys[i]!)) ?? known.get(keyId(keys[i]!));
      if (found) return found;
      return message.op === 'DELETE' ? undefined : rowIdForNewRow(link, message.changeId);
    });
    const isDbInsert = (message: DbChangeMessage) => message.op === 'INSERT' && message.origin !== 'sheet';
    /** The row a DB INSERT creates if its key's row was deleted (read in case a redelivery made it). */
    const reinserts = deliveries.flatMap(({ message }, i) =>
      isDbInsert(message) && rowIds[i] !== rowIdForNewRow(link, message.changeId)
        ? [rowIdForNewRow(link, message.changeId)]
        : [],
    );
    // A TRUNCATE deletes every row the database wrote before it: the link's live rows, those an
    // earlier flush is still committing (listed before the query, so none falls between), and
    // those this flush writes. Rare, so a query is fine.
    const truncating = deliveries.some(({ message }) => isTruncate(message));
    const pendingIds = truncating ? [...pendingDocs.keys()] : [];
    const liveIds = truncating ? await deps.store.liveRowIds(link) : [];
    // A TRUNCATE is the operator's own act, so it is not held (core/mass-change.ts), but a
    // whole tab going is worth a line a person finds.
    if (truncating)
      deps.logger.warn(
        `the table of link ${link} was truncated: its ${liveIds.length} rows leave the sheet`,
        {
          code: 'SHEETSYNC_E422',
          link,
          count: liveIds.length,
        },
      );

    phase('keysMs');
    const readIds = new Set(
      [...rowIds, ...reinserts, ...pendingIds, ...liveIds].filter((id): id is string => id !== undefined),
    );
    // After in-place edits in the sheet (and for a big tab read without its values), the rows
    // this flush decides on are read again, their positions proven by their ids, not the whole
    // tab. Rows it only deletes (a DELETE, a TRUNCATE) need their place, not their values.
    const valueIds = [
      ...rowIds.filter((_, i) => deliveries[i]!.message.op !== 'DELETE'),
      ...reinserts,
    ].filter((id): id is string => id !== undefined);
    let read = await tab.read();
    // While the script writes the ids of rows sorted without them, a row's id names the row whose
    // values it held before the sort: the webhook holds the tab's writes (SheetEpochs.holdUntil)
    // until the script's next event. Wait, reading the token (and then the tab) again.
    for (let polls = 0; heldUntil(tab.lastToken) > now() && polls < WRITE_HOLD_MS / HOLD_POLL_MS; polls++) {
      if (polls === 0) deps.logger.info('sheet writes held: rows may be sorted without their ids', { link });
      await new Promise((resolve) => setTimeout(resolve, HOLD_POLL_MS));
      read = await tab.read();
      phase('heldMs');
    }
    const snapshot = await tab.verify(read, valueIds, readIds);
    phase('tabReadMs');
    const docs = await deps.store.readRows(link, [...readIds]);
    for (const rowId of readIds) {
      const pending = pendingDocs.get(rowId);
      if (pending) docs.set(pending.rowId, mergeRowDocuments(docs.get(pending.rowId), pending));
    }
    phase('docsMs');
    const headerOf = headerResolver(snapshot.headers);
    const headerless = snapshot.headers.every((h) => h === '' || h === '_sheetsync_id');
    const addHeaders: string[] = [];
    const header = (column: string): string | undefined => {
      const found = headerOf(column);
      if (found !== undefined) return found;
      // A column the link lists is the operator's choice, and a tab with no headers yet shows its
      // table as attach would; a column added to the table later only with addMissingHeaders.
      const allowed = addMissingHeaders || deps.links.get(link)!.columns !== undefined || headerless;
      if (!allowed || column === '_sheetsync_id') return undefined;
      if (!addHeaders.includes(column)) addHeaders.push(column);
      return column;
    };

    const working = new Map<string, RowDocument | undefined>();
    const written = new Map<string, Set<string>>();
    const updates = new Map<string, Record<string, SheetValue>>();
    const appends = new Map<string, Record<string, SheetValue>>();
    /** New rows go to the sheet in the order the database committed them, whatever the bucket. */
    const appendOrder = new Map<string, number>();
    /** Rows coming back after a delete the database refused: put where they were, when known. */
    const returnRows = new Set<string>();
    const deletes = new Set<string>();
    const pendingRows = new Map<string, Cells>();
    /** Rows with a deferred change: their later changes in this flush wait too (per-row order). */
    const deferredRows = new Set<string>();

    /** Primary key → rowId as this flush's changes leave it (a key inserted again gets a new row). */
    const flushKeys = new Map<string, string>();
    const current = (rowId: string) =>
      working.has(rowId) ? working.get(rowId) : (docs.get(rowId) ?? pendingDocs.get(rowId));

    deliveries.forEach(({ message }, i) => {
      if (isTruncate(message)) {
        truncate(message, i);
        return;
      }
      let rowId =
        flushKeys.get(keyId(previous[i] ?? keys[i]!)) ?? flushKeys.get(keyId(keys[i]!)) ?? rowIds[i];
      if (!rowId) return; // a delete of a row sheetsync never synced
      if (current(rowId)?.tombstone) {
        const key = keyId(previous[i] ?? keys[i]!);
        const alive = pendingLive.get(key);
        if (alive && alive !== rowId && !current(alive)?.tombstone && !flushKeys.has(key)) {
          // The key was inserted again by an earlier flush, whose commit is under way.
          rowId = alive;
        } else if (isDbInsert(message)) {
          // The key's row was deleted (DELETE, TRUNCATE) and the database inserted the key again.
          rowId = rowIdForNewRow(link, message.changeId);
        }
      }
      if (deferredRows.has(rowId)) {
        outcomes[i] = 'retry';
        return;
      }
      if (message.op !== 'DELETE') flushKeys.set(keyId(keys[i]!), rowId);
      const doc = current(rowId);
      const echo = message.origin === 'sheet' && message.dot?.startsWith('sheet:');
      const change: RowChange = {
        link,
        rowId,
        op: message.op === 'DELETE' ? 'delete' : 'upsert',
        cells: canonical(message.cells, message),
        origin: echo ? 'sheet' : 'db',
        dot: echo ? message.dot! : `db:${message.changeId}`,
        outboxId: message.changeId,
        time: { wall: Date.parse(message.time), logical: 0 },
      };
      const decision = mergeDbChange(doc, change, {
        sheetRow: pendingRows.get(rowId) ?? sheetRow(snapshot, rowId, headerOf, message, typeOf),
        now: now(),
        key: keys[i]!,
        inserted: isDbInsert(message),
      });
      if (decision.kind === 'duplicate') return;
      if (decision.kind === 'defer') {
        outcomes[i] = 'retry';
        deferredRows.add(rowId);
        return;
      }
      show(rowId, decision, message);
    });

    /** The rows a TRUNCATE deletes, each decided as a DELETE with the truncate's dot. */
    function truncate(message: DbChangeMessage, i: number) {
      for (const rowId of new Set([...liveIds, ...pendingIds, ...working.keys()])) {
        const doc = current(rowId);
        if (!doc || !truncateDeletes(doc, message.changeId)) continue;
        if (deferredRows.has(rowId)) {
          // An earlier change of the row waits for its redelivery; so does the truncate.
          outcomes[i] = 'retry';
          continue;
        }
        const decision = mergeDbChange(
          doc,
          {
            link,
            rowId,
            op: 'delete',
            cells: {},
            origin: 'db',
            dot: `db:${message.changeId}`,
            outboxId: message.changeId,
            time: { wall: Date.parse(message.time), logical: 0 },
          },
          {
            sheetRow: pendingRows.get(rowId) ?? sheetRow(snapshot, rowId, headerOf, message, typeOf),
            now: now(),
            ...(doc.key ? { key: doc.key } : {}),
          },
        );
        if (decision.kind === 'apply') show(rowId, decision, message);
      }
    }

    /** Takes a decision into the row's working document and this flush's sheet writes. */
    function show(rowId: string, decision: Extract<DbDecision, { kind: 'apply' }>, message: DbChangeMessage) {
      const known = current(rowId) !== undefined;
      working.set(rowId, decision.next);
      const sheetCells: Record<string, SheetValue> = {};
      for (const [column, value] of Object.entries(decision.cells)) {
        const h = header(column);
        if (h === undefined) continue;
        const type = typeOf(column, message);
        const shown = toSheet(value, type);
        sheetCells[h] = shown;
        // (A preview is SHEET_CELL_MAX_CHARS long, or one less for a surrogate pair at its cut.)
        if (
          typeof shown === 'string' &&
          shown.length >= SHEET_CELL_MAX_CHARS - 1 &&
          tooLongForSheet(value, type)
        ) {
          deps.logger.warn(
            `SHEETSYNC_E509: the value of ${column} is longer than a sheet cell holds (50,000 characters); the sheet shows its start and a note, the table keeps it whole`,
            { link, rowId, column, code: 'SHEETSYNC_E509', op: 'applyToSheet' },
          );
        }
      }
      const columns = written.get(rowId) ?? new Set<string>();
      for (const column of Object.keys(decision.cells)) columns.add(column);
      written.set(rowId, columns);
      if (decision.write === 'append') {
        if (!appends.has(rowId)) appendOrder.set(rowId, message.changeId);
        // A row with a live document: a delete the database refused brings it back.
        if (known) returnRows.add(rowId);
        appends.set(rowId, { ...appends.get(rowId), ...sheetCells });
        pendingRows.set(rowId, { ...decision.cells });
      } else if (decision.write === 'update') {
        if (appends.has(rowId)) appends.set(rowId, { ...appends.get(rowId), ...sheetCells });
        else updates.set(rowId, { ...updates.get(rowId), ...sheetCells });
        // Later changes of the row in this flush are decided against what this one writes, not the
        // snapshot: a change that sets a cell back to what the sheet shows now is not a no-op.
        const shown = pendingRows.get(rowId) ?? sheetRow(snapshot, rowId, headerOf, message, typeOf);
        if (shown) pendingRows.set(rowId, { ...shown, ...decision.cells });
      } else if (decision.write === 'delete') {
        deletes.add(rowId);
        updates.delete(rowId);
        pendingRows.delete(rowId);
        if (appends.delete(rowId)) deletes.delete(rowId); // never reached the sheet
      }
    }

    const ordered = [...appends].sort(([a], [b]) => (appendOrder.get(a) ?? 0) - (appendOrder.get(b) ?? 0));
    const inserts: NonNullable<TabWrite['inserts']> = [];
    const deleting = [...deletes];
    for (const [rowId, cells] of ordered) {
      const row = returnRows.has(rowId) ? tab.returnRow(rowId, snapshot, deleting) : undefined;
      if (row !== undefined) inserts.push({ rowId, row, cells });
    }
    const inserted = new Set(inserts.map((i) => i.rowId));
    const result = await tab.write(snapshot, {
      updates: [...updates].map(([rowId, cells]) => ({ rowId, cells })),
      appends: ordered.filter(([rowId]) => !inserted.has(rowId)).map(([rowId, cells]) => ({ rowId, cells })),
      inserts,
      deletes: deleting,
      addHeaders,
    });
    phase('tabWriteMs');
    stats.writeRequests += result.writeRequests;
    stats.cellsWritten += result.cellsWritten;
    const writtenAt = now();
    const commits: RowCommit[] = [];
    for (const [rowId, doc] of working) {
      if (!doc) continue;
      const stamped = stampSheetWrites(doc, written.get(rowId) ?? [], writtenAt);
      // An appended row is on the sheet from now on (RowDocument.onSheetSince).
      commits.push({ next: appends.has(rowId) ? { ...stamped, onSheetSince: writtenAt } : stamped });
    }
    for (const { next } of commits) pendingDocs.set(next.rowId, next);
    const commit = commitConcurrently(deps.store, link, commits).finally(() => {
      // Committed (or failed: the deliveries are redelivered and decided again).
      for (const { next } of commits)
        if (pendingDocs.get(next.rowId) === next) pendingDocs.delete(next.rowId);
    });
    const finish = commit.then(() => {
      phase('storeCommitMs');
      log();
    });
    // Awaited by flush() after the other links' writes; until then a failure is not unhandled.
    finish.catch(() => {});
    return { outcomes, commit: finish };

    function log() {
      // One line per row written, so Logs Explorer can follow a row by rowId.
      for (const [rowId, kind] of [
        ...[...updates.keys()].map((id) => [id, 'update'] as const),
        ...[...appends.keys()].map((id) => [id, 'append'] as const),
        ...[...deletes].map((id) => [id, 'delete'] as const),
      ]) {
        deps.logger.info(`${kind} of a sheet row from the table`, {
          link,
          rowId,
          op: 'applyToSheet',
          origin: 'db',
        });
      }
      deps.logger.info('applied database changes', {
        link,
        op: 'applyToSheet',
        origin: 'db',
        count: deliveries.length,
        writeRequests: result.writeRequests,
        queuedMs,
        ...phaseMs,
        latencyMs: Math.max(0, writtenAt - oldest),
      });
    }
  }

  /** Waits until every link's Sheets API could write (GroupCommitOptions.ready). */
  const apis = [...new Set([...deps.links.values()].map((l) => l.tab.api))];
  async function ready(): Promise<void> {
    await Promise.all(apis.map((api) => api.writeReady()));
  }

  return { flush, stats, ready };
}

/** Rows per concurrent version-store commit, and commits in flight at once. */
const COMMIT_SLICE = 500;
const COMMIT_CONCURRENCY = 4;

/**
 * Commits row documents in concurrent slices: a bulk flush touches thousands of distinct
 * documents, so slices never contend, and one slow transaction (the Firestore emulator manages a
 * few hundred a second) does not serialize the rest.
 */
async function commitConcurrently(store: VersionStore, link: string, commits: RowCommit[]) {
  const slices: RowCommit[][] = [];
  for (let i = 0; i < commits.length; i += COMMIT_SLICE) slices.push(commits.slice(i, i + COMMIT_SLICE));
  let next = 0;
  const worker = async () => {
    while (next < slices.length) await store.commitRows(link, slices[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(COMMIT_CONCURRENCY, slices.length) }, worker));
}

/**
 * The sync id of a row the database inserted: derived from the link and the insert's change id,
 * so a redelivered insert names the same row (and finds it on the sheet) instead of appending a
 * second copy. Formatted as an RFC 4122 version 5-style UUID.
 */
export function rowIdForNewRow(link: string, changeId: number): string {
  const hex = createHash('sha256').update(`sheetsync:${link}:${changeId}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Column name → the sheet header that shows it (exact match first, then ignoring case and spaces). */
function headerResolver(headers: readonly string[]): (column: string) => string | undefined {
  const loose = (s: string) =>
    s
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, '_');
  const exact = new Set(headers);
  const byLoose = new Map<string, string>();
  for (const h of headers) if (h && !byLoose.has(loose(h))) byLoose.set(loose(h), h);
  return (column) => (exact.has(column) ? column : byLoose.get(loose(column)));
}

/** The sheet's current values of a row, canonical per column type; null when no row has the id. */
function sheetRow(
  snapshot: TabSnapshot,
  rowId: string,
  headerOf: (column: string) => string | undefined,
  message: DbChangeMessage,
  typeOf: (column: string, message: DbChangeMessage) => ColumnType,
): Cells | null {
  const row = snapshot.rows.get(rowId);
  if (!row) return null;
  const cells: Cells = {};
  for (const column of Object.keys(message.types)) {
    const h = headerOf(column);
    if (h === undefined) continue;
    const raw = row.values[snapshot.headers.indexOf(h)] ?? null;
    const coerced = fromSheet(raw === '' ? null : raw, typeOf(column, message));
    cells[column] = coerced.ok ? coerced.value : raw;
  }
  return cells;
}
