/**
 * remainingWrite: what is left of a SheetTab write after a request whose outcome is unknown,
 * decided by sync id against the tab read again (functions/src/adapters/sheets/write-remainder.ts).
 */
import { describe, expect, it } from 'vitest';
import type { PlacedWrite, SheetValue, TabSnapshot } from '../../functions/src/adapters/sheets/tab-model.ts';
import { remainingWrite, sentWrite } from '../../functions/src/adapters/sheets/write-remainder.ts';

/** A tab with headers name, _sheetsync_id; `rows` from row 2 down: [id, name] or null (no id). */
function tab(rows: Array<[string, SheetValue] | null>, withValues = true): TabSnapshot {
  const snapshot: TabSnapshot = {
    sheetId: 0,
    title: 'Leads',
    columnCount: 2,
    rowCount: 100,
    headers: ['name', '_sheetsync_id'],
    idColumn: 1,
    rows: new Map(),
    duplicateRows: [],
    lastRow: rows.length + 1,
  };
  rows.forEach((row, i) => {
    if (row) snapshot.rows.set(row[0], { row: i + 2, values: withValues ? [row[1], row[0]] : [] });
  });
  return snapshot;
}

const write = (w: Partial<PlacedWrite>): PlacedWrite => ({
  updates: [],
  appends: [],
  inserts: [],
  deletes: [],
  addHeaders: [],
  ...w,
});

describe('remainingWrite', () => {
  const before = tab([
    ['a', 'A'],
    ['b', 'B'],
    ['c', 'C'],
  ]);
  const all = write({
    updates: [{ rowId: 'a', cells: { name: 'A2' } }],
    deletes: ['b'],
    inserts: [{ rowId: 'x', row: 3, cells: { name: 'X' } }], // below a, where b was
    appends: [{ rowId: 'n', cells: { name: 'N' } }],
  });

  it('is nothing when all of the write shows on the tab', () => {
    const fresh = tab([
      ['a', 'A2'],
      ['x', 'X'],
      ['c', 'C'],
      ['n', 'N'],
    ]);
    expect(remainingWrite(fresh, sentWrite(before, all))).toBeUndefined();
  });

  it('is the whole write when none of it landed', () => {
    expect(
      remainingWrite(
        tab([
          ['a', 'A'],
          ['b', 'B'],
          ['c', 'C'],
        ]),
        sentWrite(before, all),
      ),
    ).toEqual(all);
  });

  it('puts a row back below the row that was above it, wherever that row is now', () => {
    // A person inserted two rows at the top meanwhile; the delete landed, the insert did not.
    const fresh = tab([null, null, ['a', 'A2'], ['c', 'C'], ['n', 'N']]);
    expect(remainingWrite(fresh, sentWrite(before, all))).toEqual(
      write({ inserts: [{ rowId: 'x', row: 5, cells: { name: 'X' } }] }),
    );
  });

  it('deletes a row that is still there where it is now, and appends only missing rows', () => {
    const fresh = tab([
      ['c', 'C'],
      ['a', 'A2'],
      ['b', 'B'],
      ['x', 'X'],
      ['n', 'N'],
    ]);
    expect(remainingWrite(fresh, sentWrite(before, all))).toEqual(write({ deletes: ['b'] }));
  });

  it('writes a cell again only while it shows its old value; a third value is a newer edit', () => {
    const cells = write({
      updates: [
        { rowId: 'a', cells: { name: 'A2' } },
        { rowId: 'b', cells: { name: 'B2' } },
        { rowId: 'c', cells: { name: 'C2' } },
      ],
    });
    const fresh = tab([
      ['a', 'A2'],
      ['b', 'B'],
      ['c', 'typed by a person'],
    ]);
    expect(remainingWrite(fresh, sentWrite(before, cells))).toEqual(
      write({ updates: [{ rowId: 'b', cells: { name: 'B2' } }] }),
    );
  });

  it('writes cells again when the read has no values (a big tab read for its positions)', () => {
    const cells = write({ updates: [{ rowId: 'a', cells: { name: 'A2' } }] });
    const fresh = tab([['a', 'A2']], false);
    expect(remainingWrite(fresh, sentWrite(before, cells))).toEqual(cells);
  });

  it('stops with a retryable SHEETSYNC_E513 when the id column is gone', () => {
    const fresh = { ...tab([]), idColumn: null, headers: ['name'] };
    expect(() => remainingWrite(fresh, sentWrite(before, all))).toThrow(
      expect.objectContaining({ code: 'SHEETSYNC_E513', effect: 'retry' }),
    );
  });
});
