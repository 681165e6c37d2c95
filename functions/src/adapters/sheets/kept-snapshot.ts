/**
 * The snapshot a SheetTab keeps between reads (docs/design/kept-snapshot.md): while the change
 * token stays the same, read() serves it instead of reading the tab, and write() brings it up
 * to date with what it wrote (applyToKept). Pure: no I/O.
 */
import type { PlacedWrite, SheetValue, TabSnapshot } from './tab-model.ts';

export interface KeptSnapshot {
  snapshot: TabSnapshot;
  token: unknown;
  /** The `values` part of a two-part token when the snapshot's values were last all current. */
  valuesToken: unknown;
  /**
   * Set when cells were edited in place since the snapshot was read: which rows' values are
   * current again (read by verify(), since). Undefined while all are current.
   */
  verified?: Set<string>;
  /** Whether the positions are as read, with no in-place edit since (which could have moved rows). */
  positionsFresh: boolean;
  at: number;
  /** How long the read that made it took (ms). */
  readMs: number;
  /** Rows (1-based, below the header) holding values but no id of `rows`: id-less rows, copies. */
  otherRows: number[];
}

/** A change token's parts: `{rows, values}` as VersionStore.sheetEpochs gives, or one value. */
export function splitToken(token: unknown): { rows: unknown; values: unknown } {
  if (token && typeof token === 'object' && 'rows' in token && 'values' in token) {
    const { rows, values } = token as { rows: unknown; values: unknown };
    return { rows, values };
  }
  return { rows: token, values: undefined };
}

/**
 * Brings the kept snapshot up to date with a write that succeeded (no new columns): cells
 * updated, deleted rows gone and the rows below moved up, rows put back (`inserts`) in place with
 * the rows below moved down, appended rows at the end with their positions. Returns the tab's
 * new row count when appends grew its grid, undefined otherwise.
 */
export function applyToKept(kept: KeptSnapshot, write: PlacedWrite): number | undefined {
  const { snapshot } = kept;
  const columnOf = new Map(snapshot.headers.map((h, i) => [h, i]));
  const setCells = (values: SheetValue[], cells: Record<string, SheetValue>) => {
    for (const [header, value] of Object.entries(cells)) {
      const column = columnOf.get(header);
      if (column === undefined || column === snapshot.idColumn) continue;
      while (values.length <= column) values.push('');
      values[column] = value ?? '';
    }
  };
  for (const update of write.updates) {
    const target = snapshot.rows.get(update.rowId);
    if (target) setCells(target.values, update.cells);
  }
  const deleted = write.deletes
    .map((id) => snapshot.rows.get(id)?.row)
    .filter((r): r is number => r !== undefined)
    .sort((a, b) => a - b);
  if (deleted.length > 0) {
    for (const id of write.deletes) snapshot.rows.delete(id);
    const shift = (row: number) => {
      // rows deleted above `row` (binary search in the sorted list)
      let lo = 0;
      let hi = deleted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (deleted[mid]! < row) lo = mid + 1;
        else hi = mid;
      }
      return row - lo;
    };
    for (const target of snapshot.rows.values()) target.row = shift(target.row);
    kept.otherRows = kept.otherRows.map(shift);
    snapshot.duplicateRows = snapshot.duplicateRows.map(shift);
  }
  // Each insert moves the rows at and below its row down by one (ascending, as written).
  for (const insert of write.inserts) {
    const down = (row: number) => (row >= insert.row ? row + 1 : row);
    for (const target of snapshot.rows.values()) target.row = down(target.row);
    kept.otherRows = kept.otherRows.map(down);
    snapshot.duplicateRows = snapshot.duplicateRows.map(down);
    const values: SheetValue[] = snapshot.headers.map(() => '');
    setCells(values, insert.cells);
    values[snapshot.idColumn!] = insert.rowId;
    snapshot.rows.set(insert.rowId, { row: insert.row, values });
  }
  // appendCells writes after the last row holding values.
  let last = 1;
  for (const target of snapshot.rows.values()) if (target.row > last) last = target.row;
  for (const row of kept.otherRows) if (row > last) last = row;
  for (const append of write.appends) {
    last++;
    const values: SheetValue[] = snapshot.headers.map(() => '');
    setCells(values, append.cells);
    values[snapshot.idColumn!] = append.rowId;
    // Not marked verified after in-place edits: the position counted from the last row is the
    // one thing an edit reported as in place (a paste below the last row) could have changed.
    snapshot.rows.set(append.rowId, { row: last, values });
  }
  snapshot.lastRow = last;
  if (last <= snapshot.rowCount) return undefined;
  snapshot.rowCount = last;
  return last;
}
