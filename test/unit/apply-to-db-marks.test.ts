/**
 * applyToDb's marks decision (apply-to-db/marks.ts) and how the row document keeps them:
 * which cells get a mark, which marks a later value clears, what a redelivery or a refused row
 * does, and that merges and the Firestore codec keep the later entry per cell.
 */
import { describe, expect, it } from 'vitest';
import { decodeRow, encodeRow } from '../../functions/src/adapters/firestore-codec.ts';
import {
  emptyRowDocument,
  mergeRowDocuments,
  type RowDocument,
} from '../../functions/src/core/row-document.ts';
import type { DecodedChange } from '../../functions/src/handlers/apply-to-db/decode.ts';
import { decideMarks } from '../../functions/src/handlers/apply-to-db/marks.ts';
import type { RowProblem } from '../../functions/src/handlers/apply-to-db/types.ts';
import type { RowCommit } from '../../functions/src/ports.ts';

const link = 'rows';

function change(rowId: string, cells: Record<string, unknown>, wall: number, problems: RowProblem[] = []) {
  return {
    change: {
      link,
      rowId,
      op: 'upsert',
      cells,
      origin: 'sheet',
      time: { wall, logical: 0 },
      eventId: `e-${wall}`,
    },
    problems,
    maybePreviews: [],
  } as unknown as DecodedChange;
}

const typo = (rowId: string, header: string, value: string, time: number): RowProblem => ({
  link,
  rowId,
  column: header,
  value,
  code: 'SHEETSYNC_E407',
  message: `"${value}" does not fit column qty (integer): not a whole number`,
  time,
});

const docWith = (rowId: string, marks?: RowDocument['marks']): RowDocument => ({
  ...emptyRowDocument(rowId, { sku: rowId }),
  ...(marks ? { marks } : {}),
});

describe('decideMarks', () => {
  it('marks a wrong-type cell with a note naming its own value, and keeps the mark in the document', () => {
    const doc = docWith('r1');
    const commits = new Map<string, RowCommit>([['r1', { next: doc, conflicts: [] }]]);
    const marks = decideMarks(
      {
        link,
        decoded: [change('r1', { name: 'Anvil' }, 100, [typo('r1', 'Qty', 'lots', 100)])],
        applied: [0],
        problems: [typo('r1', 'Qty', 'lots', 100)],
        docs: new Map([['r1', doc]]),
      },
      commits,
    );
    expect(marks).toEqual([{ link, rowId: 'r1', column: 'Qty', note: expect.stringContaining('"lots"') }]);
    expect(marks[0]!.note).toMatch(
      /^sheetsync: this value was not saved to the database\.\nSHEETSYNC_E407: /,
    );
    expect(commits.get('r1')!.next.marks).toEqual({ qty: { on: true, at: 100 } });
  });

  it('clears a marked cell when a later value of it is applied; other columns send nothing', () => {
    const doc = docWith('r1', { qty: { on: true, at: 100 } });
    const commits = new Map<string, RowCommit>([['r1', { next: doc, conflicts: [] }]]);
    const marks = decideMarks(
      {
        link,
        decoded: [change('r1', { name: 'Bolt' }, 150), change('r1', { qty: 12 }, 200)],
        applied: [0, 1],
        problems: [],
        docs: new Map([['r1', doc]]),
      },
      commits,
    );
    expect(marks).toEqual([{ link, rowId: 'r1', column: 'qty' }]);
    expect(commits.get('r1')!.next.marks).toEqual({ qty: { on: false, at: 200 } });
  });

  it('decides nothing for changes not applied (a redelivery: duplicates)', () => {
    const doc = docWith('r1', { qty: { on: true, at: 100 } });
    const commits = new Map<string, RowCommit>();
    const marks = decideMarks(
      {
        link,
        decoded: [change('r1', { qty: 12 }, 200)],
        applied: [],
        problems: [],
        docs: new Map([['r1', doc]]),
      },
      commits,
    );
    expect(marks).toEqual([]);
    expect(commits.size).toBe(0);
  });

  it('a refused row marks the cells it carried, clears none, and keeps the marks in its old document', () => {
    const doc = docWith('r1', { price: { on: true, at: 50 } });
    const refusal: RowProblem = {
      link,
      rowId: 'r1',
      code: 'SHEETSYNC_E414',
      message: 'the database refused the row values (23514): new row violates check constraint; price -4',
      sqlState: '23514',
      time: 300,
    };
    const commits = new Map<string, RowCommit>(); // write.ts deleted the refused row's commit
    const marks = decideMarks(
      {
        link,
        decoded: [change('r1', { price: '-4', name: 'X' }, 300)],
        applied: [0],
        problems: [refusal],
        docs: new Map([['r1', doc]]),
      },
      commits,
    );
    expect(marks.map((m) => m.column)).toEqual(['price', 'name']);
    for (const mark of marks) {
      expect(mark.note).toContain('SHEETSYNC_E414: the database refused the row (SQLSTATE 23514)');
      expect(mark.note).not.toContain('-4');
    }
    expect(commits.get('r1')!.next).toEqual({
      ...doc,
      marks: { price: { on: true, at: 300 }, name: { on: true, at: 300 } },
    });
  });

  it('a refused new row is marked on the sheet, with no document to keep the marks', () => {
    const commits = new Map<string, RowCommit>();
    const marks = decideMarks(
      {
        link,
        decoded: [change('n1', { sku: 'A', qty: 1 }, 10)],
        applied: [0],
        problems: [{ link, rowId: 'n1', code: 'SHEETSYNC_E409', message: 'x', sqlState: '23505', time: 10 }],
        docs: new Map(),
      },
      commits,
    );
    expect(marks).toHaveLength(2);
    expect(commits.size).toBe(0);
  });
});

describe('decideMarks: open conflicts', () => {
  it('marks the cell of an open conflict with its two values; a resolved one marks nothing', () => {
    const doc = docWith('r1');
    const side = (value: string, dot: string) => ({ value, dot, time: { wall: 5, logical: 0 } });
    const record = {
      id: 'c1',
      link,
      rowId: 'r1',
      column: 'status',
      reason: 'concurrent' as const,
      policy: 'manual',
      sheet: side('from-sheet', 'sheet:2'),
      db: side('from-db', 'db:9'),
      outcome: 'db' as const,
      value: 'from-db',
      status: 'open' as const,
      detectedAt: 7,
      resolution: null,
    };
    const commits = new Map<string, RowCommit>([
      ['r1', { next: doc, conflicts: [record, { ...record, id: 'c2', column: 'name', status: 'resolved' }] }],
    ]);
    const marks = decideMarks(
      {
        link,
        decoded: [change('r1', { status: 'from-sheet' }, 5)],
        applied: [0],
        problems: [],
        docs: new Map([['r1', doc]]),
      },
      commits,
    );
    expect(marks).toEqual([{ link, rowId: 'r1', column: 'status', note: expect.any(String) }]);
    expect(marks[0]!.note).toMatch(/^sheetsync: this cell is in conflict\.\n/);
    expect(marks[0]!.note).toContain('"from-sheet"');
    expect(marks[0]!.note).toContain('"from-db"');
    expect(commits.get('r1')!.next.marks).toEqual({ status: { on: true, at: 7 } });
  });
});

describe('RowDocument.marks', () => {
  it('merges per cell by time (a clear wins a tie) and survives the Firestore codec', () => {
    const stored = docWith('r1', { qty: { on: true, at: 100 }, name: { on: true, at: 100 } });
    const next = docWith('r1', { qty: { on: false, at: 200 }, name: { on: false, at: 50 } });
    const merged = mergeRowDocuments(stored, next);
    expect(merged.marks).toEqual({ qty: { on: false, at: 200 }, name: { on: true, at: 100 } });
    expect(
      mergeRowDocuments(docWith('r1', { a: { on: true, at: 5 } }), docWith('r1', { a: { on: false, at: 5 } }))
        .marks,
    ).toEqual({
      a: { on: false, at: 5 },
    });
    expect(mergeRowDocuments(docWith('r1'), docWith('r1')).marks).toBeUndefined();
    expect(decodeRow('p', encodeRow(merged))).toEqual(merged);
    expect(decodeRow('p', encodeRow(docWith('r1')))).not.toHaveProperty('marks');
  });
});
