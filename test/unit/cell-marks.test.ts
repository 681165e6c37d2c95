/**
 * Refused cells marked at the cell (functions/src/core/cell-marks.ts): placed by sync id, never
 * at a guessed position; cleared by a later value; the note says why and what to do.
 */
import { describe, expect, it } from 'vitest';
import { MARK_COLOR, markNote, planCellMarks } from '../../functions/src/core/cell-marks.ts';

const headers = ['id', 'name', 'Seats', '_sheetsync_id'];
const rows = new Map([
  ['r-1', 2],
  ['r-2', 7],
]);
const plan = (marks: Parameters<typeof planCellMarks>[0]['marks']) =>
  planCellMarks({ sheetId: 3, headers, rowOf: (id) => rows.get(id), marks });

describe('planCellMarks', () => {
  it('marks a refused cell where its row is now, with a note and a fill, leaving its value alone', () => {
    const { requests, unplaced } = plan([{ rowId: 'r-2', column: 'seats', note: 'why' }]);
    expect(unplaced).toEqual([]);
    expect(requests).toEqual([
      {
        updateCells: {
          start: { sheetId: 3, rowIndex: 6, columnIndex: 2 },
          rows: [{ values: [{ note: 'why', userEnteredFormat: { backgroundColor: MARK_COLOR } }] }],
          fields: 'note,userEnteredFormat.backgroundColor',
        },
      },
    ]);
  });

  it('clears a mark by writing neither note nor fill under the same mask', () => {
    const { requests } = plan([{ rowId: 'r-1', column: 'name' }]);
    expect(requests).toEqual([
      {
        updateCells: {
          start: { sheetId: 3, rowIndex: 1, columnIndex: 1 },
          rows: [{ values: [{ userEnteredFormat: {} }] }],
          fields: 'note,userEnteredFormat.backgroundColor',
        },
      },
    ]);
  });

  it('the last mark of a cell wins: refused then fixed is cleared, fixed then refused is marked', () => {
    const fixed = plan([
      { rowId: 'r-1', column: 'name', note: 'bad' },
      { rowId: 'r-1', column: 'name' },
    ]);
    expect(fixed.requests.map((r) => r.updateCells.rows[0].values[0].note)).toEqual([undefined]);
    const refused = plan([
      { rowId: 'r-1', column: 'name' },
      { rowId: 'r-1', column: 'name', note: 'bad again' },
    ]);
    expect(refused.requests.map((r) => r.updateCells.rows[0].values[0].note)).toEqual(['bad again']);
  });

  it('returns marks whose row is not on the tab or whose header is gone, and writes nothing for them', () => {
    const { requests, unplaced } = plan([
      { rowId: 'gone', column: 'name', note: 'x' },
      { rowId: 'r-1', column: 'email', note: 'y' },
    ]);
    expect(requests).toEqual([]);
    expect(unplaced).toEqual([
      { rowId: 'gone', column: 'name' },
      { rowId: 'r-1', column: 'email' },
    ]);
  });
});

describe('markNote', () => {
  it('says that the value was not saved, why, and what to do; long messages are cut', () => {
    expect(markNote('SHEETSYNC_E407', '"lots" is not a whole number', 'Type a whole number.')).toBe(
      'sheetsync: this value was not saved to the database.\nSHEETSYNC_E407: "lots" is not a whole number\nType a whole number.',
    );
    expect(markNote('SHEETSYNC_E407', 'x'.repeat(5_000), 'fix it')).toHaveLength(1_000);
  });
});
