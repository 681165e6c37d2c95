/**
 * The soak's ledger: every change either side was made to inject, in the order it was made
 * (a sheet action when the local sheet applied it, a statement when PostgreSQL committed it),
 * and the end check that accounts for each one against the final table and the conflict
 * records. Every injected value is unique, so "the table shows it" is unambiguous.
 *
 * A change to a cell is accounted for when
 * - applied: the final table shows its value;
 * - superseded: a later change (either side) went to the same cell, or the row was deleted
 *   (a delete wins over an edit it meets, conflicts.md);
 * - lost in a conflict: a conflict record of the row and column keeps its value as the loser.
 * Anything else is lost. Rows are accounted for too: the final keys are exactly the seeded and
 * inserted keys minus the deleted ones, so a delete undone or an insert dropped is lost as well.
 */
import type { CellValue } from '../../functions/src/core/cell-value.ts';

export type Side = 'sheet' | 'table';

interface CellChange {
  seq: number;
  side: Side;
  key: number;
  column: string;
  value: string;
}

/** A conflict record reduced to what accounting needs: its row's key and the losing values. */
export interface LostInConflict {
  key: number;
  column: string;
  losing: string[];
}

export interface Accounting {
  changes: number;
  applied: number;
  superseded: number;
  conflictLosers: number;
  /** One line per change or row that is not accounted for (empty when nothing was lost). */
  lost: string[];
}

export const cellText = (value: CellValue | unknown): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

export class Ledger {
  private seq = 0;
  private readonly changes: CellChange[] = [];
  private readonly deleted = new Map<number, { seq: number; side: Side }>();
  private readonly rows = new Set<number>();
  /** Keys live as far as the injected changes go (a key deleted on either side leaves it). */
  readonly live = new Set<number>();

  constructor(
    private readonly seed: Map<number, Record<string, string>>,
    private readonly columns: readonly string[],
  ) {
    for (const key of seed.keys()) {
      this.rows.add(key);
      this.live.add(key);
    }
  }

  /** Cells set on a row (an edit, a paste's row, an update, or a new row's cells). */
  set(side: Side, key: number, cells: Record<string, unknown>, inserted = false): void {
    const seq = ++this.seq;
    if (inserted) {
      this.rows.add(key);
      this.live.add(key);
    }
    for (const [column, value] of Object.entries(cells))
      this.changes.push({ seq, side, key, column, value: cellText(value) });
  }

  delete(side: Side, key: number): void {
    this.deleted.set(key, { seq: ++this.seq, side });
    this.live.delete(key);
  }

  /** `final`: the table's rows by key, every column as text. */
  account(final: Map<number, Record<string, string>>, conflicts: readonly LostInConflict[]): Accounting {
    const lost: string[] = [];
    for (const key of this.rows) {
      const gone = this.deleted.get(key);
      if (gone && final.has(key)) lost.push(`row ${key}: deleted on the ${gone.side}, still in the table`);
      if (!gone && !final.has(key)) lost.push(`row ${key}: never deleted, not in the table`);
    }
    for (const key of final.keys())
      if (!this.rows.has(key)) lost.push(`row ${key}: in the table, never seeded or inserted`);

    const lastSeq = new Map<string, number>();
    for (const c of this.changes) {
      const cell = `${c.key}\u0000${c.column}`;
      lastSeq.set(cell, Math.max(lastSeq.get(cell) ?? 0, c.seq));
    }
    const losers = new Set(
      conflicts.flatMap((c) => c.losing.map((value) => `${c.key}\u0000${c.column}\u0000${value}`)),
    );
    let applied = 0;
    let superseded = 0;
    let conflictLosers = 0;
    for (const c of this.changes) {
      const row = final.get(c.key);
      const cell = `${c.key}\u0000${c.column}`;
      if (row && row[c.column] === c.value) applied++;
      else if (!row && this.deleted.has(c.key)) superseded++;
      else if ((lastSeq.get(cell) ?? 0) > c.seq) superseded++;
      else if (losers.has(`${cell}\u0000${c.value}`)) conflictLosers++;
      else
        lost.push(
          `${c.side} change #${c.seq} of row ${c.key} ${c.column} = ${JSON.stringify(c.value)}: the table shows ${JSON.stringify(row?.[c.column])}`,
        );
    }
    // A seeded cell nothing changed keeps its value.
    for (const [key, cells] of this.seed) {
      const row = final.get(key);
      if (!row) continue;
      for (const column of this.columns) {
        if (lastSeq.has(`${key}\u0000${column}`)) continue;
        if (row[column] !== cells[column])
          lost.push(
            `row ${key} ${column}: never changed, seeded ${JSON.stringify(cells[column])}, the table shows ${JSON.stringify(row[column])}`,
          );
      }
    }
    return { changes: this.changes.length, applied, superseded, conflictLosers, lost };
  }
}
