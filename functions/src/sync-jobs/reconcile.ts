/**
 * `sheetsync reconcile`: a full compare of a link's sheet and table by sync id, which repairs
 * drift (changes that bypassed the pipeline). Decisions: functions/src/core/reconcile-plan.ts.
 *
 * The sheet is read whole (one values.get; the Sheets API has no cursor), the row documents and
 * DB rows in chunks of sheet rows, then the table is streamed with a cursor to find the rows the
 * sheet lacks (read: reconcile/run.ts; diff: sheet-pass.ts, table-pass.ts). DB writes go through
 * writeRows with origin 'sheet' and the row's next sheet dot, like applyToDb, so their echoes are
 * recognised; sheet writes are RAW values.batchUpdate (write: table-writes.ts and below).
 */
import { ID_HEADER } from '../adapters/sheets/sheet-tab.ts';
import { emptyRowDocument } from '../core/row-document.ts';
import type { RowCommit } from '../ports.ts';
import { syncDatabase } from './link-sync-deps.ts';
import {
  CHUNK,
  type ReconcileDeps,
  type ReconcileResult,
  startRun,
  withoutNullKeys,
} from './reconcile/run.ts';
import { compareSheetRows } from './reconcile/sheet-pass.ts';
import { compareTableRows, type DbDelete, SheetAppends } from './reconcile/table-pass.ts';
import { applyDbWrites, checkRowsStayed, writeIdsThenRows } from './reconcile/table-writes.ts';
import { guardDeletes } from './reconcile-guard.ts';

export type { ReconcileResult } from './reconcile/run.ts';

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

export async function reconcileLink(deps: ReconcileDeps): Promise<ReconcileResult> {
  const { link, store } = deps;
  const run = await startRun(deps);
  const { grid, table, sheet, idColumn, result: r, now } = run;
  const guard = {
    store,
    link,
    ...(deps.logger ? { logger: deps.logger } : {}),
    now,
    dryRun: deps.dryRun,
    ...(deps.decision ? { decision: deps.decision } : {}),
  };
  const sheetId = deps.dryRun ? 0 : await grid.sheetId();
  await compareSheetRows(run);
  const idHeader = await writeIdsThenRows(run);

  // Rows only the table holds.
  const appends = new SheetAppends(run, sheetId);
  const { dbDeletes, tableRows } = await compareTableRows(run, appends);
  // The guard sees each side's deletes whole: more than the link's thresholds are held.
  const dbSide = await guardDeletes(guard, 'db', dbDeletes, tableRows);
  const sheetSide = await guardDeletes(guard, 'sheet', run.sheetDeleteCandidates, sheet.rows.length);
  for (const held of [dbSide.held, sheetSide.held]) if (held) r.held.push(held);
  dbDeletes.splice(0, dbDeletes.length, ...dbSide.deletes);
  r.rowsDeletedFromDb = dbDeletes.length;
  r.rowsDeletedFromSheet = sheetSide.deletes.length;
  const sheetDeletes = sheetSide.deletes.map((d) => d.row);
  // Rows a person wants back: on the sheet with their own id, or in the table from the sheet.
  r.rowsAppendedToSheet += dbSide.restores.length;
  r.rowsInsertedInDb += sheetSide.restores.length;
  if (deps.dryRun) return r;

  for (const d of dbSide.restores) appends.addAgain(d.rowId, d.doc, d.cells);
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
  if (dbDeletes.length > 0) await deleteFromTable(run, dbDeletes, appends);
  if (!idHeader && (appends.appended || appends.pending > 0))
    run.sheetWrites.push({ row: 1, column: idColumn, value: ID_HEADER });
  // Sheet writes go by the row positions read at the start; rows a person inserted, deleted or
  // sorted since would take other rows' cells. One read of the id column tells (every data row
  // has its id by now), and the run stops before writing (E506).
  if (idHeader && (run.sheetWrites.length > 0 || sheetDeletes.length > 0))
    await checkRowsStayed(grid, idColumn, sheet.rows, 'cells');
  if (run.sheetWrites.length > 0) await grid.writeCells(run.sheetWrites);
  for (let i = 0; i < run.afterSheetWrites.length; i += CHUNK)
    await store.commitRows(link.name, run.afterSheetWrites.slice(i, i + CHUNK));
  await appends.flush();
  await grid.deleteRows(sheetId, sheetDeletes);
  return r;
}

/** Deletes from the table the rows the sheet deleted; a row it would not delete goes back. */
async function deleteFromTable(
  run: Awaited<ReturnType<typeof startRun>>,
  dbDeletes: DbDelete[],
  appends: SheetAppends,
): Promise<void> {
  const { deps, table, result: r, now } = run;
  const written = await syncDatabase(deps).writeFromSheet(
    table,
    deps.link.name,
    [],
    dbDeletes.map((d) => ({ rowId: d.rowId, dot: 'sheet:1', key: d.key })),
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
    appends.addAgain(d.rowId, d.doc, d.cells);
  }
  await deps.store.commitRows(
    deps.link.name,
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
