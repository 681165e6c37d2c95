import { describe, expect, it } from 'vitest';
import { decodeRow, encodeRow } from '../../functions/src/adapters/firestore-codec.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import { encodeRowFormat1 } from '../support/firestore-format1.ts';

const doc: RowDocument = {
  rowId: '7f1c2d3e-4b5a-4c6d-8e7f-901234567890',
  key: { id: 7, region: 'eu' },
  vv: { sheet: 4, db: 12_000 },
  cells: {
    tags: {
      value: [
        [1, 2],
        [3, null],
      ],
      dot: 'db:12000',
      time: { wall: 1_764_000_000_000, logical: 2 },
      echoed: true,
      sheetValue: '[[1,2],[3,null]]',
      sheetWrittenAt: 1_764_000_000_500,
    },
    meta: {
      value: { nested: { list: [{ a: 'é' }] }, empty: '' },
      dot: 'sheet:4',
      time: { wall: 1_764_000_001_000, logical: 0 },
      echoed: false,
      sheetValue: null,
      sheetWrittenAt: 0,
      contender: { value: false, dot: 'db:11000', time: { wall: 1_764_000_000_900, logical: 0 }, shownAt: 5 },
    },
  },
  tombstone: { dot: 'sheet:5', time: { wall: 1_764_000_002_000, logical: 1 } },
  events: { 'a0b1c2d3-0000-4000-8000-000000000001': { counter: 4, wall: 1_764_000_001_000 } },
  eventsFloor: 1_763_999_000_000,
};

describe('Firestore row codec', () => {
  it('stores cells and events as one text field each, and reads them back exactly', () => {
    const stored = encodeRow(doc);
    expect(typeof stored.cells).toBe('string');
    expect(typeof stored.events).toBe('string');
    expect(stored.tombstone).toEqual(doc.tombstone); // queried (liveRowIds): stays a field
    expect(decodeRow('x', structuredClone(stored))).toEqual(doc);
  });

  it('reads documents an earlier version wrote (cells and events as maps)', () => {
    const old = encodeRowFormat1(doc);
    expect(typeof old.cells).toBe('object');
    expect(decodeRow('x', structuredClone(old))).toEqual(doc);
  });

  it('names the document it cannot read', () => {
    expect(() => decodeRow('sheetsync_links/l/rows/r', { ...encodeRow(doc), cells: '{not json' })).toThrow(
      /sheetsync_links\/l\/rows\/r is not readable/,
    );
  });
});
