/**
 * applyToDb: applies sheet changes (topic `sheetsync-sheet-changes`) to PostgreSQL.
 *
 * One flush (group commit) per batch of concurrent deliveries, per link:
 *   1. read the row documents of every row in the batch (one batched read);
 *   2. in one PostgreSQL transaction (origin 'sheet'): lock the rows `FOR UPDATE`, decide each
 *      change with the core (duplicate / defer / apply, conflicts by policy), write set-based
 *      upserts and deletes of the changed columns only, each statement tagged with its dot;
 *   3. after PostgreSQL committed, commit the row documents and conflict records in one batched
 *      version-store commit. A crash between 2 and 3 redelivers the messages; the decision then
 *      finds the DB already holding the values and writes nothing new.
 * Once every PostgreSQL transaction of a flush committed, the next flush may start (GroupCommit
 * release) while this one's version-store commit runs; it merges the documents still being
 * committed into what it reads. Deliveries are acked only after their commit.
 *
 * A delivery is a batch message (wire/sheet-change.ts: the changes of one link and key bucket,
 * in order); its changes join the flush like any others. Outcomes per delivery: `ack` when every
 * one of its changes was applied, a duplicate, or permanently bad and reported; `retry` when one
 * was deferred (until applyToSheet recorded a DB change in flight) or a flush failed. A retried
 * batch comes back whole; its applied changes are then duplicates (event id known to the row
 * document) and dropped. Within a flush, the later changes of a row with a deferred change wait
 * too, so per-row order holds.
 *
 * Problems for people (a value of the wrong type for its column E407, a header not in the table
 * E408, a row the database refused E409, E413, E414) go to `reportProblems` once per flush (the sheet's
 * errors tab, adapters/sheets/errors-tab.ts), only for changes this flush applied: a duplicate
 * or deferred change reports nothing, so redeliveries add no rows to the tab. The bad cell is
 * left out, the rest of the row is written, and the message is acked: no retry storm. A failed
 * report is logged (SHEETSYNC_E505) and does not fail the flush.
 */

import type { Cells } from '../core/cell-value.ts';
import { isResolutionEventId } from '../core/conflict-resolution.ts';
import type { RowCommit } from '../ports.ts';
import type { SheetChangeMessage } from '../wire/sheet-change.ts';
import { decideChanges, type FlushState, keyFromCells } from './apply-to-db/decide.ts';
import {
  type DecodedChange,
  decodeChange,
  dropPreviews,
  type LinkTable,
  linkTables,
} from './apply-to-db/decode.ts';
import { logFlush } from './apply-to-db/flush-log.ts';
import { decideMarks, type LinkCellMark } from './apply-to-db/marks.ts';
import { planMissingColumns, refuseColumnNames } from './apply-to-db/missing-columns.ts';
import type { ApplyToDbDeps, RowProblem, SheetDelivery } from './apply-to-db/types.ts';
import { writeDecisions } from './apply-to-db/write.ts';
import {
  type ChangeItem,
  commitDocuments,
  createLimiter,
  type DeliveryOutcome,
  flushByLink,
  InFlightDocs,
  type LinkFlush,
  overlayInFlight,
  STORE_CONCURRENCY,
  whileInFlight,
} from './flush-kernel.ts';

export type { ApplyToDbDeps, DbLink, RowProblem, SheetDelivery } from './apply-to-db/types.ts';
export { createLimiter, type DeliveryOutcome, type Limiter } from './flush-kernel.ts';

/**
 * A header unknown to a description this old makes the table described again: any description
 * from an earlier flush, since the column may have been added since. (A link whose sheet keeps a
 * header the table never had pays a few catalog queries per flush that carries that column.)
 */
const UNKNOWN_HEADER_REDESCRIBE_MS = 1;

export function createApplyToDb(deps: ApplyToDbDeps) {
  const now = deps.now ?? Date.now;
  const storeSlots = createLimiter(deps.storeConcurrency ?? STORE_CONCURRENCY);
  const loadTable = linkTables(deps.table, deps.links, now);
  const inFlight = new InFlightDocs();

  /**
   * Applies a group of deliveries; returns one outcome per delivery, in order. `release` (from
   * the group commit) is called once every PostgreSQL transaction of the group committed and
   * the outcomes are known: the next group may then start while this one's version-store
   * commits finish. A delivery is still acked only after its commit.
   */
  async function flush(
    deliveries: readonly SheetDelivery[],
    release?: (known: readonly DeliveryOutcome[]) => void,
  ): Promise<DeliveryOutcome[]> {
    const { outcomes, results } = await flushByLink(deliveries, {
      isKnown: (link) => deps.links.has(link),
      unknownLink: (link) =>
        deps.logger.error('sheet change for an unknown link; check the config', {
          link,
          code: 'SHEETSYNC_E102',
        }),
      flushLink,
      release,
    });
    const problems = results.flatMap((r) => r.problems);
    const marks = results.flatMap((r) => r.marks);
    const marking = marks.length > 0 && deps.markCells ? markCells(deps, marks) : undefined;
    const conflictLinks = results.filter((r) => r.conflictsChanged).map((r) => r.link);
    const showing =
      conflictLinks.length > 0 && deps.showConflicts ? showConflicts(deps, conflictLinks) : undefined;
    if (problems.length > 0 && deps.reportProblems) {
      try {
        await deps.reportProblems(problems);
      } catch (error) {
        deps.logger.error(
          `could not report ${problems.length} problems to the sheet: ${(error as Error).message}`,
          {
            code: 'SHEETSYNC_E505',
          },
        );
      }
    }
    await marking;
    await showing;
    return outcomes;
  }

  async function flushLink(
    link: string,
    items: ChangeItem<SheetChangeMessage>[],
  ): Promise<
    LinkFlush & { link: string; problems: RowProblem[]; marks: LinkCellMark[]; conflictsChanged: boolean }
  > {
    const started = now();
    let table = await loadTable(link);
    const messages = items.map((item) => item.message);
    let decoded: DecodedChange[] = messages.map((message) => decodeChange(link, table, message));
    // A header the table seems not to have may be a column added since the table was described.
    const unknownHeader = decoded.some((d) => d.problems.some((p) => p.code === 'SHEETSYNC_E408'));
    if (unknownHeader && loadTable.refresh(link, UNKNOWN_HEADER_REDESCRIBE_MS)) {
      table = await loadTable(link);
      decoded = messages.map((message) => decodeChange(link, table, message));
    }
    // With addMissingColumns, headers the table still lacks become table columns.
    if (deps.links.get(link)!.addMissingColumns && unknownHeader) {
      table = await addMissingColumns(link, table, messages, decoded);
      decoded = messages.map((message) => decodeChange(link, table, message));
      refuseColumnNames(decoded);
    }
    const { schema } = table;
    const changes = decoded.map((d) => d.change);

    const rowIds = [...new Set(changes.map((c) => c.rowId))];
    // Rows the sheet marks new (the script just gave them their id) have no document unless this
    // is a redelivery, which sheetsync.row_ids tells inside the transaction: their documents are
    // not read here (a paste is mostly such rows, and the read is a round trip per flush).
    const pendingDocs = inFlight.of(link);
    const newRows = new Set(rowIds);
    for (const message of messages) if (!message.isNew) newRows.delete(message.rowId);
    for (const id of pendingDocs.keys()) newRows.delete(id);
    const docs = await deps.store.readRows(
      link,
      rowIds.filter((id) => !newRows.has(id)),
    );
    overlayInFlight(docs, pendingDocs, rowIds);
    dropPreviews(decoded, docs, table.types);
    const state: FlushState = {
      outcomes: new Array<DeliveryOutcome>(items.length).fill('ack'),
      problems: [],
      unknownHeaders: new Set(),
      commits: new Map<string, RowCommit>(),
      applied: [],
    };
    const read = now();

    /**
     * The flush's transaction; `immediate`: every constraint checked per statement. A constraint
     * declared DEFERRABLE INITIALLY DEFERRED is checked at COMMIT, where a row it refuses fails
     * the whole transaction instead of its statement (which the writer retries row by row): then
     * the flush runs once more with `immediate`, so that row is reported alone and the rest applies.
     */
    const applyInTransaction = (immediate: boolean) =>
      deps.table.inSheetTransaction(
        async (tx) => {
          // New rows applyToDb inserted before (a redelivery, or a retry after the version-store
          // commit failed): their key from sheetsync.row_ids, and their documents after all.
          const inserted = await tx.insertedKeys(link, [...newRows]);
          if (inserted.size > 0) {
            for (const [id, doc] of await deps.store.readRows(link, [...inserted.keys()])) docs.set(id, doc);
          }
          const knownKey = (rowId: string) => docs.get(rowId)?.key ?? inserted.get(rowId);
          // Lock the rows we know, and rows the sheet names by a key it typed.
          const keys: Cells[] = [];
          for (const rowId of rowIds) {
            const key = knownKey(rowId);
            if (key) keys.push(key);
          }
          for (const change of changes) {
            const typed = keyFromCells(schema, change.cells);
            if (typed && !knownKey(change.rowId)) keys.push(typed);
          }
          const dbRows = await tx.readForUpdate(schema, keys);
          const writes = decideChanges(
            {
              schema,
              policy: deps.links.get(link)!.policy,
              now,
              decoded,
              attempts: items.map((item) => item.attempt),
              rowIds,
              docs,
              inserted,
              dbRows,
            },
            state,
          );
          await writeDecisions(tx, { link, schema, store: deps.store, messages, writes }, state);
        },
        { immediate },
      );
    try {
      await applyInTransaction(false);
    } catch (error) {
      // The table changed under its description: the redelivery describes it again.
      if (deps.table.isTableChanged(error)) loadTable.forget(link);
      if (!deps.table.isRowRefusal(error)) throw error;
      // Nothing of the attempt was committed: it starts again from the documents it read.
      state.outcomes.fill('ack');
      state.problems.length = 0;
      state.unknownHeaders.clear();
      state.commits.clear();
      state.applied.length = 0;
      await applyInTransaction(true);
    }
    // Refused cells marked on the sheet, marks of cells whose value now synced cleared; the
    // documents keep which cells are marked (apply-to-db/marks.ts).
    const marks = decideMarks(
      { link, decoded, applied: state.applied, problems: state.problems, docs },
      state.commits,
    );

    const written = now();
    const committing = [...state.commits.values()];
    const commit = (async () => {
      await whileInFlight(pendingDocs, committing, async () => {
        if (committing.length > 0) await commitDocuments(deps.store, link, docs, committing, storeSlots);
      });
      logFlush(deps.logger, now, link, messages, state, { started, read, written, stored: now() });
    })();
    // Awaited by flush after the other links; a rejection meanwhile is not unhandled.
    commit.catch(() => {});
    // Conflicts recorded, or one resolved (its change applied): the conflicts tab lists them anew.
    const conflictsChanged =
      [...state.commits.values()].some((c) => (c.conflicts ?? []).length > 0) ||
      state.applied.some((i) => isResolutionEventId(decoded[i]!.change.eventId));
    return { link, outcomes: state.outcomes, problems: state.problems, marks, conflictsChanged, commit };
  }

  /**
   * Adds the columns of headers the table lacks (missing-columns.ts) and describes the table
   * again; a failure (say, sheetsync may not alter the table) is logged and the headers stay
   * reported as E408.
   */
  async function addMissingColumns(
    link: string,
    table: LinkTable,
    messages: readonly SheetChangeMessage[],
    decoded: readonly DecodedChange[],
  ): Promise<LinkTable> {
    const unknown = decoded.flatMap((d) =>
      d.problems.filter((p) => p.code === 'SHEETSYNC_E408' && p.column !== undefined).map((p) => p.column!),
    );
    const plan = planMissingColumns(unknown, messages);
    if (plan.add.length === 0 || !deps.table.addColumns) return table;
    const names = plan.add.map((c) => `${c.name} (${c.type})`).join(', ');
    try {
      await deps.table.addColumns(table.schema, plan.add);
    } catch (error) {
      deps.logger.warn(
        `could not add columns ${names} to table ${table.schema.qualified} for new sheet headers (links[].addMissingColumns): ${(error as Error).message}. Add them yourself, or grant sheetsync's role ownership of the table`,
        { link, code: 'SHEETSYNC_E428' },
      );
      return table;
    }
    deps.logger.info(`added columns ${names} to table ${table.schema.qualified} for new sheet headers`, {
      link,
      code: 'SHEETSYNC_E427',
    });
    loadTable.forget(link);
    return loadTable(link);
  }

  return { flush };
}

/** Rewrites the conflicts tabs of `links`; a failure is logged (SHEETSYNC_E432). */
async function showConflicts(deps: ApplyToDbDeps, links: string[]): Promise<void> {
  try {
    await deps.showConflicts!(links);
  } catch (error) {
    deps.logger.error(`could not write the conflicts tab: ${(error as Error).message}`, {
      code: 'SHEETSYNC_E432',
    });
  }
}

/** Sends a flush's marks; a failure is logged (SHEETSYNC_E431), the errors tab still lists them. */
async function markCells(deps: ApplyToDbDeps, marks: LinkCellMark[]): Promise<void> {
  try {
    await deps.markCells!(marks);
  } catch (error) {
    deps.logger.error(`could not mark ${marks.length} cells in the sheet: ${(error as Error).message}`, {
      code: 'SHEETSYNC_E431',
    });
  }
}
