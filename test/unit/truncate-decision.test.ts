/**
 * applyToSheet's decision for a TRUNCATE (core/merge-db-change.ts truncateDeletes, then the
 * DELETE decision), and how a sheet edit concurrent with it is settled (core/merge-sheet-change.ts).
 */
import { describe, expect, it } from 'vitest';
import { mergeDbChange, truncateDeletes } from '../../functions/src/core/merge-db-change.ts';
import { mergeSheetChange } from '../../functions/src/core/merge-sheet-change.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import type { RowChange } from '../../functions/src/wire/row-change.ts';

const rowId = '7f1c2d3e-4b5a-4c6d-8e7f-901234567890';

function doc(overrides: Partial<RowDocument> = {}): RowDocument {
  return {
    rowId,
    key: { id: 1 },
    vv: { sheet: 3, db: 5000 },
    cells: {
      status: {
        value: 'won',
        dot: 'sheet:3',
        time: { wall: 95, logical: 0 },
        echoed: true,
        sheetValue: 'won',
        sheetWrittenAt: 0,
      },
      owner: {
        value: 'ada',
        dot: 'db:5000',
        time: { wall: 50, logical: 0 },
        echoed: true,
        sheetValue: 'ada',
        sheetWrittenAt: 60,
      },
    },
    tombstone: null,
    events: {},
    eventsFloor: 0,
    ...overrides,
  };
}

const TRUNCATE_ID = 9000;
const truncateAsDelete: RowChange = {
  link: 'crm',
  rowId,
  op: 'delete',
  cells: {},
  origin: 'db',
  dot: `db:${TRUNCATE_ID}`,
  outboxId: TRUNCATE_ID,
  time: { wall: 200, logical: 0 },
};

describe('TRUNCATE decision', () => {
  it('deletes a row the database wrote before it, once: the tombstone carries its dot and a redelivery is a duplicate', () => {
    const row = doc();
    expect(truncateDeletes(row, TRUNCATE_ID)).toBe(true);
    const decision = mergeDbChange(row, truncateAsDelete, {
      sheetRow: { owner: 'ada' },
      now: 300,
      key: { id: 1 },
    });
    expect(decision).toMatchObject({ kind: 'apply', write: 'delete' });
    if (decision.kind !== 'apply') throw new Error('unreachable');
    expect(decision.next.tombstone).toEqual({ dot: `db:${TRUNCATE_ID}`, time: { wall: 200, logical: 0 } });
    expect(decision.next.vv.db).toBe(TRUNCATE_ID);
    // Another bucket's copy, or a redelivery.
    expect(truncateDeletes(decision.next, TRUNCATE_ID)).toBe(false);
    expect(mergeDbChange(decision.next, truncateAsDelete, { sheetRow: null, now: 400 })).toEqual({
      kind: 'duplicate',
    });
  });

  it('leaves rows the database wrote after it, and rows with a sheet write whose echo has not come', () => {
    expect(truncateDeletes(doc({ vv: { sheet: 3, db: TRUNCATE_ID + 1 } }), TRUNCATE_ID)).toBe(false);
    const typedAfter = doc({ vv: { sheet: 1, db: 0 } });
    typedAfter.cells = { status: { ...typedAfter.cells.status!, dot: 'sheet:1', echoed: false } };
    expect(truncateDeletes(typedAfter, TRUNCATE_ID)).toBe(false);
    expect(
      truncateDeletes(doc({ tombstone: { dot: 'db:10', time: { wall: 1, logical: 0 } } }), TRUNCATE_ID),
    ).toBe(false);
  });

  it('a sheet edit concurrent with the truncate loses, as against a DELETE, and is recorded', () => {
    const decision = mergeDbChange(doc(), truncateAsDelete, { sheetRow: { owner: 'ada' }, now: 300 });
    if (decision.kind !== 'apply') throw new Error('unreachable');
    const edit: RowChange = {
      link: 'crm',
      rowId,
      op: 'upsert',
      cells: { owner: 'grace' },
      origin: 'sheet',
      eventId: '1b4e28ba-2fa1-4d2b-883f-0016d3cca427',
      time: { wall: 250, logical: 0 },
    };
    const sheet = mergeSheetChange(decision.next, edit, {
      policy: { default: 'last-writer-wins' },
      dbRow: null,
      now: 500,
      attempt: 1,
    });
    expect(sheet).toMatchObject({ kind: 'apply', write: 'none' });
    if (sheet.kind !== 'apply') throw new Error('unreachable');
    expect(sheet.conflicts).toHaveLength(1);
    expect(sheet.conflicts[0]).toMatchObject({ column: 'owner', reason: 'deleted' });
    expect(JSON.stringify(sheet.conflicts[0])).toContain(`db:${TRUNCATE_ID}`);
    expect(JSON.stringify(sheet.conflicts[0])).toContain('grace');
  });
});
