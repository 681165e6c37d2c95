/**
 * reconcile, step 3 (write), the table's side and the checks before the sheet's: DB writes go
 * through writeRows with origin 'sheet' and the row's next sheet dot, like applyToDb, so their
 * echoes are recognised. Rows new to the table get their ids on the sheet first.
 */
import { ID_HEADER, isBlankRow, type SheetValue } from '../../adapters/sheets/sheet-tab.ts';
import type { TableSchema } from '../../adapters/table/table-schema.ts';
import type { RowUpsert } from '../../adapters/table/table-writer.ts';
import { type Cells, sameValue } from '../../core/cell-value.ts';
import { toSheet } from '../../core/coercion.ts';
import { keyId } from '../../core/key-id.ts';
import { syncedRowDocument } from '../../core/reconcile-plan.ts';
import { SheetsyncError } from '../../errors.ts';
import type { RowCommit } from '../../ports.ts';
import { type SyncDeps, syncDatabase } from '../link-sync-deps.ts';
import type { SheetGrid } from '../sheet-grid.ts';
import { CHUNK, type ReconcileRun } from './run.ts';

/**
 * Writes the new ids of the sheet's id-less rows (after a check that no row moved), then
 * inserts those rows in the table, and sends what the table filled in (an identity key, a
 * default, a value it normalised) back to the sheet. Returns whether the sheet has its id header.
 */
export async function writeIdsThenRows(run: ReconcileRun): Promise<boolean> {
  const { deps, grid, sheet, idColumn, idWrites, seenKeys } = run;
  const { store, link } = deps;
  let idHeader = sheet.idColumn >= 0;
  if (deps.dryRun || idWrites.length === 0) return idHeader;
  await checkRowsStayed(grid, idColumn, sheet.rows, 'ids');
  if (!idHeader) idWrites.unshift({ row: 1, column: idColumn, value: ID_HEADER });
  idHeader = true;
  await grid.writeCells(idWrites);
  // The rows carry their ids on the sheet from now on (RowDocument.onSheetSince): a structure
  // event whose ids were read before lacks them without their having been deleted.
  const idsWrittenAt = run.now();
  for (const { row, value } of idWrites) {
    if (row < 2) continue;
    const values = sheet.rows[row - 2] ?? [];
    values[idColumn] = value;
    sheet.rows[row - 2] = values;
  }
  for (let i = 0; i < run.freshUpserts.length; i += CHUNK) {
    const commits: RowCommit[] = [];
    const keys = await applyDbWrites(deps, run.table, run.freshUpserts.slice(i, i + CHUNK), commits, run.now);
    for (const key of keys) seenKeys.add(keyId(key));
    for (const commit of commits) commit.next = { ...commit.next, onSheetSince: idsWrittenAt };
    // The documents as the sheet shows the rows now: committed at once, so a run stopped from
    // here on finds the rows in the table (and a next run sends what the table filled in).
    if (commits.length > 0) await store.commitRows(link.name, commits);
    // What the table filled in goes to the sheet as well, so both sides end up the same in this
    // run; the documents that say so are committed after that write, like every row whose cells
    // are written to the sheet.
    const dbRows = await syncDatabase(deps).readRows({ ...run.table, columns: run.columns }, keys);
    const at = run.now();
    for (const { next } of commits) {
      const dbRow = next.key ? dbRows.get(keyId(next.key)) : undefined;
      const row = run.freshRow.get(next.rowId);
      const cells = { ...next.cells };
      let filled = false;
      for (const [column, c] of run.sheetColumnOf) {
        const value = dbRow?.[column];
        if (row === undefined || value === undefined || sameValue(value, cells[column]?.value ?? null))
          continue;
        filled = true;
        run.sheetWrites.push({ row, column: c, value: toSheet(value, run.types[column]!) });
        cells[column] = {
          value,
          dot: cells[column]?.dot ?? 'db:1',
          time: { wall: at, logical: 0 },
          echoed: true,
          sheetValue: value,
          sheetWrittenAt: at,
        };
      }
      if (filled) run.afterSheetWrites.push({ next: { ...next, cells } });
    }
  }
  return idHeader;
}

/** Writes the sheet's values to the DB, then the row documents of rows new to the table. */
export async function applyDbWrites(
  deps: SyncDeps,
  table: TableSchema,
  upserts: RowUpsert[],
  commits: RowCommit[],
  now: () => number,
): Promise<Cells[]> {
  if (upserts.length === 0) return [];
  const result = await syncDatabase(deps).writeFromSheet(table, deps.link.name, upserts, []);
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

/**
 * Throws SHEETSYNC_E506 when a row read at the start is not where it was: it holds another sync
 * id now, or, for a row that had none, other values (rows were inserted, deleted or sorted
 * meanwhile, or the script gave an id-less row its id). Rows with ids cost one read of the id
 * column; id-less rows, one read of the tab. `stage` says what the run has not done yet.
 */
export async function checkRowsStayed(
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
