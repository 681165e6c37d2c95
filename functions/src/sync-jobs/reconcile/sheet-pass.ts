/**
 * reconcile, step 2a (diff, sheet side): the sheet's rows in chunks, each against its row
 * document and DB row (core/reconcile-plan.ts decides per cell). Drift in the table is written
 * chunk by chunk; what goes to the sheet is gathered in the run for the end.
 */
import { randomUUID } from 'node:crypto';
import { isBlankRow, type SheetValue } from '../../adapters/sheets/sheet-tab.ts';
import type { RowUpsert } from '../../adapters/table/table-writer.ts';
import type { Cells } from '../../core/cell-value.ts';
import { fromSheet, isSheetPreviewOf, toSheet } from '../../core/coercion.ts';
import type { ConflictRecord } from '../../core/conflict-record.ts';
import { tick } from '../../core/hlc.ts';
import { keyId } from '../../core/key-id.ts';
import { matchesSynced, planCell, planLoneRow } from '../../core/reconcile-plan.ts';
import type { RowDocument } from '../../core/row-document.ts';
import type { RowCommit } from '../../ports.ts';
import { driftConflict } from '../drift-conflict.ts';
import { idsByKey } from '../ids-by-key.ts';
import { syncDatabase } from '../link-sync-deps.ts';
import { CHUNK, type ReconcileRun, withoutNullKeys } from './run.ts';
import { applyDbWrites } from './table-writes.ts';

export async function compareSheetRows(run: ReconcileRun): Promise<void> {
  const { deps, table, columns, sheet, idColumn, result: r, seenKeys } = run;
  const { link, store } = deps;
  const database = syncDatabase(deps);
  const seenIds = new Set<string>();
  const total = sheet.rows.length;
  // Rows without an id that show the table's key get the id sheetsync knows for it (ids-by-key.ts).
  const taken = new Set(sheet.rows.map((values) => String(values[idColumn] ?? '')).filter((id) => id !== ''));
  const keyAt = new Map(
    table.primaryKey.flatMap((k) =>
      run.sheetColumnOf.has(k) ? [[k, run.sheetColumnOf.get(k)!] as const] : [],
    ),
  );
  const keyColumns = {
    at: keyAt.size === table.primaryKey.length ? keyAt : new Map<string, number>(),
    types: run.types,
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
    const dbRows = await database.readRows({ ...table, columns }, keys);
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
        run.freshRow.set(rowId, row);
      } else if (known) newIds.push({ row, rowId });
      seenIds.add(rowId);
      const doc = fresh ? undefined : docs.get(rowId);
      const db = doc?.key && !doc.tombstone ? dbRows.get(keyId(doc.key)) : undefined;
      const cells = sheetCells(run, row, values, doc, db);
      if (doc?.key) seenKeys.add(keyId(doc.key));
      if (!db) {
        const plan = planLoneRow('sheet', doc, doc ? matchesSynced(doc, cells) : false);
        if (plan.kind === 'delete-sheet') {
          run.sheetDeleteCandidates.push({ row, rowId, key: doc?.key ?? null, cells });
        } else {
          const key = doc?.key ?? undefined;
          (fresh ? run.freshUpserts : upserts).push({
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
      compareRow(run, row, rowId, doc!, db, cells, upserts, commits);
    });
    r.idsAssigned += newIds.length;
    if (!deps.dryRun) {
      for (const { row, rowId } of newIds) run.idWrites.push({ row, column: idColumn, value: rowId });
      // Rows written now are on both sides: the table pass below must not take them for lone rows.
      for (const key of await applyDbWrites(deps, table, upserts, commits, run.now)) seenKeys.add(keyId(key));
      if (commits.length > 0) await store.commitRows(link.name, commits);
    }
    deps.onProgress?.(Math.min(start + CHUNK, total), total);
  }
}

/** A sheet row's values, canonical per column type; a cell that does not fit is a bad cell. */
function sheetCells(
  run: ReconcileRun,
  row: number,
  values: SheetValue[],
  doc: RowDocument | undefined,
  db: Cells | undefined,
): Cells {
  const cells: Cells = {};
  for (const [c, name] of run.columnAt.entries()) {
    if (!name) continue;
    const raw = (values[c] ?? null) as SheetValue;
    // The preview of a value too long for a cell (coercion.sheetPreview) is that value: the
    // table's, or the one last synced (the sheet has not changed since).
    const state = doc?.cells[name];
    const previewed = [db?.[name], state?.sheetValue, state?.value].find((v) =>
      isSheetPreviewOf(raw, v, run.types[name]!),
    );
    if (previewed !== undefined) {
      cells[name] = previewed;
      continue;
    }
    const coerced = fromSheet(raw, run.types[name]!);
    if (coerced.ok) cells[name] = coerced.value;
    else run.result.badCells.push({ row, column: name, message: coerced.message });
  }
  return cells;
}

/** A row on both sides: each cell planned (same, to the table, to the sheet, or a conflict). */
function compareRow(
  run: ReconcileRun,
  row: number,
  rowId: string,
  doc: RowDocument,
  db: Cells,
  cells: Cells,
  upserts: RowUpsert[],
  commits: RowCommit[],
): void {
  const { deps, result: r } = run;
  const policy = deps.link.conflict.policy;
  const at = run.now();
  let next: RowDocument = { ...doc, cells: { ...doc.cells } };
  const toDb: Cells = {};
  const conflicts: ConflictRecord[] = [];
  const dot = `sheet:${doc.vv.sheet + 1}`;
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
        driftConflict(deps.link.name, policy, rowId, column, plan.sheet, plan.db, plan.winner, at),
      );
    }
    const time = tick(state?.time ?? { wall: 0, logical: 0 }, at);
    if (toSheetValue) {
      toSheetRow = true;
      r.cellsToSheet += plan.kind === 'conflict' ? 0 : 1;
      run.sheetWrites.push({
        row,
        column: run.sheetColumnOf.get(column)!,
        value: toSheet(value, run.types[column]!),
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
    upserts.push({ rowId, dot, key: doc.key!, cells: toDb });
    next = { ...next, vv: { ...next.vv, sheet: doc.vv.sheet + 1 } };
  }
  // Only rows that drifted are committed (next.cells is always a copy, so compare by flag).
  // A document that says the sheet shows a value is committed only after the sheet write:
  // committed before it, a crash in between would make the next run take the sheet's old
  // value for an edit and send it to the table.
  if (cellsChanged) (toSheetRow ? run.afterSheetWrites : commits).push({ next, conflicts });
}
