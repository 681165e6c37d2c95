/**
 * `sheetsync reconcile`: a full compare of a link's sheet and table by sync id, which repairs
 * drift (changes that bypassed the pipeline). Decisions: functions/src/core/reconcile-plan.ts.
 *
 * The sheet is read whole (one values.get; the Sheets API has no cursor), the row documents and
 * DB rows in chunks of sheet rows, then the table is streamed with a cursor to find the rows the
 * sheet lacks. DB writes go through writeRows with origin 'sheet' and the row's next sheet dot,
 * like applyToDb, so their echoes are recognised; sheet writes are RAW values.batchUpdate.
 */
import { randomUUID } from 'node:crypto';
import { ID_HEADER, isBlankRow, type SheetValue } from '../adapters/sheets/sheet-tab.ts';
import { canonicalRow, jsonExpr, readRowsForUpdate } from '../adapters/table/table-reader.ts';
import { describeTable, matchHeaders } from '../adapters/table/table-schema.ts';
import { ident, inSheetTransaction, type RowUpsert, writeRows } from '../adapters/table/table-writer.ts';
import { type Cells, sameValue } from '../core/cell-value.ts';
import { fromSheet, isSheetPreviewOf, toSheet } from '../core/coercion.ts';
import { type ColumnType, parseColumnType } from '../core/column-type.ts';
import type { ConflictRecord } from '../core/conflict-record.ts';
import { tick } from '../core/hlc.ts';
import { keyId } from '../core/key-id.ts';
import type { HeldChange } from '../core/mass-change.ts';
import {
  matchesSynced,
  planCell,
  planLoneRow,
  shownAgainDocument,
  syncedRowDocument,
} from '../core/reconcile-plan.ts';
import { emptyRowDocument, type RowDocument } from '../core/row-document.ts';
import { SheetsyncError } from '../errors.ts';
import type { RowCommit } from '../ports.ts';
import { driftConflict } from './drift-conflict.ts';
import { idsByKey } from './ids-by-key.ts';
import { linkColumns, type SyncDeps } from './link-sync-deps.ts';
import { guardDeletes, type HeldDecision } from './reconcile-guard.ts';
import { recordInsertedRows } from './row-ids.ts';
import { SheetGrid } from './sheet-grid.ts';

export interface ReconcileResult {
  rowsCompared: number;
  cellsToDb: number;
  cellsToSheet: number;
  conflicts: number;
  rowsInsertedInDb: number;
  rowsAppendedToSheet: number;
  rowsDeletedFromDb: number;
  rowsDeletedFromSheet: number;
  idsAssigned: number;
  /**
   * Rows deleted on the sheet that the table would not delete (a foreign key refers to them, or
   * a trigger refused): they stay in the table and were put back on the sheet (counted in
   * rowsAppendedToSheet, not in rowsDeletedFromDb).
   */
  deletesRefused: Array<{ rowId: string; key: Cells; message: string }>;
  /** Sheet cells whose value does not fit the column (left alone; fix them in the sheet). */
  badCells: Array<{ row: number; column: string; message: string }>;
  /**
   * Deletes held for a person (reconcile-guard.ts): one side lost more rows than the link's
   * thresholds allow. Not counted in rowsDeletedFrom*; in a dry run, what would be held.
   */
  held: HeldChange[];
  dryRun: boolean;
}

export function driftFound(r: ReconcileResult): boolean {
  return (
    r.cellsToDb +
      r.cellsToSheet +
      r.conflicts +
      r.rowsInsertedInDb +
      r.rowsAppendedToSheet +
      r.rowsDeletedFromDb +
      r.rowsDeletedFromSheet +
      r.idsAssigned >
    0
  );
}

const CHUNK = 1000;
/** Rows per append request to the sheet (about 1.3 MB for 7 columns, under the 2 MB advice). */
const APPEND_ROWS = 4000;

export async function reconcileLink(
  deps: SyncDeps & { dryRun: boolean; decision?: HeldDecision },
): Promise<ReconcileResult> {
  const { link, store, sql } = deps;
  const now = deps.now ?? Date.now;
  const policy = link.conflict.policy;
  const grid = new SheetGrid(deps.sheetsApi, link.spreadsheetId, link.sheet);
  const table = await describeTable(sql, link.table);
  const columns = linkColumns(link, table);
  const sheet = await grid.read();
  const matched = matchHeaders(sheet.headers, { ...table, columns });
  const types: Record<string, ColumnType> = Object.fromEntries(
    columns.map((c) => [c.name, parseColumnType(c.type)]),
  );
  const columnAt = sheet.headers.map((h) => matched.columns.get(h)?.name);
  const sheetColumnOf = new Map(columnAt.flatMap((c, i) => (c ? [[c, i] as const] : [])));
  const r: ReconcileResult = {
    rowsCompared: 0,
    cellsToDb: 0,
    cellsToSheet: 0,
    conflicts: 0,
    rowsInsertedInDb: 0,
    rowsAppendedToSheet: 0,
    rowsDeletedFromDb: 0,
    rowsDeletedFromSheet: 0,
    idsAssigned: 0,
    deletesRefused: [],
    badCells: [],
    held: [],
    dryRun: deps.dryRun,
  };
  const guard = {
    store,
    link,
    ...(deps.logger ? { logger: deps.logger } : {}),
    now,
    dryRun: deps.dryRun,
    ...(deps.decision ? { decision: deps.decision } : {}),
  };
  const sheetId = deps.dryRun ? 0 : await grid.sheetId();
  let idColumn = sheet.idColumn;
  if (idColumn < 0) idColumn = sheet.headers.length; // written with the first id, as attach does
  const seenKeys = new Set<string>();
  const seenIds = new Set<string>();
  const sheetWrites: Array<{ row: number; column: number; value: SheetValue }> = [];
  /**
   * Rows the sheet holds without a sync id (or with a pasted copy's): their new ids, and their
   * table inserts. The ids go to the sheet first, after a check that no row moved; the inserts
   * follow. Inserted first, a run stopped before the ids were written (rows moved, a failed
   * write) would leave table rows the sheet cannot name, and the next run would insert them again.
   */
  const idWrites: Array<{ row: number; column: number; value: SheetValue }> = [];
  const freshUpserts: RowUpsert[] = [];
  const freshRow = new Map<string, number>();
  /** Row documents of rows with cells written to the sheet: committed once those are written. */
  const afterSheetWrites: RowCommit[] = [];
  const sheetDeletes: number[] = [];
  /** Rows the table lost: deleted from the sheet, or held, once all are known (guardDeletes). */
  const sheetDeleteCandidates: Array<{ row: number; rowId: string; key: Cells | null; cells: Cells }> = [];
  const total = sheet.rows.length;
  // Rows without an id that show the table's key get the id sheetsync knows for it (ids-by-key.ts).
  const taken = new Set(sheet.rows.map((values) => String(values[idColumn] ?? '')).filter((id) => id !== ''));
  const keyAt = new Map(
    table.primaryKey.flatMap((k) => (sheetColumnOf.has(k) ? [[k, sheetColumnOf.get(k)!] as const] : [])),
  );
  const keyColumns = {
    at: keyAt.size === table.primaryKey.length ? keyAt : new Map<string, number>(),
    types,
  };

  for (let start = 0; start < sheet.rows.length; start += CHUNK) {
    const slice = sheet.rows.slice(start, start + CHUNK);
    const ids = slice.map((values) => String(values[idColumn] ?? ''));
    const byKey = await idsByKey(
      store,
      link.name,
      slice,
      ids.flatMap((id, i) => (id === '' && !isBlankRow(slice[i]!) ? [i] : [])),
      keyColumns,
      taken,
    );
    for (const [i, rowId] of byKey) ids[i] = rowId;
    const docs = await store.readRows(
      link.name,
      ids.filter((id) => id !== ''),
    );
    const keys = [...docs.values()].flatMap((d) => (d.key && !d.tombstone ? [d.key] : []));
    const dbRows = await sql.begin((tx) => readRowsForUpdate(tx, { ...table, columns }, keys));
    const upserts: RowUpsert[] = [];
    const commits: RowCommit[] = [];
    const newIds: Array<{ row: number; rowId: string }> = [];
    slice.forEach((values, i) => {
      const row = start + i + 2;
      // A blank row between data rows (a person inserted it, or cleared one): nothing to sync.
      if (isBlankRow(values)) return;
      let rowId = ids[i]!;
      const known = byKey.has(i) && docs.get(rowId)?.tombstone === null;
      const fresh = rowId === '' || seenIds.has(rowId) || (byKey.has(i) && !known); // no id yet, or a pasted copy
      if (fresh) {
        rowId = randomUUID();
        newIds.push({ row, rowId });
        freshRow.set(rowId, row);
      } else if (known) newIds.push({ row, rowId });
      seenIds.add(rowId);
      const doc = fresh ? undefined : docs.get(rowId);
      const db = doc?.key && !doc.tombstone ? dbRows.get(keyId(doc.key)) : undefined;
      const cells: Cells = {};
      for (const [c, name] of columnAt.entries()) {
        if (!name) continue;
        const raw = (values[c] ?? null) as SheetValue;
        // The preview of a value too long for a cell (coercion.sheetPreview) is that value: the
        // table's, or the one last synced (the sheet has not changed since).
        const state = doc?.cells[name];
        const previewed = [db?.[name], state?.sheetValue, state?.value].find((v) =>
          isSheetPreviewOf(raw, v, types[name]!),
        );
        if (previewed !== undefined) {
          cells[name] = previewed;
          continue;
        }
        const coerced = fromSheet(raw, types[name]!);
        if (coerced.ok) cells[name] = coerced.value;
        else r.badCells.push({ row, column: name, message: coerced.message });
      }
      if (doc?.key) seenKeys.add(keyId(doc.key));
      if (!db) {
        const plan = planLoneRow('sheet', doc, doc ? matchesSynced(doc, cells) : false);
        if (plan.kind === 'delete-sheet') {
          sheetDeleteCandidates.push({ row, rowId, key: doc?.key ?? null, cells });
        } else {
          const key = doc?.key ?? undefined;
          (fresh ? freshUpserts : upserts).push({
            rowId,
            dot: `sheet:${(doc?.vv.sheet ?? 0) + 1}`,
            key: undefined,
            cells: { ...key, ...withoutNullKeys(cells, table.primaryKey) },
          });
          r.rowsInsertedInDb++;
        }
        return;
      }
      r.rowsCompared++;
      const at = now();
      let next: RowDocument = { ...doc!, cells: { ...doc!.cells } };
      const toDb: Cells = {};
      const conflicts: ConflictRecord[] = [];
      const dot = `sheet:${doc!.vv.sheet + 1}`;
      let cellsChanged = false;
      let toSheetRow = false;
      for (const [column, sheetValue] of Object.entries(cells)) {
        const state = next.cells[column];
        const plan = planCell(sheetValue, db[column] ?? null, state?.value, policy);
        if (plan.kind === 'same') continue;
        cellsChanged = true;
        const toSheetValue = plan.kind === 'to-sheet' || (plan.kind === 'conflict' && plan.winner === 'db');
        const value = plan.kind === 'conflict' ? (plan.winner === 'db' ? plan.db : plan.sheet) : plan.value;
        if (plan.kind === 'conflict') {
          r.conflicts++;
          conflicts.push(
            driftConflict(link.name, policy, rowId, column, plan.sheet, plan.db, plan.winner, at),
          );
        }
        const time = tick(state?.time ?? { wall: 0, logical: 0 }, at);
        if (toSheetValue) {
          toSheetRow = true;
          r.cellsToSheet += plan.kind === 'conflict' ? 0 : 1;
          sheetWrites.push({
            row,
            column: sheetColumnOf.get(column)!,
            value: toSheet(value, types[column]!),
          });
          next.cells[column] = {
            value,
            dot: state?.dot ?? 'db:1',
            time,
            echoed: true,
            sheetValue: value,
            sheetWrittenAt: at,
          };
        } else {
          r.cellsToDb += plan.kind === 'conflict' ? 0 : 1;
          toDb[column] = value;
          next.cells[column] = {
            value,
            dot,
            time,
            echoed: false,
            sheetValue: sheetValue,
            sheetWrittenAt: state?.sheetWrittenAt ?? 0,
          };
        }
      }
      if (Object.keys(toDb).length > 0) {
        upserts.push({ rowId, dot, key: doc!.key!, cells: toDb });
        next = { ...next, vv: { ...next.vv, sheet: doc!.vv.sheet + 1 } };
      }
      // Only rows that drifted are committed (next.cells is always a copy, so compare by flag).
      // A document that says the sheet shows a value is committed only after the sheet write:
      // committed before it, a crash in between would make the next run take the sheet's old
      // value for an edit and send it to the table.
      if (cellsChanged) (toSheetRow ? afterSheetWrites : commits).push({ next, conflicts });
    });
    r.idsAssigned += newIds.length;
    if (!deps.dryRun) {
      for (const { row, rowId } of newIds) idWrites.push({ row, column: idColumn, value: rowId });
      // Rows written now are on both sides: the table pass below must not take them for lone rows.
      for (const key of await applyDbWrites(deps, table, upserts, commits, now)) seenKeys.add(keyId(key));
      if (commits.length > 0) await store.commitRows(link.name, commits);
    }
    deps.onProgress?.(Math.min(start + CHUNK, total), total);
  }

  let idHeader = sheet.idColumn >= 0;
  if (!deps.dryRun && idWrites.length > 0) {
    await checkRowsStayed(grid, idColumn, sheet.rows, 'ids');
    if (!idHeader) idWrites.unshift({ row: 1, column: idColumn, value: ID_HEADER });
    idHeader = true;
    await grid.writeCells(idWrites);
    // The rows carry their ids on the sheet from now on (RowDocument.onSheetSince): a structure
    // event whose ids were read before lacks them without their having been deleted.
    const idsWrittenAt = now();
    for (const { row, value } of idWrites) {
      if (row < 2) continue;
      const values = sheet.rows[row - 2] ?? [];
      values[idColumn] = value;
      sheet.rows[row - 2] = values;
    }
    for (let i = 0; i < freshUpserts.length; i += CHUNK) {
      const commits: RowCommit[] = [];
      const keys = await applyDbWrites(deps, table, freshUpserts.slice(i, i + CHUNK), commits, now);
      for (const key of keys) seenKeys.add(keyId(key));
      for (const commit of commits) commit.next = { ...commit.next, onSheetSince: idsWrittenAt };
      // The documents as the sheet shows the rows now: committed at once, so a run stopped from
      // here on finds the rows in the table (and a next run sends what the table filled in).
      if (commits.length > 0) await store.commitRows(link.name, commits);
      // What the table filled in (an identity key, a column default, a value it normalised) goes
      // to the sheet as well, so both sides end up the same in this run; the documents that say
      // so are committed after that write, like every row whose cells are written to the sheet.
      const dbRows = await sql.begin((tx) => readRowsForUpdate(tx, { ...table, columns }, keys));
      const at = now();
      for (const { next } of commits) {
        const dbRow = next.key ? dbRows.get(keyId(next.key)) : undefined;
        const row = freshRow.get(next.rowId);
        const cells = { ...next.cells };
        let filled = false;
        for (const [column, c] of sheetColumnOf) {
          const value = dbRow?.[column];
          if (row === undefined || value === undefined || sameValue(value, cells[column]?.value ?? null))
            continue;
          filled = true;
          sheetWrites.push({ row, column: c, value: toSheet(value, types[column]!) });
          cells[column] = {
            value,
            dot: cells[column]?.dot ?? 'db:1',
            time: { wall: at, logical: 0 },
            echoed: true,
            sheetValue: value,
            sheetWrittenAt: at,
          };
        }
        if (filled) afterSheetWrites.push({ next: { ...next, cells } });
      }
    }
  }

  // Rows only the table holds.
  const object = columns.map((c) => `'${c.name.replaceAll("'", "''")}', ${jsonExpr(c)}`).join(', ');
  // Rows for the sheet are appended (then their documents created) a few thousand at a time,
  // so a table far larger than the sheet (reconcile as attach) does not sit in memory.
  const appends: SheetValue[][] = [];
  const appendDocs: RowDocument[] = [];
  /** Live rows appended again with their own sync id, and their values from the table. */
  const shownAgain: Array<{ doc: RowDocument; cells: Cells }> = [];
  const sheetRowOf = (rowId: string, cells: Cells): SheetValue[] =>
    Array.from({ length: Math.max(sheet.headers.length, idColumn + 1) }, (_, i) =>
      i === idColumn ? rowId : columnAt[i] ? toSheet(cells[columnAt[i]!] ?? null, types[columnAt[i]!]!) : '',
    );
  const flushAppends = async () => {
    if (appends.length === 0) return;
    await grid.appendRows(sheetId, appends.splice(0));
    // On the sheet from now on (RowDocument.onSheetSince): a structure event whose ids were read
    // before does not delete them.
    const appendedAt = now();
    await store.createRows(
      link.name,
      appendDocs.splice(0).map((doc) => ({ ...doc, onSheetSince: appendedAt })),
    );
    const time = { wall: appendedAt, logical: 0 };
    const again = shownAgain.splice(0);
    for (let i = 0; i < again.length; i += CHUNK) {
      await store.commitRows(
        link.name,
        again
          .slice(i, i + CHUNK)
          .map(({ doc, cells }) => ({ next: shownAgainDocument(doc, cells, time, appendedAt) })),
      );
    }
  };
  let appended = false;
  const dbDeletes: Array<{ rowId: string; key: Cells; doc: RowDocument; cells: Cells }> = [];
  const cursor = sql
    .unsafe(
      `select jsonb_build_object(${object}) as row from ${table.qualified} as t order by ${table.primaryKey.map((k) => `t.${ident(k)}`).join(', ')}`,
    )
    .cursor(CHUNK);
  let tableRows = 0;
  for await (const batch of cursor) {
    tableRows += batch.length;
    const lone = batch
      .map(({ row }) => canonicalRow({ ...table, columns }, row as Record<string, unknown>))
      .map((cells) => ({
        cells,
        key: Object.fromEntries(table.primaryKey.map((k) => [k, cells[k] ?? null])),
      }))
      .filter((x) => !seenKeys.has(keyId(x.key)));
    if (lone.length === 0) continue;
    const rowIds = await store.rowIdsForKeys(
      link.name,
      lone.map((x) => x.key),
    );
    const docs = await store.readRows(link.name, [...rowIds.values()]);
    for (const { cells, key } of lone) {
      const rowId = rowIds.get(keyId(key));
      const doc = rowId ? docs.get(rowId) : undefined;
      const plan = planLoneRow('db', doc, doc ? matchesSynced(doc, cells) : false);
      if (plan.kind === 'delete-db' && rowId && doc) {
        dbDeletes.push({ rowId, key, doc, cells });
        continue;
      }
      r.rowsAppendedToSheet++;
      if (deps.dryRun) continue;
      if (rowId && doc && !doc.tombstone) {
        // The sheet lost a row whose table row changed since: it goes back with its own id, so
        // its document (and key) name the row on the sheet, not a row no sheet row carries.
        appends.push(sheetRowOf(rowId, cells));
        shownAgain.push({ doc, cells });
      } else {
        const newId = randomUUID();
        appends.push(sheetRowOf(newId, cells));
        appendDocs.push(syncedRowDocument(newId, key, cells, { wall: now(), logical: 0 }, now()));
      }
    }
    if (appends.length >= APPEND_ROWS) {
      appended = true;
      await flushAppends();
    }
  }
  // The guard sees each side's deletes whole: more than the link's thresholds are held.
  const dbSide = await guardDeletes(guard, 'db', dbDeletes, tableRows);
  const sheetSide = await guardDeletes(guard, 'sheet', sheetDeleteCandidates, total);
  for (const held of [dbSide.held, sheetSide.held]) if (held) r.held.push(held);
  dbDeletes.splice(0, dbDeletes.length, ...dbSide.deletes);
  r.rowsDeletedFromDb = dbDeletes.length;
  r.rowsDeletedFromSheet = sheetSide.deletes.length;
  for (const d of sheetSide.deletes) sheetDeletes.push(d.row);
  // Rows a person wants back: on the sheet with their own id, or in the table from the sheet.
  r.rowsAppendedToSheet += dbSide.restores.length;
  r.rowsInsertedInDb += sheetSide.restores.length;
  if (!deps.dryRun) {
    for (const d of dbSide.restores) {
      appends.push(sheetRowOf(d.rowId, d.cells));
      shownAgain.push({ doc: d.doc, cells: d.cells });
    }
    const restoreUpserts = sheetSide.restores.map((d) => ({
      rowId: d.rowId,
      dot: 'sheet:1',
      key: undefined,
      cells: { ...d.key, ...withoutNullKeys(d.cells, table.primaryKey) },
    }));
    for (let i = 0; i < restoreUpserts.length; i += CHUNK) {
      const commits: RowCommit[] = [];
      await applyDbWrites(deps, table, restoreUpserts.slice(i, i + CHUNK), commits, now);
      if (commits.length > 0) await store.commitRows(link.name, commits);
    }
  }
  if (!deps.dryRun) {
    if (dbDeletes.length > 0) {
      const written = await inSheetTransaction(sql, (tx) =>
        writeRows(
          tx,
          table,
          [],
          dbDeletes.map((d) => ({ rowId: d.rowId, dot: 'sheet:1', key: d.key })),
        ),
      );
      // A row the table would not delete (a foreign key refers to it) goes back on the sheet.
      const refused = new Map(written.errors.map((e) => [e.rowId, e]));
      for (const d of dbDeletes) {
        const error = refused.get(d.rowId);
        if (!error) continue;
        r.rowsDeletedFromDb--;
        r.rowsAppendedToSheet++;
        r.deletesRefused.push({
          rowId: d.rowId,
          key: d.key,
          message: `${error.message} (SQLSTATE ${error.sqlState})`,
        });
        appends.push(sheetRowOf(d.rowId, d.cells));
        shownAgain.push({ doc: d.doc, cells: d.cells });
      }
      await store.commitRows(
        link.name,
        dbDeletes
          .filter((d) => !refused.has(d.rowId))
          .map((d) => ({
            next: {
              ...emptyRowDocument(d.rowId, d.key),
              tombstone: { dot: 'sheet:1', time: { wall: now(), logical: 0 } },
            },
          })),
      );
    }
    if (!idHeader && (appended || appends.length > 0))
      sheetWrites.push({ row: 1, column: idColumn, value: ID_HEADER });
    // Sheet writes go by the row positions read at the start; rows a person inserted, deleted or
    // sorted since would take other rows' cells. One read of the id column tells (every data row
    // has its id by now), and the run stops before writing (E506).
    if (idHeader && (sheetWrites.length > 0 || sheetDeletes.length > 0))
      await checkRowsStayed(grid, idColumn, sheet.rows, 'cells');
    if (sheetWrites.length > 0) await grid.writeCells(sheetWrites);
    for (let i = 0; i < afterSheetWrites.length; i += CHUNK)
      await store.commitRows(link.name, afterSheetWrites.slice(i, i + CHUNK));
    await flushAppends();
    await grid.deleteRows(sheetId, sheetDeletes);
  }
  return r;
}

/**
 * Throws SHEETSYNC_E506 when a row read at the start is not where it was: it holds another sync
 * id now, or, for a row that had none, other values (rows were inserted, deleted or sorted
 * meanwhile, or the script gave an id-less row its id). Rows with ids cost one read of the id
 * column; id-less rows, one read of the tab. `stage` says what the run has not done yet.
 */
async function checkRowsStayed(
  grid: SheetGrid,
  idColumn: number,
  rows: readonly SheetValue[][],
  stage: 'ids' | 'cells',
) {
  const idOf = (values: readonly SheetValue[] | undefined) => String(values?.[idColumn] ?? '');
  const idless = rows.some((values) => idOf(values) === '' && !isBlankRow(values));
  const now = idless ? (await grid.read()).rows : (await grid.readColumn(idColumn)).map((id) => [id]);
  const idNow = (i: number) => String((idless ? now[i]?.[idColumn] : now[i]?.[0]) ?? '');
  const content = (values: readonly SheetValue[] | undefined) =>
    JSON.stringify((values ?? []).map((v) => v ?? ''))
      .replace(/(,"")+]$/, ']')
      .replace(/^\[""]$/, '[]');
  for (let i = 0; i < rows.length; i++) {
    const before = idOf(rows[i]);
    const after = idNow(i);
    const moved = before !== after || (before === '' && content(rows[i]) !== content(now[i]));
    if (!moved) continue;
    const what = before === '' ? 'held a row without a sync id' : `held sync id "${before}"`;
    throw new SheetsyncError(
      'SHEETSYNC_E506',
      `the sheet's rows changed while reconcile ran (row ${i + 2} ${what}, now ${after === '' ? 'other values' : `"${after}"`}): ` +
        'rows were inserted, deleted or sorted. ' +
        (stage === 'ids'
          ? 'Rows with a sync id are repaired in the table; the rows without a sync id were not added to the table and got no id. '
          : 'The table is repaired; ') +
        'No cell of an existing sheet row was written or deleted. Run reconcile again while nobody reorganises the sheet.',
      'retry',
    );
  }
}

function withoutNullKeys(cells: Cells, key: string[]): Cells {
  return Object.fromEntries(Object.entries(cells).filter(([c, v]) => !(v === null && key.includes(c))));
}

/** Writes the sheet's values to the DB, then the row documents of rows new to the table. */
async function applyDbWrites(
  deps: SyncDeps,
  table: Awaited<ReturnType<typeof describeTable>>,
  upserts: RowUpsert[],
  commits: RowCommit[],
  now: () => number,
): Promise<Cells[]> {
  if (upserts.length === 0) return [];
  const result = await inSheetTransaction(deps.sql, async (tx) => {
    const written = await writeRows(tx, table, upserts, []);
    await recordInsertedRows(tx, deps.link.name, upserts, written);
    return written;
  });
  if (result.errors.length > 0) {
    const first = result.errors[0]!;
    // Not PostgreSQL's message: it may quote the row's values, and this one reaches the log.
    throw new Error(
      `reconcile: ${result.errors.length} row(s) failed to write to ${table.qualified}, first: sheet row ` +
        `${first.rowId}${first.column ? `, column ${first.column}` : ''} (${first.code}, SQLSTATE ${first.sqlState})`,
    );
  }
  const time = { wall: now(), logical: 0 };
  for (const upsert of upserts) {
    if (upsert.key) continue;
    const key = result.keys.get(upsert.rowId);
    if (!key) continue;
    const doc = syncedRowDocument(upsert.rowId, key as Cells, upsert.cells as Cells, time, 0);
    for (const state of Object.values(doc.cells)) Object.assign(state, { dot: upsert.dot, echoed: false });
    commits.push({ next: { ...doc, vv: { sheet: 1, db: 0 } } });
  }
  return [...result.keys.values()] as Cells[];
}
