/**
 * The restore: what the local stack runs for each link at start, before the webhook, the relay
 * and the subscribers start (cli/src/pipeline.ts), so nothing is applied on a version store that
 * lost documents (a new store, a lost one, an export older than the last changes).
 *
 * 1. The outbox watermark (outbox-watermark.ts), before the table is read.
 * 2. For each row the sheet shows with a sync id whose key the table holds, the key found from
 *    the document, else from sheetsync.row_ids (rows applyToDb inserted), else from the key
 *    cells the sheet shows: a missing document is rebuilt, an older one settled
 *    (restore-plan.ts). A document-less row whose key another live document claims is left.
 * 3. reconcile (reconcile.ts), which repairs what the pipeline did not carry before the stop:
 *    edits lost with the Pub/Sub emulator's memory, changes whose documents were lost, rows only
 *    one side holds. A run that finds the sheet's rows moved (SHEETSYNC_E506) runs again.
 * 4. The sheet epoch is bumped: applyToSheet reads the tab anew.
 */
import { ID_HEADER, isBlankRow, type SheetValue } from '../adapters/sheets/sheet-tab.ts';
import { matchHeaders } from '../adapters/table/table-schema.ts';
import type { Cells } from '../core/cell-value.ts';
import { fromSheet, isSheetPreviewOf } from '../core/coercion.ts';
import { type ColumnType, parseColumnType } from '../core/column-type.ts';
import { keyId } from '../core/key-id.ts';
import type { RowDocument } from '../core/row-document.ts';
import type { RowCommit } from '../ports.ts';
import { linkColumns, type SyncDeps, syncDatabase } from './link-sync-deps.ts';
import { linkedGrid } from './linked-grid.ts';
import { type ReconcileResult, reconcileLink } from './reconcile.ts';
import { planRestore } from './restore-plan.ts';

export interface RestoreResult {
  /** Row documents rebuilt from the sheet's ids and the table's keys. */
  rowsRebuilt: number;
  /** Documents of an older export brought up to what both sides show. */
  rowsSettled: number;
  /** Cells the two sides showed differently in rows with no document (recorded as conflicts). */
  conflicts: number;
  /** Rows with no document whose key another live document claims (left to reconcile). */
  rowsClaimed: number;
  /** Changes still in the outbox that the restore compared (their replays are dropped). */
  pendingChanges: number;
  reconcile: ReconcileResult;
}

const CHUNK = 1000;
const RECONCILE_TRIES = 3;

/** Restores one link; `watermark` from outboxWatermark, read once for all links before this. */
export async function restoreLink(deps: SyncDeps, watermark: number): Promise<RestoreResult> {
  const pending = await syncDatabase(deps).pendingKeys(deps.link.name, watermark);
  const documents = await restoreDocuments(deps, watermark, new Set(pending.map(keyId)));
  let reconcile: ReconcileResult | undefined;
  for (let attempt = 1; !reconcile; attempt++) {
    try {
      reconcile = await reconcileLink({ ...deps, dryRun: false });
    } catch (error) {
      if ((error as { code?: string }).code !== 'SHEETSYNC_E506' || attempt >= RECONCILE_TRIES) throw error;
    }
  }
  await coverPending(deps, pending, watermark);
  await deps.store.bumpSheetEpoch(deps.link.name);
  return { ...documents, pendingChanges: pending.length, reconcile };
}

/**
 * After reconcile, every document of a row with changes still in the outbox (reconcile's own
 * included: the rows it appended to the sheet from the table) has seen them: reconcile compared
 * the table after the watermark, so their replays are dropped rather than applied again over the
 * values reconcile wrote.
 */
async function coverPending(deps: SyncDeps, keys: readonly Cells[], watermark: number): Promise<void> {
  const { store, link } = deps;
  for (let i = 0; i < keys.length; i += CHUNK) {
    const rowIds = await store.rowIdsForKeys(link.name, keys.slice(i, i + CHUNK));
    const docs = await store.readRows(link.name, [...new Set(rowIds.values())]);
    const behind = [...docs.values()].filter((doc) => doc.vv.db < watermark);
    if (behind.length === 0) continue;
    await store.commitRows(
      link.name,
      behind.map((doc) => ({ next: { ...doc, vv: { ...doc.vv, db: watermark } } })),
    );
  }
}

async function restoreDocuments(
  deps: SyncDeps,
  watermark: number,
  pending: ReadonlySet<string>,
): Promise<Omit<RestoreResult, 'reconcile' | 'pendingChanges'>> {
  const { link, store } = deps;
  const database = syncDatabase(deps);
  const at = (deps.now ?? Date.now)();
  const table = await database.describe(link.table, link);
  const linked = { ...table, columns: linkColumns(link, table) };
  // The tab by its recorded sheetId, not only by the config's title (linked-grid.ts).
  const sheet = await (await linkedGrid(deps)).read();
  const matched = matchHeaders(sheet.headers, linked);
  const types = new Map<string, ColumnType>(linked.columns.map((c) => [c.name, parseColumnType(c.type)]));
  const columnAt = sheet.headers.map((h) => (h === ID_HEADER ? undefined : matched.columns.get(h)?.name));
  const result = { rowsRebuilt: 0, rowsSettled: 0, conflicts: 0, rowsClaimed: 0 };
  if (sheet.idColumn < 0) return result;

  const seen = new Set<string>();
  for (let start = 0; start < sheet.rows.length; start += CHUNK) {
    const rows = sheet.rows.slice(start, start + CHUNK).flatMap((values) => {
      const rowId = String(values[sheet.idColumn] ?? '');
      // A pasted copy carries another row's id: the first row holding it is that row.
      if (rowId === '' || isBlankRow(values) || seen.has(rowId)) return [];
      seen.add(rowId);
      return [{ rowId, values }];
    });
    const docs = await store.readRows(
      link.name,
      rows.map((r) => r.rowId),
    );
    const recorded = await database.readRowIds(
      link.name,
      rows.filter((r) => !docs.has(r.rowId)).map((r) => r.rowId),
    );
    const keyed = rows.flatMap(({ rowId, values }) => {
      const doc = docs.get(rowId);
      const sheetCells = coerceRow(values, columnAt, types);
      const key = doc ? doc.key : (recorded.get(rowId) ?? typedKey(sheetCells, table.primaryKey));
      return key ? [{ rowId, doc, sheetCells, key }] : [];
    });
    const claims = await claimsOf(
      deps,
      keyed.filter((r) => !r.doc).map((r) => r.key),
    );
    const dbRows = await database.readRows(
      linked,
      keyed.map((r) => r.key),
    );
    const creates: RowDocument[] = [];
    const commits: RowCommit[] = [];
    for (const { rowId, doc, sheetCells, key } of keyed) {
      const db = dbRows.get(keyId(key));
      if (!db) continue; // only the sheet holds it: reconcile decides
      const claimer = claims.get(keyId(key));
      if (!doc && claimer && claimer !== rowId) {
        result.rowsClaimed++;
        continue;
      }
      const decision = planRestore({
        link: link.name,
        policy: link.conflict.policy,
        rowId,
        key,
        keyColumns: table.primaryKey,
        sheet: withPreviews(sheetCells, db, types),
        db,
        doc,
        watermark,
        pending: pending.has(keyId(key)),
        at,
      });
      if (decision.kind === 'rebuild') {
        result.rowsRebuilt++;
        result.conflicts += decision.conflicts.length;
        if (decision.conflicts.length > 0)
          commits.push({ next: decision.next, conflicts: decision.conflicts });
        else creates.push(decision.next);
      } else if (decision.kind === 'settle') {
        result.rowsSettled++;
        commits.push({ next: decision.next });
      }
    }
    // A queued event of a rebuilt row that the script still calls new must find the row (row-ids.ts).
    await database.recordRowIds(
      link.name,
      [...creates, ...commits.map((c) => c.next)]
        .filter((d) => !docs.has(d.rowId))
        .map((d) => ({ rowId: d.rowId, key: d.key! })),
      'keep',
    );
    if (creates.length > 0) await store.createRows(link.name, creates);
    if (commits.length > 0) await store.commitRows(link.name, commits);
    deps.onProgress?.(Math.min(start + CHUNK, sheet.rows.length), sheet.rows.length);
  }
  return result;
}

/** keyId → the rowId of a live document that claims the key. */
async function claimsOf(deps: SyncDeps, keys: Cells[]): Promise<Map<string, string>> {
  const byKey = await deps.store.rowIdsForKeys(deps.link.name, keys);
  const docs = await deps.store.readRows(deps.link.name, [...byKey.values()]);
  return new Map([...byKey].filter(([, rowId]) => docs.get(rowId) && !docs.get(rowId)!.tombstone));
}

/** The sheet's cells of the synced columns, coerced; a cell that does not coerce is left out. */
function coerceRow(
  values: readonly SheetValue[],
  columnAt: readonly (string | undefined)[],
  types: ReadonlyMap<string, ColumnType>,
): Record<string, { raw: SheetValue; value: Cells[string] }> {
  const cells: Record<string, { raw: SheetValue; value: Cells[string] }> = {};
  columnAt.forEach((column, i) => {
    if (!column) return;
    const raw = (values[i] ?? null) as SheetValue;
    const coerced = fromSheet(raw, types.get(column)!);
    if (coerced.ok) cells[column] = { raw, value: coerced.value };
  });
  return cells;
}

/** The sheet's values, a preview of a value too long for a cell (coercion.ts) read as that value. */
function withPreviews(
  cells: Record<string, { raw: SheetValue; value: Cells[string] }>,
  db: Cells,
  types: ReadonlyMap<string, ColumnType>,
): Cells {
  return Object.fromEntries(
    Object.entries(cells).map(([column, { raw, value }]) => [
      column,
      isSheetPreviewOf(raw, db[column], types.get(column)!) ? db[column]! : value,
    ]),
  );
}

function typedKey(
  cells: Record<string, { raw: SheetValue; value: Cells[string] }>,
  primaryKey: readonly string[],
): Cells | undefined {
  const key: Cells = {};
  for (const column of primaryKey) {
    const value = cells[column]?.value;
    if (value === undefined || value === null) return undefined;
    key[column] = value;
  }
  return key;
}
