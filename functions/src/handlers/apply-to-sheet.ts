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

import type { SheetProblem } from '../adapters/sheets/errors-tab.ts';
import { renamedHeaders } from '../core/header-match.ts';
import { stampSheetWrites } from '../core/merge-db-change.ts';
import type { Logger } from '../log.ts';
import type { Sheet, TabSnapshot, TabWrite } from '../ports/sheet.ts';
import { type RowCommit, type SheetEpochs, type VersionStore, WRITE_HOLD_MS } from '../ports.ts';
import { withinColumns } from '../relay/column-filter.ts';
import type { DbChangeMessage } from '../wire/db-change.ts';
import { ColumnTypes, headerResolver } from './apply-to-sheet/column-values.ts';
import { decideChanges, type SheetWrites } from './apply-to-sheet/decide.ts';
import { changeRows, isTruncate } from './apply-to-sheet/row-ids.ts';
import { headerRenames, schemaShift } from './apply-to-sheet/schema-changes.ts';
import { logSchema, reportDropped } from './apply-to-sheet/schema-reports.ts';
import {
  type ChangeItem,
  commitConcurrently,
  type DeliveryOutcome,
  flushByLink,
  InFlightDocs,
  type LinkFlush,
  overlayInFlight,
  whileInFlight,
} from './flush-kernel.ts';

export { rowIdForNewRow } from './apply-to-sheet/row-ids.ts';

/** One Pub/Sub delivery: a batch of changes (wire/db-change.ts parseDbChanges), in order. */
export interface DbDelivery {
  message: DbChangeMessage[];
  attempt: number;
}

export interface ApplyToSheetDeps {
  store: VersionStore;
  /** link name → its tab, and whether table columns missing from the sheet get a header. */
  links: Map<string, { tab: Sheet; addMissingHeaders: boolean; columns?: readonly string[] }>;
  logger: Logger;
  /** Where problems for people go (the errors tab): a table column dropped (SHEETSYNC_E423). */
  reportProblems?: (problems: SheetProblem[]) => Promise<void>;
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
  const inFlight = new InFlightDocs();

  /**
   * A delivery is acked only when every one of its changes is: a redelivered batch repeats its
   * applied changes, which the version store then drops as duplicates.
   */
  async function flush(
    deliveries: readonly DbDelivery[],
    release?: (known: readonly DeliveryOutcome[]) => void,
  ): Promise<DeliveryOutcome[]> {
    const { outcomes } = await flushByLink(deliveries, {
      isKnown: (link) => deps.links.has(link),
      unknownLink: (link) =>
        deps.logger.error('database change for an unknown link; check the config', {
          link,
          code: 'SHEETSYNC_E102',
        }),
      flushLink: (link, items) => {
        // Columns outside the link's list never reach the sheet (relay/column-filter.ts).
        const { columns } = deps.links.get(link)!;
        return flushLink(
          link,
          columns ? items.map((item) => ({ ...item, message: withinColumns(item.message, columns) })) : items,
        );
      },
      // Every sheet write is done and every kept snapshot shows it: the next flush may start
      // while the version-store commits finish. A delivery is acked only after its commit.
      release,
    });
    return outcomes;
  }

  /** Decides and writes one link's changes; `commit` finishes with the version-store commit. */
  async function flushLink(link: string, items: ChangeItem<DbChangeMessage>[]): Promise<LinkFlush> {
    const { tab, addMissingHeaders } = deps.links.get(link)!;
    // SCHEMA changes (columns renamed, dropped, retyped) are applied here, not decided per row;
    // the other changes name their columns as the renamed headers will (schema-changes.ts).
    const shift = schemaShift(items.map((item) => item.message));
    const messages = shift.messages;
    const outcomes = new Array<DeliveryOutcome>(items.length).fill('ack');
    const dataOutcomes = new Array<DeliveryOutcome>(messages.length).fill('ack');
    const types = new ColumnTypes();
    const started = performance.now();
    /** How long the oldest change waited before this flush began (relay, Pub/Sub, the window). */
    // A loop, not Math.min(...): a bulk statement puts hundreds of thousands of changes in a flush.
    let oldest = Number.POSITIVE_INFINITY;
    for (const message of messages) oldest = Math.min(oldest, Date.parse(message.time));
    const queuedMs = Math.max(0, now() - oldest);
    const phaseMs: Record<string, number> = {};
    const phase = (name: string) => {
      phaseMs[name] = Math.round(performance.now() - started);
    };
    const pendingDocs = inFlight.of(link);
    const rows = await changeRows(deps.store, link, messages, types, pendingDocs);
    // A TRUNCATE deletes every row the database wrote before it: the link's live rows, those an
    // earlier flush is still committing (listed before the query, so none falls between), and
    // those this flush writes. Rare, so a query is fine.
    const truncating = messages.some(isTruncate);
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
      [...rows.rowIds, ...rows.reinserts, ...pendingIds, ...liveIds].filter(
        (id): id is string => id !== undefined,
      ),
    );
    // After in-place edits in the sheet (and for a big tab read without its values), the rows
    // this flush decides on are read again, their positions proven by their ids, not the whole
    // tab. Rows it only deletes (a DELETE, a TRUNCATE) need their place, not their values.
    const valueIds = [
      ...rows.rowIds.filter((_, i) => messages[i]!.op !== 'DELETE'),
      ...rows.reinserts,
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
    overlayInFlight(docs, pendingDocs, readIds);
    phase('docsMs');
    const { renames, clashes } = headerRenames(snapshot.headers, shift.renamed, headerResolver);
    logSchema(deps.logger, link, renames, clashes, shift.retyped);
    // Cells are decided against the headers as the write leaves them (TabWrite.renameHeaders).
    const shaped =
      renames.length > 0 ? { ...snapshot, headers: renamedHeaders(snapshot.headers, renames) } : snapshot;
    const headerOf = headerResolver(shaped.headers);
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

    const writes = decideChanges(
      {
        link,
        messages,
        rows,
        truncated: [...liveIds, ...pendingIds],
        docs,
        pendingDocs,
        snapshot: shaped,
        headerOf,
        header,
        types,
        now,
        logger: deps.logger,
      },
      dataOutcomes,
    );
    shift.positions.forEach((position, i) => {
      outcomes[position] = dataOutcomes[i]!;
    });
    const result = await tab.write(snapshot, {
      ...tabWrite(tab, snapshot, writes),
      addHeaders,
      ...(renames.length > 0 ? { renameHeaders: renames } : {}),
    });
    await reportDropped(deps, link, shift.dropped, headerOf);
    phase('tabWriteMs');
    stats.writeRequests += result.writeRequests;
    stats.cellsWritten += result.cellsWritten;
    const writtenAt = now();
    const commits = rowCommits(writes, writtenAt);
    const finish = whileInFlight(pendingDocs, commits, () =>
      commitConcurrently(deps.store, link, commits),
    ).then(() => {
      phase('storeCommitMs');
      log();
    });
    // Awaited by flush() after the other links' writes; until then a failure is not unhandled.
    finish.catch(() => {});
    return { outcomes, commit: finish };

    function log() {
      // One line per row written, so Logs Explorer can follow a row by rowId.
      for (const [rowId, kind] of [
        ...[...writes.updates.keys()].map((id) => [id, 'update'] as const),
        ...[...writes.appends.keys()].map((id) => [id, 'append'] as const),
        ...[...writes.deletes].map((id) => [id, 'delete'] as const),
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
        count: items.length,
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

/**
 * The flush's writes as one TabWrite (step 3): appends in the order the database committed
 * them, and rows coming back after a refused delete put where they were when the tab knows.
 */
function tabWrite(tab: Sheet, snapshot: TabSnapshot, writes: SheetWrites): Omit<TabWrite, 'addHeaders'> {
  const { appends, appendOrder } = writes;
  const ordered = [...appends].sort(([a], [b]) => (appendOrder.get(a) ?? 0) - (appendOrder.get(b) ?? 0));
  const inserts: NonNullable<TabWrite['inserts']> = [];
  const deleting = [...writes.deletes];
  for (const [rowId, cells] of ordered) {
    const row = writes.returnRows.has(rowId) ? tab.returnRow(rowId, snapshot, deleting) : undefined;
    if (row !== undefined) inserts.push({ rowId, row, cells });
  }
  const inserted = new Set(inserts.map((i) => i.rowId));
  return {
    updates: [...writes.updates].map(([rowId, cells]) => ({ rowId, cells })),
    appends: ordered.filter(([rowId]) => !inserted.has(rowId)).map(([rowId, cells]) => ({ rowId, cells })),
    inserts,
    deletes: deleting,
  };
}

/** The row documents to commit once the tab is written (step 4), stamped with the write. */
function rowCommits(writes: SheetWrites, writtenAt: number): RowCommit[] {
  const commits: RowCommit[] = [];
  for (const [rowId, doc] of writes.working) {
    if (!doc) continue;
    const stamped = stampSheetWrites(doc, writes.written.get(rowId) ?? [], writtenAt);
    // An appended row is on the sheet from now on (RowDocument.onSheetSince).
    commits.push({ next: writes.appends.has(rowId) ? { ...stamped, onSheetSince: writtenAt } : stamped });
  }
  return commits;
}
