/**
 * The write plan of a SheetTab write (functions/src/adapters/sheets/tab-write-plan.ts): where
 * rows put back land, and which Sheets API requests a write becomes. Pure, so table-driven.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { describe, expect, it } from 'vitest';
import type {
  PlacedWrite,
  SheetValue,
  TabSnapshot,
  TabWrite,
} from '../../functions/src/adapters/sheets/tab-model.ts';
import { placeInserts, planWrite } from '../../functions/src/adapters/sheets/tab-write-plan.ts';

/** A tab with headers name, note, _sheetsync_id (or name, note without ids); rows from row 2. */
function tab(ids: string[], options: { idColumn?: boolean; columnCount?: number } = {}): TabSnapshot {
  const withIds = options.idColumn ?? true;
  const snapshot: TabSnapshot = {
    sheetId: 7,
    title: 'Leads',
    columnCount: options.columnCount ?? 26,
    rowCount: 1000,
    headers: withIds ? ['name', 'note', '_sheetsync_id'] : ['name', 'note'],
    idColumn: withIds ? 2 : null,
    rows: new Map(),
    duplicateRows: [],
    lastRow: ids.length + 1,
  };
  ids.forEach((id, i) => {
    snapshot.rows.set(id, { row: i + 2, values: [id.toUpperCase(), '', id] });
  });
  return snapshot;
}

const write = (w: Partial<TabWrite>): TabWrite => ({
  updates: [],
  appends: [],
  deletes: [],
  addHeaders: [],
  ...w,
});
const placed = (w: Partial<PlacedWrite>): PlacedWrite => ({ ...write(w), inserts: [], ...w });
const cells = (name: SheetValue) => ({ name });

describe('placeInserts', () => {
  const cases: Array<{
    name: string;
    ids: string[];
    write: Partial<TabWrite>;
    inserts: Array<[string, number]>;
    appends: string[];
  }> = [
    { name: 'no inserts: the write as asked', ids: ['a', 'b'], write: {}, inserts: [], appends: [] },
    {
      name: 'an insert within the tab keeps its row',
      ids: ['a', 'b', 'c'],
      write: { inserts: [{ rowId: 'x', row: 3, cells: cells('X') }] },
      inserts: [['x', 3]],
      appends: [],
    },
    {
      name: 'an insert at the header goes below it',
      ids: ['a', 'b'],
      write: { inserts: [{ rowId: 'x', row: 1, cells: cells('X') }] },
      inserts: [['x', 2]],
      appends: [],
    },
    {
      name: 'two inserts asked for one row keep their order, one below the other',
      ids: ['a', 'b', 'c'],
      write: {
        inserts: [
          { rowId: 'x', row: 3, cells: cells('X') },
          { rowId: 'y', row: 3, cells: cells('Y') },
        ],
      },
      inserts: [
        ['x', 3],
        ['y', 4],
      ],
      appends: [],
    },
    {
      name: 'an insert past the last row is appended, ahead of the write’s own appends',
      ids: ['a'],
      write: {
        inserts: [{ rowId: 'x', row: 5, cells: cells('X') }],
        appends: [{ rowId: 'n', cells: cells('N') }],
      },
      inserts: [],
      appends: ['x', 'n'],
    },
    {
      name: 'deleted rows shorten the tab the inserts are placed in',
      ids: ['a', 'b', 'c'],
      write: { deletes: ['b', 'c'], inserts: [{ rowId: 'x', row: 4, cells: cells('X') }] },
      inserts: [],
      appends: ['x'],
    },
  ];
  it.each(cases)('$name', ({ ids, write: w, inserts, appends }) => {
    const out = placeInserts(tab(ids), write(w));
    expect(out.inserts.map((i) => [i.rowId, i.row])).toEqual(inserts);
    expect(out.appends.map((a) => a.rowId)).toEqual(appends);
  });
});

/** The kinds of request in a list, in order (`updateCells`, `appendCells`, …). */
const kinds = (requests: sheets_v4.Schema$Request[]) => requests.map((r) => Object.keys(r)[0]);

describe('planWrite', () => {
  const cases: Array<{
    name: string;
    snapshot: TabSnapshot;
    write: Partial<PlacedWrite>;
    structure: string[];
    ranges: string[];
    rows: string[];
    counts: { width: number; cellsWritten: number; rowsAppended: number; rowsDeleted: number };
  }> = [
    {
      name: 'an update of two adjacent cells is one range',
      snapshot: tab(['a', 'b']),
      write: { updates: [{ rowId: 'b', cells: { name: 'B2', note: 'n' } }] },
      structure: [],
      ranges: ["'Leads'!A3:B3"],
      rows: [],
      counts: { width: 3, cellsWritten: 2, rowsAppended: 0, rowsDeleted: 0 },
    },
    {
      name: 'an update of a row not on the tab, or a header the tab lacks, writes nothing',
      snapshot: tab(['a']),
      write: {
        updates: [
          { rowId: 'gone', cells: { name: 'x' } },
          { rowId: 'a', cells: { missing: 'x' } },
        ],
      },
      structure: [],
      ranges: [],
      rows: [],
      counts: { width: 3, cellsWritten: 0, rowsAppended: 0, rowsDeleted: 0 },
    },
    {
      name: 'deletes go bottom-up, one request per run of adjacent rows',
      snapshot: tab(['a', 'b', 'c', 'd']),
      write: { deletes: ['a', 'c', 'd'] },
      structure: [],
      ranges: [],
      rows: ['deleteDimension', 'deleteDimension'],
      counts: { width: 3, cellsWritten: 0, rowsAppended: 0, rowsDeleted: 3 },
    },
    {
      name: 'a row put back is an insert and its cells; appends come last',
      snapshot: tab(['a', 'b']),
      write: {
        inserts: [{ rowId: 'x', row: 2, cells: cells('X') }],
        appends: [{ rowId: 'n', cells: cells('N') }],
      },
      structure: [],
      ranges: [],
      rows: ['insertDimension', 'updateCells', 'appendCells'],
      counts: { width: 3, cellsWritten: 0, rowsAppended: 2, rowsDeleted: 0 },
    },
    {
      name: 'a new header is a values range on row 1',
      snapshot: tab(['a']),
      write: { addHeaders: ['city'] },
      structure: [],
      ranges: ["'Leads'!D1:D1"],
      rows: [],
      counts: { width: 4, cellsWritten: 0, rowsAppended: 0, rowsDeleted: 0 },
    },
    {
      name: 'a tab without an id column gets it, hidden and protected, in one structure request',
      snapshot: tab([], { idColumn: false }),
      write: { appends: [{ rowId: 'n', cells: cells('N') }] },
      structure: ['updateCells', 'updateDimensionProperties', 'addProtectedRange'],
      ranges: [],
      rows: ['appendCells'],
      counts: { width: 3, cellsWritten: 0, rowsAppended: 1, rowsDeleted: 0 },
    },
    {
      name: 'headers past the grid add columns first',
      snapshot: tab(['a'], { columnCount: 3 }),
      write: { addHeaders: ['city', 'zip'] },
      structure: ['appendDimension'],
      ranges: ["'Leads'!D1:E1"],
      rows: [],
      counts: { width: 5, cellsWritten: 0, rowsAppended: 0, rowsDeleted: 0 },
    },
  ];
  it.each(cases)('$name', ({ snapshot, write: w, structure, ranges, rows, counts }) => {
    const plan = planWrite(snapshot, 'Leads', placed(w));
    expect(kinds(plan.structure)).toEqual(structure);
    expect(plan.values.flat().map((v) => v.range)).toEqual(ranges);
    expect(kinds(plan.rows.flat())).toEqual(rows);
    const { width, cellsWritten, rowsAppended, rowsDeleted } = plan;
    expect({ width, cellsWritten, rowsAppended, rowsDeleted }).toEqual(counts);
  });

  it('writes each appended row with its sync id in the id column, RAW', () => {
    const plan = planWrite(
      tab(['a']),
      'Leads',
      placed({ appends: [{ rowId: 'n', cells: { name: '=1+1' } }] }),
    );
    const row = plan.rows[0]![0]!.appendCells!.rows![0]!.values!;
    expect(row.map((c) => c.userEnteredValue)).toEqual([
      { stringValue: '=1+1' },
      undefined,
      { stringValue: 'n' },
    ]);
  });

  it('deletes rows bottom-up so the earlier indexes stay valid', () => {
    const plan = planWrite(tab(['a', 'b', 'c', 'd']), 'Leads', placed({ deletes: ['a', 'c', 'd'] }));
    expect(plan.rows.flat().map((r) => r.deleteDimension!.range)).toEqual([
      { sheetId: 7, dimension: 'ROWS', startIndex: 3, endIndex: 5 },
      { sheetId: 7, dimension: 'ROWS', startIndex: 1, endIndex: 2 },
    ]);
  });
});
