/**
 * The restore's decision for a row both sides hold (functions/src/sync-jobs/restore-plan.ts): a lost
 * document rebuilt, cells the two sides show differently recorded as conflicts, an older
 * document settled, and the outbox watermark and the sheet's read time kept in both.
 */
import { describe, expect, it } from 'vitest';
import { planCell } from '../../functions/src/core/reconcile-plan.ts';
import { emptyRowDocument, type RowDocument } from '../../functions/src/core/row-document.ts';
import { planRestore, type RestoreRow } from '../../functions/src/sync-jobs/restore-plan.ts';

const row = (over: Partial<RestoreRow> = {}): RestoreRow => ({
  link: 'leads',
  policy: 'last-writer-wins',
  rowId: 'r1',
  key: { id: 7 },
  keyColumns: ['id'],
  sheet: { id: 7, name: 'Ada', status: 'won' },
  db: { id: 7, name: 'Ada', status: 'won', score: 3 },
  doc: undefined,
  watermark: 42_999,
  pending: false,
  at: 1_000,
  ...over,
});

/** The document rebuilt for `row()`, settled at what both sides show. */
function rebuilt(): RowDocument {
  const decision = planRestore(row());
  if (decision.kind !== 'rebuild') throw new Error(decision.kind);
  return decision.next;
}

describe('planRestore', () => {
  it('rebuilds a lost document from what both sides show, with the watermark and the read time', () => {
    const decision = planRestore(row());
    expect(decision.kind).toBe('rebuild');
    if (decision.kind !== 'rebuild') return;
    expect(decision.conflicts).toEqual([]);
    expect(decision.next.key).toEqual({ id: 7 });
    expect(decision.next.vv).toEqual({ sheet: 0, db: 42_999 });
    expect(decision.next.eventsFloor).toBe(1_000);
    expect(decision.next.tombstone).toBeNull();
    for (const [column, value] of Object.entries({ id: 7, name: 'Ada', status: 'won', score: 3 })) {
      expect(decision.next.cells[column]).toMatchObject({ value, sheetValue: value, echoed: true });
    }
  });

  it.each([
    ['last-writer-wins', 'db', 'lost'],
    ['manual', 'db', 'lost'],
    ['sheet-wins', 'sheet', 'won'],
  ] as const)(
    'records a cell the sides show differently (%s: the %s value wins)',
    (policy, winner, value) => {
      const decision = planRestore(row({ policy, db: { id: 7, name: 'Ada', status: 'lost', score: 3 } }));
      if (decision.kind !== 'rebuild') throw new Error(decision.kind);
      expect(decision.conflicts).toHaveLength(1);
      expect(decision.conflicts[0]).toMatchObject({
        column: 'status',
        sheet: { value: 'won' },
        db: { value: 'lost' },
        outcome: winner,
        value,
        status: policy === 'manual' ? 'open' : 'resolved',
      });
      // Reconcile then writes the side that differs from the synced value: the winner goes over.
      const synced = decision.next.cells.status!.value;
      const plan = planCell('won', 'lost', synced, policy);
      expect(plan).toEqual(
        winner === 'db' ? { kind: 'to-sheet', value: 'lost' } : { kind: 'to-db', value: 'won' },
      );
    },
  );

  it('takes a key the sheet does not show yet (the table assigned it) to the sheet, with no conflict', () => {
    const decision = planRestore(row({ sheet: { id: null, name: 'Ada', status: 'won' } }));
    if (decision.kind !== 'rebuild') throw new Error(decision.kind);
    expect(decision.conflicts).toEqual([]);
    expect(planCell(null, 7, decision.next.cells.id!.value, 'sheet-wins')).toEqual({
      kind: 'to-sheet',
      value: 7,
    });
  });

  it('settles an older document where both sides agree, and leaves the cells they differ in', () => {
    const doc: RowDocument = {
      ...emptyRowDocument('r1', { id: 7 }),
      vv: { sheet: 2, db: 10_000 },
      cells: {
        status: {
          value: 'new',
          dot: 'sheet:2',
          time: { wall: 500, logical: 0 },
          echoed: false,
          sheetValue: 'new',
          sheetWrittenAt: 400,
        },
        name: {
          value: 'Ada',
          dot: 'db:1',
          time: { wall: 1, logical: 0 },
          echoed: true,
          sheetValue: 'Ada',
          sheetWrittenAt: 1,
        },
      },
    };
    const decision = planRestore(
      row({
        doc,
        sheet: { id: 7, name: 'Ada L.', status: 'won' },
        db: { id: 7, name: 'Ada', status: 'won', score: 3 },
      }),
    );
    if (decision.kind !== 'settle') throw new Error(decision.kind);
    expect(decision.next.cells.status).toMatchObject({ value: 'won', sheetValue: 'won', echoed: true });
    expect(decision.next.cells.status!.time.wall).toBeGreaterThanOrEqual(1_000);
    expect(decision.next.cells.name).toEqual(doc.cells.name); // reconcile decides it
    expect(decision.next.vv).toEqual({ sheet: 2, db: 42_999 });
  });

  it('changes nothing for a settled document without changes in the outbox, nor for a deleted row', () => {
    const settled = rebuilt();
    expect(planRestore(row({ doc: { ...settled, vv: { sheet: 0, db: 50_000 } } }))).toEqual({ kind: 'none' });
    const deleted = { ...settled, tombstone: { dot: 'sheet:1', time: { wall: 1, logical: 0 } } };
    expect(planRestore(row({ doc: deleted, pending: true }))).toEqual({ kind: 'none' });
  });

  it('marks a document with changes still in the outbox as having seen them', () => {
    const decision = planRestore(row({ doc: { ...rebuilt(), vv: { sheet: 0, db: 5 } }, pending: true }));
    expect(decision).toMatchObject({ kind: 'settle', next: { vv: { db: 42_999 } } });
  });
});
