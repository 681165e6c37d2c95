/**
 * The memory of rows deleted in the sheet, and where a row the database would not delete goes
 * back (functions/src/adapters/sheets/vanished-rows.ts). Pure, so table-driven.
 */
import { describe, expect, it } from 'vitest';
import type { TabSnapshot } from '../../functions/src/adapters/sheets/tab-model.ts';
import { VanishedRows } from '../../functions/src/adapters/sheets/vanished-rows.ts';

/** A tab whose rows from row 2 down carry `ids` (null: a row without an id). */
function tab(ids: Array<string | null>): TabSnapshot {
  const snapshot: TabSnapshot = {
    sheetId: 0,
    title: 'Leads',
    columnCount: 2,
    rowCount: 100,
    headers: ['name', '_sheetsync_id'],
    idColumn: 1,
    rows: new Map(),
    duplicateRows: [],
    lastRow: ids.length + 1,
  };
  ids.forEach((id, i) => {
    if (id) snapshot.rows.set(id, { row: i + 2, values: ['', id] });
  });
  return snapshot;
}

/** Ids in row order, as SheetTab passes the previous read (idsByRow: index = row). */
const byRow = (ids: Array<string | null>) => [undefined, undefined, ...ids.map((id) => id ?? undefined)];

describe('VanishedRows.returnRow', () => {
  const cases: Array<{
    name: string;
    before: Array<string | null>;
    after: Array<string | null>;
    deletes?: string[];
    row: string;
    expected: number | undefined;
  }> = [
    {
      name: 'a row never seen to vanish has no place',
      before: ['a', 'b'],
      after: ['a', 'b'],
      row: 'b',
      expected: undefined,
    },
    {
      name: 'the first row goes back under the header',
      before: ['a', 'b'],
      after: ['b'],
      row: 'a',
      expected: 2,
    },
    {
      name: 'a row goes back below the row above it',
      before: ['a', 'b', 'c'],
      after: ['a', 'c'],
      row: 'b',
      expected: 3,
    },
    {
      name: 'below the row above that, when the row above vanished too',
      before: ['a', 'b', 'c', 'd'],
      after: ['a', 'd'],
      row: 'c',
      expected: 3,
    },
    {
      name: 'rows inserted above move the place down',
      before: ['a', 'b', 'c'],
      after: ['x', 'y', 'a', 'c'],
      row: 'b',
      expected: 5,
    },
    {
      name: 'rows the same write deletes above it move the place up',
      before: ['a', 'b', 'c', 'd'],
      after: ['a', 'b', 'd'],
      deletes: ['a'],
      row: 'c',
      expected: 3,
    },
    {
      name: 'a row without an id is no anchor',
      before: ['a', null, 'b'],
      after: ['a', null],
      row: 'b',
      expected: 3,
    },
  ];
  it.each(cases)('$name', ({ before, after, deletes, row, expected }) => {
    const vanished = new VanishedRows();
    const now = tab(after);
    vanished.remember(byRow(before), now);
    expect(vanished.returnRow(row, now, deletes ?? [])).toBe(expected);
  });

  it('forgets a row once it is back', () => {
    const vanished = new VanishedRows();
    const now = tab(['b']);
    vanished.remember(byRow(['a', 'b']), now);
    vanished.forget('a');
    expect(vanished.returnRow('a', now, [])).toBeUndefined();
  });
});
