/**
 * The snapshot a SheetTab keeps between reads (docs/design/kept-snapshot.md): while the change
 * token stays the same, read() serves it instead of reading the tab, and write() brings it up
 * to date with what it wrote (applyToKept), and the SheetTab options that govern it. Pure: no I/O.
 */
import type { LinkedTab } from '../../ports.ts';
import type { PlacedWrite, SheetValue, TabSnapshot } from './tab-model.ts';

export interface SheetTabOptions {
  /**
   * A token that changes whenever the tab may have changed other than through this SheetTab
   * (VersionStore.sheetEpochs: the webhook bumps it for every sheet event it accepts). While it
   * stays the same, read() returns the snapshot kept from the last read, brought up to date
   * with this SheetTab's own writes, and costs no Sheets API read. Without it every read()
   * reads the tab. A token `{rows, values}` tells in-place edits (`values`: cells of rows that
   * had their sync id changed, no row moved) from the rest: after those, read() keeps the
   * snapshot and verify() reads again only the rows a flush is about to write.
   */
  changeToken?: () => Promise<unknown>;
  /**
   * The tab the link follows (issue 19): found by its recorded sheetId, whatever its title now
   * (`renamed` is told when it differs from the title used so far); recorded at the first read
   * when there is no record yet. Without it the tab is found by its title.
   */
  linkedTab?: {
    get(): Promise<LinkedTab | undefined>;
    record(tab: LinkedTab): Promise<void>;
    renamed?(from: string, to: string): void;
  };
  /**
   * A kept snapshot is read again after this long even when the token has not changed, so a
   * change the webhook never saw (another API client; an Apps Script that could not reach the
   * webhook) is picked up within this time. Default 30 s (one read request every 30 s at most).
   * A tab whose read takes longer than a tenth of this is kept ten times its last read's
   * duration instead, so those reads take at most a tenth of the time (a tab near the
   * 10-million-cell cap takes seconds to read: README, big-tab benchmark).
   */
  maxSnapshotAgeMs?: number;
  /**
   * A tab whose grid holds more cells than this is read without its values: the header row and
   * the id column give the positions, and verify() reads the rows a flush decides on (a kept
   * copy of every value of a tab near the 10-million-cell cap is ≈ 520 MB and takes seconds to
   * read). Needs changeToken. Default 1,000,000 (a tab of 2M cells read whole peaked at 590 MB).
   */
  positionsOnlyAboveCells?: number;
  now?: () => number;
}

/** What read() served from the kept snapshot and what it read from the API. */
export interface ReadCounts {
  apiReads: number;
  keptReads: number;
  /** Rows verify() read again after in-place edits. */
  verifiedRows: number;
}

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
