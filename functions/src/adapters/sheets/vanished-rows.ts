/**
 * The memory of rows that vanished from a tab (deleted in the sheet) between two reads, each
 * with the id of the row that was above it then. A row the database would not delete goes back
 * there (SheetTab.returnRow, docs/design/deletes-refused.md). Pure: no I/O.
 */
import { idsByRow, type TabSnapshot } from './tab-model.ts';

/** How many vanished rows are remembered (the most recent). */
export const MAX_VANISHED = 10_000;

export class VanishedRows {
  /** Sync id → the id of the row above it when last seen (null: the first row under the header). */
  private readonly above = new Map<string, string | null>();

  /**
   * Records the rows of `before` (ids in row order, as idsByRow gives) that `after` lacks. A
   * read that finds more than MAX_VANISHED rows gone records none of them.
   */
  remember(before: readonly (string | undefined)[], after: TabSnapshot): void {
    // Both reads in row order, side by side: a row found where the new read's order continues
    // costs a comparison; only the others are looked up (a tab of 1.4M rows takes ~0.3 s to look
    // up every id, ~0.1 s this way after rows were inserted or deleted; a sort costs the lookups).
    const seen = idsByRow(after);
    const gone: Array<[string, string | null]> = [];
    let above: string | null = null;
    let next = 2;
    for (const id of before) {
      if (id === undefined) continue;
      while (next < seen.length && seen[next] === undefined) next++;
      if (seen[next] === id) {
        next++;
      } else {
        const found = after.rows.get(id);
        if (!found) {
          gone.push([id, above]);
          if (gone.length > MAX_VANISHED) return;
        } else if (found.row > next) next = found.row + 1; // rows were inserted above it
      }
      above = id;
    }
    for (const [id, upper] of gone) {
      this.above.delete(id); // re-inserted: the newest last
      this.above.set(id, upper);
    }
    for (const id of this.above.keys()) {
      if (this.above.size <= MAX_VANISHED) break;
      this.above.delete(id);
    }
  }

  /**
   * Where a row that vanished from the tab goes back: below the row that was above it when it
   * was last seen (below that row's own upper row if it vanished too), as a row (1-based) of
   * the tab after `deletes`. Undefined when the row was not seen to vanish.
   */
  returnRow(rowId: string, snapshot: TabSnapshot, deletes: readonly string[]): number | undefined {
    let above = this.above.get(rowId);
    for (let hops = 0; above !== undefined && hops <= MAX_VANISHED; hops++) {
      if (above === null) return 2;
      const target = snapshot.rows.get(above);
      if (target) {
        let deletedAbove = 0;
        for (const id of deletes) {
          const row = snapshot.rows.get(id)?.row;
          if (row !== undefined && row <= target.row) deletedAbove++;
        }
        return target.row + 1 - deletedAbove;
      }
      above = this.above.get(above);
    }
    return undefined;
  }

  /** Forgets a row (it is back on the tab). */
  forget(rowId: string): void {
    this.above.delete(rowId);
  }
}
