/**
 * One tab: its properties and its cells. Cells are stored row-major as arrays of arrays,
 * `rows[r][c]`, both sparse at the end, so reading 100k rows is a walk over arrays and inserting
 * rows is one splice of row references. Dimension metadata (hidden, pixel size) lives in arrays
 * parallel to the rows and columns so structural changes move it with the cells.
 *
 * Transactions: while `journal` is set, a row is copied the first time it is mutated, so a failed
 * batchUpdate can restore exactly what it touched (Google applies a batch all or nothing).
 */
import type { GridRange } from './a1.ts';
import { type Cell, isEmptyCell } from './cell.ts';

export type Row = (Cell | undefined)[];
export type Dimension = 'ROWS' | 'COLUMNS';

export interface DimensionMeta {
  hiddenByUser?: boolean;
  pixelSize?: number;
}

export interface ProtectedRange {
  protectedRangeId: number;
  range: GridRange;
  description?: string;
  warningOnly?: boolean;
  requestingUserCanEdit?: boolean;
  editors?: { users?: string[]; groups?: string[]; domainUsersCanEdit?: boolean };
}

export interface SheetProperties {
  sheetId: number;
  title: string;
  hidden?: boolean;
  rowCount: number;
  columnCount: number;
  frozenRowCount?: number;
  frozenColumnCount?: number;
  tabColor?: unknown;
}

interface SheetSnapshot {
  properties: SheetProperties;
  rows: (Row | undefined)[];
  rowMeta: (DimensionMeta | undefined)[];
  columnMeta: (DimensionMeta | undefined)[];
  protectedRanges: ProtectedRange[];
}

export class Sheet {
  rows: (Row | undefined)[] = [];
  rowMeta: (DimensionMeta | undefined)[] = [];
  columnMeta: (DimensionMeta | undefined)[] = [];
  protectedRanges: ProtectedRange[] = [];
  private journal: Map<Row, Row> | undefined;
  private snapshot: SheetSnapshot | undefined;

  constructor(public properties: SheetProperties) {}

  get sheetId(): number {
    return this.properties.sheetId;
  }
  get title(): string {
    return this.properties.title;
  }
  get rowCount(): number {
    return this.properties.rowCount;
  }
  get columnCount(): number {
    return this.properties.columnCount;
  }

  getCell(row: number, column: number): Cell | undefined {
    return this.rows[row]?.[column];
  }

  /** Sets or (with undefined) clears one cell; the caller keeps it inside the grid. */
  setCell(row: number, column: number, cell: Cell | undefined): void {
    let cells = this.rows[row];
    if (!cells) {
      if (cell === undefined) return;
      cells = [];
      this.rows[row] = cells;
      // A row born in this transaction has nothing to restore: mark it journaled already.
      this.journal?.set(cells, []);
    } else {
      this.journalRow(cells);
    }
    cells[column] = cell;
    if (cell === undefined) trimRow(cells);
  }

  /**
   * Rows and columns up to the last cell with a value or formula (Google's "data extent"); cells
   * that only carry a format, note or validation rule are not data.
   */
  dataExtent(): { rows: number; columns: number } {
    let rows = 0;
    let columns = 0;
    for (let r = 0; r < this.rows.length; r++) {
      const cells = this.rows[r];
      if (!cells) continue;
      let last = cells.length;
      while (last > 0 && isEmptyCell(cells[last - 1])) last--;
      if (last === 0) continue;
      rows = r + 1;
      if (last > columns) columns = last;
    }
    return { rows, columns };
  }

  insertDimension(dimension: Dimension, start: number, count: number): void {
    if (dimension === 'ROWS') {
      this.rows = spliceIn(this.rows, start, count);
      this.rowMeta = spliceIn(this.rowMeta, start, count);
      this.properties.rowCount += count;
    } else {
      for (const cells of this.rows) {
        if (!cells || cells.length <= start) continue;
        this.journalRow(cells);
        cells.splice(start, 0, ...new Array<Cell | undefined>(count));
      }
      this.columnMeta = spliceIn(this.columnMeta, start, count);
      this.properties.columnCount += count;
    }
    this.shiftProtectedRanges(dimension, start, count);
  }

  /** Deletes [start, end) of a dimension. */
  deleteDimension(dimension: Dimension, start: number, end: number): void {
    const count = end - start;
    if (dimension === 'ROWS') {
      this.rows = spliceOut(this.rows, start, count);
      this.rowMeta = spliceOut(this.rowMeta, start, count);
      this.properties.rowCount -= count;
    } else {
      for (const cells of this.rows) {
        if (!cells || cells.length <= start) continue;
        this.journalRow(cells);
        cells.splice(start, count);
        trimRow(cells);
      }
      this.columnMeta = spliceOut(this.columnMeta, start, count);
      this.properties.columnCount -= count;
    }
    this.shiftProtectedRanges(dimension, start, -count, end);
  }

  /**
   * Moves [start, end) so that it lands before `destination`, where destination is an index in
   * the sheet *before* the move, as the API's moveDimension defines `destinationIndex`.
   */
  moveDimension(dimension: Dimension, start: number, end: number, destination: number): void {
    if (destination >= start && destination <= end) return;
    if (dimension === 'ROWS') {
      this.rows = moveSlice(this.rows, start, end, destination);
      this.rowMeta = moveSlice(this.rowMeta, start, end, destination);
    } else {
      for (let r = 0; r < this.rows.length; r++) {
        const cells = this.rows[r];
        if (!cells || cells.length === 0) continue;
        this.journalRow(cells);
        const moved = moveSlice(cells, start, end, destination);
        cells.length = 0;
        for (const cell of moved) cells.push(cell);
        trimRow(cells);
      }
      this.columnMeta = moveSlice(this.columnMeta, start, end, destination);
    }
  }

  /** Sets the grid size; cells and metadata outside it are dropped (the caller checks the cap). */
  resize(rowCount: number, columnCount: number): void {
    if (this.rows.length > rowCount) this.rows = this.rows.slice(0, rowCount);
    if (this.rowMeta.length > rowCount) this.rowMeta = this.rowMeta.slice(0, rowCount);
    if (this.columnMeta.length > columnCount) this.columnMeta = this.columnMeta.slice(0, columnCount);
    for (const cells of this.rows) {
      if (!cells || cells.length <= columnCount) continue;
      this.journalRow(cells);
      cells.length = columnCount;
      trimRow(cells);
    }
    this.properties.rowCount = rowCount;
    this.properties.columnCount = columnCount;
  }

  setDimensionMeta(dimension: Dimension, start: number, end: number, meta: DimensionMeta): void {
    const metas = dimension === 'ROWS' ? this.rowMeta : this.columnMeta;
    for (let i = start; i < end; i++) {
      const merged = { ...metas[i], ...meta };
      if (!merged.hiddenByUser) delete merged.hiddenByUser;
      metas[i] = Object.keys(merged).length > 0 ? merged : undefined;
    }
  }

  isHidden(dimension: Dimension, index: number): boolean {
    return (dimension === 'ROWS' ? this.rowMeta : this.columnMeta)[index]?.hiddenByUser === true;
  }

  begin(): void {
    this.journal = new Map();
    this.snapshot = {
      properties: structuredClone(this.properties),
      rows: this.rows.slice(),
      rowMeta: this.rowMeta.slice(),
      columnMeta: this.columnMeta.slice(),
      protectedRanges: structuredClone(this.protectedRanges),
    };
  }

  commit(): void {
    this.journal = undefined;
    this.snapshot = undefined;
  }

  rollback(): void {
    const snapshot = this.snapshot;
    const journal = this.journal;
    this.commit();
    if (!snapshot || !journal) return;
    for (const [cells, original] of journal) {
      cells.length = 0;
      for (const cell of original) cells.push(cell);
    }
    Object.assign(this, {
      properties: snapshot.properties,
      rows: snapshot.rows,
      rowMeta: snapshot.rowMeta,
      columnMeta: snapshot.columnMeta,
      protectedRanges: snapshot.protectedRanges,
    });
  }

  private journalRow(cells: Row): void {
    if (this.journal && !this.journal.has(cells)) this.journal.set(cells, cells.slice());
  }

  /** Protected ranges grow, shrink and move with inserted and deleted rows, as in Google. */
  private shiftProtectedRanges(
    dimension: Dimension,
    start: number,
    delta: number,
    deletedEnd?: number,
  ): void {
    const [lo, hi] =
      dimension === 'ROWS'
        ? (['startRowIndex', 'endRowIndex'] as const)
        : (['startColumnIndex', 'endColumnIndex'] as const);
    const shift = (index: number): number => {
      if (delta >= 0) return index >= start ? index + delta : index;
      const end = deletedEnd ?? start;
      if (index >= end) return index + delta;
      return Math.min(index, start);
    };
    this.protectedRanges = this.protectedRanges.filter((protectedRange) => {
      const range = protectedRange.range;
      const first = range[lo];
      const last = range[hi];
      if (first !== undefined) range[lo] = shift(first);
      // Rows inserted right after a range stay outside it.
      if (last !== undefined) range[hi] = delta >= 0 && last === start ? last : shift(last);
      // A range whose cells were all deleted goes with them.
      return !(range[lo] !== undefined && range[hi] !== undefined && range[lo] >= range[hi]);
    });
  }
}

function trimRow(cells: Row): void {
  let n = cells.length;
  while (n > 0 && cells[n - 1] === undefined) n--;
  cells.length = n;
}

function spliceIn<T>(items: (T | undefined)[], start: number, count: number): (T | undefined)[] {
  if (start >= items.length) return items;
  return items.slice(0, start).concat(new Array<T | undefined>(count).fill(undefined), items.slice(start));
}

function spliceOut<T>(items: (T | undefined)[], start: number, count: number): (T | undefined)[] {
  if (start >= items.length) return items;
  return items.slice(0, start).concat(items.slice(start + count));
}

function moveSlice<T>(
  items: (T | undefined)[],
  start: number,
  end: number,
  destination: number,
): (T | undefined)[] {
  const padded = items.slice();
  const needed = Math.max(end, destination);
  if (padded.length < needed) padded.length = needed;
  const moved = padded.slice(start, end);
  const rest = padded.slice(0, start).concat(padded.slice(end));
  const at = destination > end ? destination - (end - start) : destination;
  return rest.slice(0, at).concat(moved, rest.slice(at));
}
