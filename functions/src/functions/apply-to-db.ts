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

import type postgres from 'postgres';
import { isRowRefusal, rowRefusalMessage } from '../adapters/postgres-errors.ts';
import { withLinkKey } from '../adapters/table/link-key.ts';
import { readRowsForUpdate } from '../adapters/table/table-reader.ts';
import {
  describeTable,
  looseColumnName,
  matchHeaders,
  type TableSchema,
} from '../adapters/table/table-schema.ts';
import {
  inSheetTransaction,
  type RowDelete,
  type RowUpsert,
  writeRows,
} from '../adapters/table/table-writer.ts';
import type { Cells } from '../core/cell-value.ts';
import {
  type CellError,
  coerceSheetCells,
  isSheetPreviewOf,
  SHEET_CELL_MAX_CHARS,
  type SheetValue,
} from '../core/coercion.ts';
import { type ColumnType, parseColumnType } from '../core/column-type.ts';
import type { ConflictPolicy } from '../core/conflict-policy.ts';
import { keyId } from '../core/key-id.ts';
import { allowedColumns } from '../core/link-columns.ts';
import { mergeSheetChange } from '../core/merge-sheet-change.ts';
import { mergeRowDocuments, type RowDocument } from '../core/row-document.ts';
import { ERROR_CODES, type ErrorCode } from '../error-codes.ts';
import type { Logger } from '../log.ts';
import type { RowCommit, VersionStore } from '../ports.ts';
import type { RowChange } from '../wire/row-change.ts';
import type { SheetChangeMessage } from '../wire/sheet-change.ts';

export interface SheetDelivery {
  /** The changes of one message, in order (wire/sheet-change.ts parseSheetChanges). */
  message: SheetChangeMessage[];
  /** Pub/Sub delivery attempt, 1 the first time. */
  attempt: number;
}

export type DeliveryOutcome = 'ack' | 'retry';

/** A problem with one row or cell, for the people editing the sheet (never retried). */
export interface RowProblem {
  link: string;
  rowId: string;
  row?: number | undefined;
  column?: string;
  value?: SheetValue;
  code: ErrorCode;
  /** For the errors tab: it may quote the value (the sheet's readers see it anyway); never logged. */
  message: string;
  /** PostgreSQL's SQLSTATE, for a row the database refused. */
  sqlState?: string;
  /** When the change was made in the sheet, ms since the epoch. */
  time?: number;
}

/** One change of a delivery, as a flush handles it. */
interface ChangeItem {
  message: SheetChangeMessage;
  attempt: number;
  delivery: number;
}

export interface ApplyToDbDeps {
  sql: postgres.Sql;
  store: VersionStore;
  /** link name → its table and conflict policy. */
  /** link name → its table, conflict policy, and the columns it syncs (default: all). */
  links: Map<
    string,
    { table: string; policy: ConflictPolicy; columns?: readonly string[]; key?: readonly string[] }
  >;
  logger: Logger;
  now?: () => number;
  /**
   * Where per-cell and per-row problems go (the sheet's errors tab), once per flush; every
   * problem is also logged. A rejection is logged and does not fail the flush.
   */
  reportProblems?: (problems: RowProblem[]) => Promise<void>;
  /**
   * Version-store write calls (createRows, commitRows) in flight at once, across flushes.
   * Default STORE_CONCURRENCY (commitDocuments says why).
   */
  storeConcurrency?: number;
}

interface LinkTable {
  /** The table as the link sees it: only the columns it syncs (`columns` and the key). */
  schema: TableSchema;
  types: Record<string, ColumnType>;
  /** Loose names of the table's columns outside the link's `columns`. */
  excluded: Set<string>;
}

export function createApplyToDb(deps: ApplyToDbDeps) {
  const tables = new Map<string, Promise<LinkTable>>();
  const now = deps.now ?? Date.now;
  const storeSlots = createLimiter(deps.storeConcurrency ?? STORE_CONCURRENCY);
  const loadTable = (link: string): Promise<LinkTable> => {
    let table = tables.get(link);
    if (!table) {
      const config = deps.links.get(link);
      if (!config) return Promise.reject(new Error(`no link named ${link}`));
      table = describeTable(deps.sql, config.table)
        .then((described) => withLinkKey(deps.sql, described, { name: link, key: config.key }))
        .then((whole) => {
          // Columns outside the link's list are never written from the sheet (core/link-columns.ts).
          const allowed = allowedColumns(config.columns, whole.primaryKey);
          const schema = { ...whole, columns: whole.columns.filter((c) => !allowed || allowed.has(c.name)) };
          return {
            schema,
            types: Object.fromEntries(schema.columns.map((c) => [c.name, parseColumnType(c.type)])),
            excluded: new Set(
              whole.columns
                .filter((c) => allowed && !allowed.has(c.name))
                .map((c) => looseColumnName(c.name)),
            ),
          };
        });
      table.catch(() => tables.delete(link));
      tables.set(link, table);
    }
    return table;
  };

  /**
   * Row documents whose commit is under way, per link: a flush that starts before an earlier
   * one's version-store commit finished (GroupCommit release) merges them into what it reads, as
   * the store will (mergeRowDocuments), so it sees the earlier flush's events and keys.
   */
  const inFlight = new Map<string, Map<string, RowDocument>>();

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
    const outcomes = new Array<DeliveryOutcome>(deliveries.length).fill('ack');
    const byLink = new Map<string, ChangeItem[]>();
    deliveries.forEach((d, delivery) => {
      for (const message of d.message) {
        const item = { message, attempt: d.attempt, delivery };
        const items = byLink.get(message.link);
        if (items) items.push(item);
        else byLink.set(message.link, [item]);
      }
    });
    const problems: RowProblem[] = [];
    const commits: Array<Promise<void>> = [];
    for (const [link, items] of byLink) {
      if (!deps.links.has(link)) {
        deps.logger.error('sheet change for an unknown link; check the config', {
          link,
          code: 'SHEETSYNC_E102',
        });
        for (const item of items) outcomes[item.delivery] = 'retry';
        continue;
      }
      const result = await flushLink(link, items);
      commits.push(result.commit);
      items.forEach((item, j) => {
        if (result.outcomes[j] === 'retry') outcomes[item.delivery] = 'retry';
      });
      problems.push(...result.problems);
    }
    release?.(outcomes);
    await Promise.all(commits);
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
    return outcomes;
  }

  async function flushLink(
    link: string,
    deliveries: ChangeItem[],
  ): Promise<{ outcomes: DeliveryOutcome[]; problems: RowProblem[]; commit: Promise<void> }> {
    const started = now();
    const { schema, types, excluded } = await loadTable(link);
    const policy = deps.links.get(link)!.policy;
    const problems: RowProblem[] = [];
    const outcomes = new Array<DeliveryOutcome>(deliveries.length).fill('ack');
    /** Per change: its problems, reported only if this flush applies the change. */
    const changeProblems: RowProblem[][] = deliveries.map(() => []);
    /** An unknown header is reported once per flush, not once per row of a paste. */
    const unknownHeaders = new Set<string>();
    /** Per change: cells that may show sheetsync's preview of a value too long for the sheet. */
    const maybePreviews: Array<Array<{ column: string; header: string; value: SheetValue }>> = deliveries.map(
      () => [],
    );

    // Headers → columns, then values → canonical form. Bad cells are left out and reported.
    const changes = deliveries.map(({ message }, i) => {
      const match = matchHeaders(Object.keys(message.cells), schema);
      for (const header of match.unknown) {
        const outside = excluded.has(looseColumnName(header));
        changeProblems[i]!.push({
          link,
          rowId: message.rowId,
          row: message.row,
          column: header,
          code: outside ? 'SHEETSYNC_E415' : 'SHEETSYNC_E408',
          message: outside
            ? `column "${header}" is not among link ${link}'s columns (links[].columns); its values are not written to the table`
            : `column "${header}" is not in table ${schema.schema}.${schema.name}; its values are not synced`,
          time: message.time,
        });
      }
      const byColumn: Record<string, SheetValue> = {};
      const headerOf = new Map<string, string>();
      for (const [header, column] of match.columns) {
        const value = message.cells[header] ?? null;
        byColumn[column.name] = value;
        headerOf.set(column.name, header);
        if (typeof value === 'string' && value.length > SHEET_CELL_MAX_CHARS - 1_000)
          maybePreviews[i]!.push({ column: column.name, header, value });
      }
      const { cells, errors } = coerceSheetCells(byColumn, types);
      changeProblems[i]!.push(...errors.map((e) => cellProblem(link, message, e, headerOf.get(e.column))));
      const change: RowChange = {
        link,
        rowId: message.rowId,
        op: message.op,
        cells,
        origin: 'sheet',
        time: { wall: message.time, logical: 0 },
        eventId: message.eventId,
      };
      return change;
    });

    const rowIds = [...new Set(changes.map((c) => c.rowId))];
    // Rows the sheet marks new (the script just gave them their id) have no document unless this
    // is a redelivery, which sheetsync.row_ids tells inside the transaction: their documents are
    // not read here (a paste is mostly such rows, and the read is a round trip per flush).
    const pendingDocs = inFlight.get(link) ?? new Map<string, RowDocument>();
    inFlight.set(link, pendingDocs);
    const newRows = new Set(rowIds);
    for (const { message } of deliveries) if (!message.isNew) newRows.delete(message.rowId);
    for (const id of pendingDocs.keys()) newRows.delete(id);
    const docs = await deps.store.readRows(
      link,
      rowIds.filter((id) => !newRows.has(id)),
    );
    for (const rowId of rowIds) {
      const pending = pendingDocs.get(rowId);
      if (pending) docs.set(rowId, mergeRowDocuments(docs.get(rowId), pending));
    }
    // A cell that shows the preview applyToSheet wrote of a value too long for a sheet cell
    // (coercion.sheetPreview), sent back as it is (the row pasted or copied over itself), is not
    // an edit: the value stays whole in the table.
    maybePreviews.forEach((cells, i) => {
      const change = changes[i]!;
      for (const { column, header, value } of cells) {
        const state = docs.get(change.rowId)?.cells[column];
        if (!state || !isSheetPreviewOf(value, state.sheetValue ?? state.value, types[column]!)) continue;
        delete change.cells[column];
        changeProblems[i] = changeProblems[i]!.filter(
          (p) => !(p.code === 'SHEETSYNC_E407' && p.column === header),
        );
      }
    });
    const commits = new Map<string, RowCommit>();
    const read = now();

    /**
     * The flush's transaction; `immediate`: every constraint checked per statement. A constraint
     * declared DEFERRABLE INITIALLY DEFERRED is checked at COMMIT, where a row it refuses fails
     * the whole transaction instead of its statement (which the writer retries row by row): then
     * the flush runs once more with `immediate`, so that row is reported alone and the rest applies.
     */
    const applyInTransaction = (immediate: boolean) =>
      inSheetTransaction(deps.sql, async (tx) => {
        if (immediate) await tx`set constraints all immediate`;
        // New rows applyToDb inserted before (a redelivery, or a retry after the version-store
        // commit failed): their key from sheetsync.row_ids, and their documents after all.
        const inserted = new Map<string, Cells>();
        if (newRows.size > 0) {
          const found = await tx<Array<{ row_id: string; key: Cells }>>`
        select row_id::text as row_id, key from sheetsync.row_ids
        where link = ${link} and row_id = any(${[...newRows]}::uuid[])`;
          for (const r of found) inserted.set(r.row_id, r.key);
          if (inserted.size > 0) {
            for (const [id, doc] of await deps.store.readRows(link, [...inserted.keys()])) docs.set(id, doc);
          }
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
        const dbRows = await readRowsForUpdate(tx, schema, keys);

        const upserts: RowUpsert[] = [];
        const deletes: RowDelete[] = [];
        /** What a deleted row's commit was before its delete: kept if the database refuses the delete. */
        const beforeDelete = new Map<string, RowCommit | undefined>();
        /** Per row: its key and the columns whose kept DB value goes to the sheet again. */
        const reshows = new Map<string, { key: Cells; columns: Set<string> }>();
        const working = new Map<string, RowDocument | undefined>(rowIds.map((id) => [id, docs.get(id)]));
        /** Rows with a deferred change: their later changes in this flush wait too (per-row order). */
        const deferredRows = new Set<string>();
        const defaulted = new Set(schema.columns.filter((c) => c.hasDefault).map((c) => c.name));
        changes.forEach((original, i) => {
          let change = original;
          if (deferredRows.has(change.rowId)) {
            outcomes[i] = 'retry';
            return;
          }
          const doc = working.get(change.rowId);
          const key = doc?.key ?? inserted.get(change.rowId) ?? keyFromCells(schema, change.cells);
          const dbRow = key ? (dbRows.get(keyId(key)) ?? null) : null;
          // A row inserted by an attempt whose document commit was lost: its empty cells in columns
          // with a default were left to the database then (insertRows), so they are not changes now.
          if (!doc && inserted.has(change.rowId)) {
            change = {
              ...change,
              cells: Object.fromEntries(
                Object.entries(change.cells).filter(([c, v]) => !(v === null && defaulted.has(c))),
              ),
            };
          }
          const decision = mergeSheetChange(doc, change, {
            policy,
            dbRow,
            now: now(),
            attempt: deliveries[i]!.attempt,
          });
          if (decision.kind === 'duplicate') return;
          if (decision.kind === 'defer') {
            outcomes[i] = 'retry';
            deferredRows.add(change.rowId);
            return;
          }
          for (const problem of changeProblems[i]!) {
            if (problem.code === 'SHEETSYNC_E408' || problem.code === 'SHEETSYNC_E415') {
              if (unknownHeaders.has(problem.column!)) continue;
              unknownHeaders.add(problem.column!);
            }
            problems.push(problem);
          }
          // A row found by its key (typed, or in sheetsync.row_ids) records that key.
          const next = !decision.next.key && dbRow && key ? { ...decision.next, key } : decision.next;
          if (decision.write === 'delete') beforeDelete.set(change.rowId, commits.get(change.rowId));
          working.set(change.rowId, next);
          commits.set(change.rowId, {
            next,
            conflicts: [...(commits.get(change.rowId)?.conflicts ?? []), ...decision.conflicts],
          });
          // A later change of the row in this flush that writes a column shows its own value.
          const reshow = reshows.get(change.rowId);
          for (const column of Object.keys(decision.cells)) reshow?.columns.delete(column);
          if (decision.reshow.length > 0 && key && dbRow) {
            const columns = reshow?.columns ?? new Set<string>();
            for (const column of decision.reshow) columns.add(column);
            reshows.set(change.rowId, { key, columns });
          }
          if (decision.write === 'delete' && key)
            deletes.push({ rowId: change.rowId, dot: decision.dot, key });
          if (decision.write === 'upsert') {
            upserts.push({
              rowId: change.rowId,
              dot: decision.dot,
              key: dbRow ? key! : (doc?.key ?? undefined),
              cells: decision.cells,
            });
            // Later changes of the same row in this batch see this one's values.
            if (key && dbRow) dbRows.set(keyId(key), { ...dbRow, ...decision.cells });
          }
        });

        await keepRowsOwnedByOthers(deps.store, link, deletes, commits);
        const merged = mergeUpserts(upserts);
        const result = await writeRows(tx, schema, merged, deletes);
        await reshowKept(tx, schema, reshows, result.keys);
        // Rows the database would not delete (another table's foreign key refers to them) go back
        // on the sheet: recorded as DB inserts of their current values, which applyToSheet puts
        // back with their sync ids (mergeDbChange, SheetTab.returnRow).
        const refused = new Set(result.errors.filter((e) => e.op === 'delete').map((e) => e.rowId));
        const restored = deletes.filter((d) => refused.has(d.rowId));
        if (restored.length > 0) {
          await tx`select sheetsync.restore(${schema.qualified}::regclass, ${JSON.stringify(restored.map((d) => d.key))}::text::jsonb)`;
        }
        // Sync id → key of the rows just inserted, in the same transaction (see sql/install.sql).
        const insertedNow = merged.flatMap((u) =>
          !u.key && result.keys.has(u.rowId) ? [{ row_id: u.rowId, key: result.keys.get(u.rowId) }] : [],
        );
        if (insertedNow.length > 0) {
          await tx`
        insert into sheetsync.row_ids (link, row_id, key)
        select ${link}, r.row_id::uuid, r.key
        from jsonb_to_recordset(${JSON.stringify(insertedNow)}::text::jsonb) as r(row_id text, key jsonb)
        on conflict (link, row_id) do update set key = excluded.key`;
        }
        const deleted = deletes.filter((d) => !refused.has(d.rowId));
        if (deleted.length > 0) {
          await tx`
        delete from sheetsync.row_ids
        where link = ${link} and row_id = any(${deleted.map((d) => d.rowId)}::uuid[])`;
        }
        const rowOf = new Map(
          deliveries.map(({ message }) => [
            message.rowId,
            { ...(message.row === undefined ? {} : { row: message.row }), time: message.time },
          ]),
        );
        for (const error of result.errors) {
          if (error.op === 'delete') {
            // The row stays as this flush's earlier changes of it left it.
            const before = beforeDelete.get(error.rowId);
            if (before) commits.set(error.rowId, before);
            else commits.delete(error.rowId);
            problems.push({
              link,
              rowId: error.rowId,
              code: 'SHEETSYNC_E412',
              message: `the database refused to delete the row (${error.sqlState}): ${error.message}; it is back on the sheet`,
              sqlState: error.sqlState,
              ...(rowOf.get(error.rowId) ?? {}),
            });
            continue;
          }
          commits.delete(error.rowId); // not applied: nothing to record
          problems.push({
            link,
            rowId: error.rowId,
            code: error.code,
            message: rowRefusalMessage(error.sqlState, error.message),
            sqlState: error.sqlState,
            ...(error.column ? { column: error.column } : {}),
            ...(rowOf.get(error.rowId) ?? {}),
          });
        }
        for (const [rowId, key] of result.keys) {
          const commit = commits.get(rowId);
          if (commit) commits.set(rowId, { ...commit, next: { ...commit.next, key: key as Cells } });
        }
      });
    try {
      await applyInTransaction(false);
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      // Nothing of the attempt was committed: it starts again from the documents it read.
      outcomes.fill('ack');
      problems.length = 0;
      unknownHeaders.clear();
      commits.clear();
      await applyInTransaction(true);
    }

    const written = now();
    const committing = [...commits.values()];
    for (const { next } of committing) pendingDocs.set(next.rowId, next);
    const commit = (async () => {
      try {
        if (committing.length > 0) await commitDocuments(deps.store, link, docs, committing, storeSlots);
      } finally {
        for (const { next } of committing)
          if (pendingDocs.get(next.rowId) === next) pendingDocs.delete(next.rowId);
      }
      logFlush(written, now());
    })();
    // Awaited by flush after the other links; a rejection meanwhile is not unhandled.
    commit.catch(() => {});
    return { outcomes, problems, commit };

    function logFlush(written: number, stored: number) {
      // The code's title, not the message: PostgreSQL's and the coercion's messages quote values.
      for (const p of problems) {
        deps.logger.warn(`${ERROR_CODES[p.code]}; the sheet's errors tab says why`, {
          link,
          rowId: p.rowId,
          code: p.code,
          row: p.row,
          column: p.column,
          sqlState: p.sqlState,
        });
      }
      // One line per row and per conflict, so Logs Explorer can follow a row by rowId and the
      // log-based metrics (terraform/monitoring.tf) count conflicts.
      const flushedAt = now();
      const lastChange = new Map(deliveries.map((d) => [d.message.rowId, d.message]));
      for (const [rowId, commit] of commits) {
        const change = lastChange.get(rowId);
        deps.logger.info('applied a sheet change to the table', {
          link,
          rowId,
          op: 'applyToDb',
          origin: 'sheet',
          ...(change ? { latencyMs: Math.max(0, flushedAt - change.time), eventId: change.eventId } : {}),
        });
        for (const conflict of commit.conflicts ?? []) {
          deps.logger.warn(`conflict on ${conflict.column}: ${conflict.policy} chose ${conflict.outcome}`, {
            link,
            rowId,
            op: 'conflict',
            column: conflict.column,
            policy: conflict.policy,
            status: conflict.status,
          });
        }
      }
      deps.logger.info('applied sheet changes', {
        link,
        op: 'applyToDb',
        origin: 'sheet',
        count: deliveries.length,
        latencyMs: Math.max(0, now() - deliveries.reduce((t, d) => Math.min(t, d.message.time), Infinity)),
        // Where the flush's time went (the sheet-to-db bench sums these per hop).
        waitMs: Math.max(0, started - deliveries.reduce((t, d) => Math.min(t, d.message.time), Infinity)),
        readMs: read - started,
        pgMs: written - read,
        storeMs: stored - written,
      });
    }
  }

  return { flush };
}

/** Row documents per store.commitRows call. */
const COMMIT_SLICE = 250;
/** New rows per createRows call. */
const CREATE_SLICE = 250;
/** Version-store write calls in flight at once, across flushes (ApplyToDbDeps.storeConcurrency). */
const STORE_CONCURRENCY = 2;

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

/**
 * Commits the flush's row documents. Rows that had no document when the flush read them (new
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
async function commitDocuments(
  store: VersionStore,
  link: string,
  before: Map<string, RowDocument>,
  commits: RowCommit[],
  slots: Limiter,
): Promise<void> {
  const fresh: RowDocument[] = [];
  const merged: RowCommit[] = [];
  for (const commit of commits) {
    if (!before.has(commit.next.rowId) && (commit.conflicts ?? []).length === 0) fresh.push(commit.next);
    else merged.push(commit);
  }
  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < fresh.length; i += CREATE_SLICE) {
    const slice = fresh.slice(i, i + CREATE_SLICE);
    writes.push(slots(() => store.createRows(link, slice)));
  }
  for (let i = 0; i < merged.length; i += COMMIT_SLICE) {
    const slice = merged.slice(i, i + COMMIT_SLICE);
    writes.push(slots(() => store.commitRows(link, slice)));
  }
  await Promise.all(writes);
}

/** The primary key when every key column is among `cells` and none is NULL. */
function keyFromCells(schema: TableSchema, cells: Cells): Cells | undefined {
  const key: Cells = {};
  for (const column of schema.primaryKey) {
    const value = cells[column];
    if (value === undefined || value === null) return undefined;
    key[column] = value;
  }
  return key;
}

/**
 * Records the DB values a sheet change kept at the deferral cap as DB changes once more
 * (sql/install.sql, sheetsync.reshow), one call per set of columns, after this flush's writes
 * (a row they changed is found by its key after the write).
 */
async function reshowKept(
  tx: postgres.TransactionSql,
  schema: TableSchema,
  reshows: ReadonlyMap<string, { key: Cells; columns: ReadonlySet<string> }>,
  keysAfterWrite: ReadonlyMap<string, Record<string, unknown>>,
): Promise<void> {
  const byColumns = new Map<string, { columns: string[]; keys: unknown[] }>();
  for (const [rowId, { key, columns }] of reshows) {
    if (columns.size === 0) continue;
    const sorted = [...columns].sort();
    const id = sorted.join('\u0000');
    const group = byColumns.get(id) ?? { columns: sorted, keys: [] };
    group.keys.push(keysAfterWrite.get(rowId) ?? key);
    byColumns.set(id, group);
  }
  for (const { columns, keys } of byColumns.values()) {
    await tx`select sheetsync.reshow(${schema.qualified}::regclass, ${JSON.stringify(keys)}::text::jsonb, ${columns}::text[])`;
  }
}

/** One write per row: later changes of a row in the batch fold into the first. */
function mergeUpserts(upserts: RowUpsert[]): RowUpsert[] {
  const byRow = new Map<string, RowUpsert>();
  for (const upsert of upserts) {
    const earlier = byRow.get(upsert.rowId);
    byRow.set(
      upsert.rowId,
      earlier ? { ...earlier, dot: upsert.dot, cells: { ...earlier.cells, ...upsert.cells } } : upsert,
    );
  }
  return [...byRow.values()];
}

function cellProblem(
  link: string,
  message: SheetChangeMessage,
  error: CellError,
  header: string | undefined,
): RowProblem {
  return {
    link,
    rowId: message.rowId,
    row: message.row,
    column: header ?? error.column,
    value: error.value,
    code: 'SHEETSYNC_E407',
    message: `"${String(error.value)}" does not fit column ${error.column} (${error.type}): ${error.message}`,
    time: message.time,
  };
}

/**
 * Leaves out of `deletes` (in place) the rows whose key another sync id now owns: its key
 * document names another row, or a row of this flush that is not deleted holds it. That happens
 * when a row lost its id (the hidden column cleared or deleted) and came back under a new one:
 * the old id's document still names the key, and deleting by it would delete the row the new id
 * shows. Only the old document is tombstoned; the table row stays.
 */
async function keepRowsOwnedByOthers(
  store: Pick<VersionStore, 'rowIdsForKeys'>,
  link: string,
  deletes: RowDelete[],
  commits: ReadonlyMap<string, RowCommit>,
): Promise<void> {
  if (deletes.length === 0) return;
  const owners = await store.rowIdsForKeys(
    link,
    deletes.map((d) => d.key as Cells),
  );
  const heldHere = new Map<string, string>();
  for (const [rowId, { next }] of commits)
    if (next.key && !next.tombstone) heldHere.set(keyId(next.key), rowId);
  const kept = deletes.filter((d) => {
    const id = keyId(d.key as Cells);
    const owner = heldHere.get(id) ?? owners.get(id);
    return owner === undefined || owner === d.rowId;
  });
  deletes.splice(0, deletes.length, ...kept);
}
