/**
 * reconcile, step 2b (diff, table side): the table streamed with a cursor, in key order, to
 * find the rows the sheet lacks. Each goes to the sheet (appended a few thousand at a time, so
 * a table far larger than the sheet does not sit in memory) or, when the sheet deleted it, is a
 * candidate for deletion from the table (guardDeletes decides).
 */
import { randomUUID } from 'node:crypto';
import type { SheetValue } from '../../adapters/sheets/sheet-tab.ts';
import type { Cells } from '../../core/cell-value.ts';
import { toSheet } from '../../core/coercion.ts';
import { keyId } from '../../core/key-id.ts';
import {
  matchesSynced,
  planLoneRow,
  shownAgainDocument,
  syncedRowDocument,
} from '../../core/reconcile-plan.ts';
import type { RowDocument } from '../../core/row-document.ts';
import { syncDatabase } from '../link-sync-deps.ts';
import { CHUNK, type ReconcileRun } from './run.ts';

/** Rows per append request to the sheet (about 1.3 MB for 7 columns, under the 2 MB advice). */
const APPEND_ROWS = 4000;

/** A table row the sheet lacks, deleted from the sheet since it was synced. */
export interface DbDelete {
  rowId: string;
  key: Cells;
  doc: RowDocument;
  cells: Cells;
}

/** Rows on their way to the end of the sheet, with the documents to write once they are there. */
export class SheetAppends {
  private readonly rows: SheetValue[][] = [];
  private readonly docs: RowDocument[] = [];
  /** Live rows appended again with their own sync id, and their values from the table. */
  private readonly shownAgain: Array<{ doc: RowDocument; cells: Cells }> = [];
  /** Whether any row was appended yet. */
  appended = false;

  constructor(
    private readonly run: ReconcileRun,
    private readonly sheetId: number,
  ) {}

  get pending(): number {
    return this.rows.length;
  }

  /** A new row, with a new sync id and its document. */
  addNew(key: Cells, cells: Cells): void {
    const newId = randomUUID();
    this.rows.push(this.sheetRow(newId, cells));
    this.docs.push(
      syncedRowDocument(newId, key, cells, { wall: this.run.now(), logical: 0 }, this.run.now()),
    );
  }

  /** A live row back on the sheet with its own id, so its document (and key) name it there. */
  addAgain(rowId: string, doc: RowDocument, cells: Cells): void {
    this.rows.push(this.sheetRow(rowId, cells));
    this.shownAgain.push({ doc, cells });
  }

  async flush(): Promise<void> {
    const { run } = this;
    const { store, link } = run.deps;
    if (this.rows.length === 0) return;
    await run.grid.appendRows(this.sheetId, this.rows.splice(0));
    // On the sheet from now on (RowDocument.onSheetSince): a structure event whose ids were read
    // before does not delete them.
    const appendedAt = run.now();
    await store.createRows(
      link.name,
      this.docs.splice(0).map((doc) => ({ ...doc, onSheetSince: appendedAt })),
    );
    const time = { wall: appendedAt, logical: 0 };
    const again = this.shownAgain.splice(0);
    for (let i = 0; i < again.length; i += CHUNK) {
      await store.commitRows(
        link.name,
        again
          .slice(i, i + CHUNK)
          .map(({ doc, cells }) => ({ next: shownAgainDocument(doc, cells, time, appendedAt) })),
      );
    }
  }

  private sheetRow(rowId: string, cells: Cells): SheetValue[] {
    const { sheet, idColumn, columnAt, types } = this.run;
    return Array.from({ length: Math.max(sheet.headers.length, idColumn + 1) }, (_, i) =>
      i === idColumn ? rowId : columnAt[i] ? toSheet(cells[columnAt[i]!] ?? null, types[columnAt[i]!]!) : '',
    );
  }
}

/** Streams the table; returns its rows deleted on the sheet, and how many rows it has. */
export async function compareTableRows(
  run: ReconcileRun,
  appends: SheetAppends,
): Promise<{ dbDeletes: DbDelete[]; tableRows: number }> {
  const { deps, table, columns, seenKeys, result: r } = run;
  const { store, link } = deps;
  const dbDeletes: DbDelete[] = [];
  let tableRows = 0;
  await syncDatabase(deps).scanRows({ ...table, columns }, CHUNK, async (batch) => {
    tableRows += batch.length;
    const lone = batch
      .map((cells) => ({
        cells,
        key: Object.fromEntries(table.primaryKey.map((k) => [k, cells[k] ?? null])),
      }))
      .filter((x) => !seenKeys.has(keyId(x.key)));
    if (lone.length === 0) return;
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
      // The sheet lost a row whose table row changed since: it goes back with its own id, so
      // its document (and key) name the row on the sheet, not a row no sheet row carries.
      if (rowId && doc && !doc.tombstone) appends.addAgain(rowId, doc, cells);
      else appends.addNew(key, cells);
    }
    if (appends.pending >= APPEND_ROWS) {
      appends.appended = true;
      await appends.flush();
    }
  });
  return { dbDeletes, tableRows };
}
