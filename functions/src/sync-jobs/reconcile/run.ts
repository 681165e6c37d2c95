/**
 * reconcile, step 1 (read): the link's table described, its sheet read whole, the headers
 * matched to the link's columns, and the state one run of reconcileLink gathers as it compares
 * (what to write where, what each side lost).
 */
import type { SheetValue } from '../../adapters/sheets/sheet-tab.ts';
import { matchHeaders, type TableColumn, type TableSchema } from '../../adapters/table/table-schema.ts';
import type { RowUpsert } from '../../adapters/table/table-writer.ts';
import type { Cells } from '../../core/cell-value.ts';
import { type ColumnType, parseColumnType } from '../../core/column-type.ts';
import type { HeldChange } from '../../core/mass-change.ts';
import type { RowCommit } from '../../ports.ts';
import { linkColumns, type SyncDeps, syncDatabase } from '../link-sync-deps.ts';
import { linkedGrid } from '../linked-grid.ts';
import type { HeldDecision } from '../reconcile-guard.ts';
import type { Grid, SheetGrid } from '../sheet-grid.ts';

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

export type ReconcileDeps = SyncDeps & { dryRun: boolean; decision?: HeldDecision };

/** A cell to write to the sheet: row 1-based, column 0-based. */
export interface CellWrite {
  row: number;
  column: number;
  value: SheetValue;
}

/** One run of reconcileLink: what it read, and what it has found so far. */
export interface ReconcileRun {
  deps: ReconcileDeps;
  now: () => number;
  grid: SheetGrid;
  table: TableSchema;
  /** The link's columns of the table. */
  columns: TableColumn[];
  types: Record<string, ColumnType>;
  sheet: Grid;
  /** Per sheet column: the table column it shows, if any. */
  columnAt: Array<string | undefined>;
  /** Table column → its sheet column. */
  sheetColumnOf: Map<string, number>;
  /** The sheet's id column (where it will be written, for a sheet without one). */
  idColumn: number;
  result: ReconcileResult;
  /** Keys of rows on both sides, or written to both by this run: not lone table rows. */
  seenKeys: Set<string>;
  sheetWrites: CellWrite[];
  /**
   * Rows the sheet holds without a sync id (or with a pasted copy's): their new ids, and their
   * table inserts. The ids go to the sheet first, after a check that no row moved; the inserts
   * follow. Inserted first, a run stopped before the ids were written (rows moved, a failed
   * write) would leave table rows the sheet cannot name, and the next run would insert them again.
   */
  idWrites: CellWrite[];
  freshUpserts: RowUpsert[];
  /** Sheet row of each fresh row, by its new id. */
  freshRow: Map<string, number>;
  /** Row documents of rows with cells written to the sheet: committed once those are written. */
  afterSheetWrites: RowCommit[];
  /** Rows the table lost: deleted from the sheet, or held, once all are known (guardDeletes). */
  sheetDeleteCandidates: Array<{ row: number; rowId: string; key: Cells | null; cells: Cells }>;
}

export async function startRun(deps: ReconcileDeps): Promise<ReconcileRun> {
  const { link } = deps;
  // The tab by its recorded sheetId, not only by the config's title (linked-grid.ts).
  const grid = await linkedGrid(deps);
  const table = await syncDatabase(deps).describe(link.table, link);
  const columns = linkColumns(link, table);
  const sheet = await grid.read();
  const matched = matchHeaders(sheet.headers, { ...table, columns });
  const types: Record<string, ColumnType> = Object.fromEntries(
    columns.map((c) => [c.name, parseColumnType(c.type)]),
  );
  const columnAt = sheet.headers.map((h) => matched.columns.get(h)?.name);
  const sheetColumnOf = new Map(columnAt.flatMap((c, i) => (c ? [[c, i] as const] : [])));
  let idColumn = sheet.idColumn;
  if (idColumn < 0) idColumn = sheet.headers.length; // written with the first id, as attach does
  return {
    deps,
    now: deps.now ?? Date.now,
    grid,
    table,
    columns,
    types,
    sheet,
    columnAt,
    sheetColumnOf,
    idColumn,
    result: {
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
    },
    seenKeys: new Set(),
    sheetWrites: [],
    idWrites: [],
    freshUpserts: [],
    freshRow: new Map(),
    afterSheetWrites: [],
    sheetDeleteCandidates: [],
  };
}

/** Rows per read of documents and DB rows, and per DB write. */
export const CHUNK = 1000;

/** The table's values of `cells` without NULL key columns (the table fills those in). */
export function withoutNullKeys(cells: Cells, key: string[]): Cells {
  return Object.fromEntries(Object.entries(cells).filter(([c, v]) => !(v === null && key.includes(c))));
}
