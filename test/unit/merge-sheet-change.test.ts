import { describe, expect, it } from 'vitest';
import {
  applyResolution,
  resolutionChange,
  resolutionEventId,
} from '../../functions/src/core/conflict-resolution.ts';
import { mergeSheetChange } from '../../functions/src/core/merge-sheet-change.ts';
import { mergeRowDocuments, type RowDocument } from '../../functions/src/core/row-document.ts';
import type { RowChange } from '../../functions/src/wire/row-change.ts';

const rowId = '7f1c2d3e-4b5a-4c6d-8e7f-901234567890';

/** A synced row: `status` was last written by the DB (outbox 5) and shown on the sheet at t=100. */
function synced(): RowDocument {
  return {
    rowId,
    key: { id: 1 },
    vv: { sheet: 2, db: 5 },
    cells: {
      status: {
        value: 'open',
        dot: 'db:5',
        time: { wall: 90, logical: 0 },
        echoed: true,
        sheetValue: 'open',
        sheetWrittenAt: 100,
      },
      owner: {
        value: 'ada',
        dot: 'sheet:2',
        time: { wall: 50, logical: 0 },
        echoed: true,
        sheetValue: 'ada',
        sheetWrittenAt: 0,
      },
    },
    tombstone: null,
    events: { 'event-2': { counter: 2, wall: 50 } },
    eventsFloor: 0,
  };
}

function edit(cells: RowChange['cells'], wall: number, eventId = `event-${wall}`): RowChange {
  return { link: 'crm', rowId, op: 'upsert', cells, origin: 'sheet', time: { wall, logical: 0 }, eventId };
}

const context = (dbRow: RowChange['cells'] | null, attempt = 1) => ({
  policy: { default: 'last-writer-wins' as const },
  dbRow,
  now: 1000,
  attempt,
});

describe('mergeSheetChange', () => {
  it('a row created by a sheet edit is on the sheet from the edit’s time', () => {
    const decision = mergeSheetChange(undefined, edit({ status: 'new' }, 120), context(null));
    expect(decision).toMatchObject({ kind: 'apply', write: 'upsert', next: { onSheetSince: 120 } });
  });

  it('ignores a structure event’s delete of a row that reached the sheet after the ids were read', () => {
    const appended = { ...synced(), onSheetSince: 150 };
    const early = mergeSheetChange(appended, { ...edit({}, 140), op: 'delete' }, context({ status: 'open' }));
    expect(early).toMatchObject({ kind: 'apply', write: 'none', conflicts: [] });
    if (early.kind === 'apply') expect(early.next.tombstone).toBeNull();
    const late = mergeSheetChange(appended, { ...edit({}, 160), op: 'delete' }, context({ status: 'open' }));
    expect(late).toMatchObject({ kind: 'apply', write: 'delete' });
    if (late.kind === 'apply') expect(late.next.tombstone).not.toBeNull();
    // A document written before onSheetSince was kept: deleted as before.
    const old = mergeSheetChange(synced(), { ...edit({}, 140), op: 'delete' }, context({ status: 'open' }));
    expect(old).toMatchObject({ kind: 'apply', write: 'delete' });
  });

  it('a row that came back is on the sheet from its return: a delete found by ids read before it is ignored', () => {
    // On the sheet from 150; deleted there, the database refused, and it was appended again at 300
    // (applyToSheet's commit, merged into the stored document).
    const back = mergeRowDocuments({ ...synced(), onSheetSince: 150 }, { ...synced(), onSheetSince: 300 });
    expect(back.onSheetSince).toBe(300);
    expect(mergeRowDocuments(back, { ...synced(), onSheetSince: 150 }).onSheetSince).toBe(300);
    // A structure event whose ids were read at 200 (before the return) lacks it: not a delete.
    const stale = mergeSheetChange(back, { ...edit({}, 200), op: 'delete' }, context({ status: 'open' }));
    expect(stale).toMatchObject({ kind: 'apply', write: 'none' });
    const fresh = mergeSheetChange(back, { ...edit({}, 310), op: 'delete' }, context({ status: 'open' }));
    expect(fresh).toMatchObject({ kind: 'apply', write: 'delete' });
  });

  it('applies an edit made after the DB value was shown, with the next sheet dot', () => {
    const decision = mergeSheetChange(
      synced(),
      edit({ status: 'won' }, 150),
      context({ status: 'open', owner: 'ada' }),
    );
    expect(decision).toMatchObject({
      kind: 'apply',
      dot: 'sheet:3',
      write: 'upsert',
      cells: { status: 'won' },
    });
    if (decision.kind !== 'apply') return;
    expect(decision.conflicts).toEqual([]);
    expect(decision.next.vv).toEqual({ sheet: 3, db: 5 });
    expect(decision.next.events['event-150']).toEqual({ counter: 3, wall: 150 });
    expect(decision.next.cells.status).toMatchObject({
      value: 'won',
      dot: 'sheet:3',
      echoed: false,
      sheetValue: 'won',
    });
  });

  it('drops a retried webhook call as the same change', () => {
    const doc = synced();
    expect(mergeSheetChange(doc, edit({ status: 'x' }, 50, 'event-2'), context({ status: 'open' }))).toEqual({
      kind: 'duplicate',
      dot: 'sheet:2',
    });
  });

  it('decides an edit made before the DB value reached the sheet as a conflict, and records it', () => {
    const older = mergeSheetChange(synced(), edit({ status: 'lost' }, 80), context({ status: 'open' }));
    expect(older).toMatchObject({ kind: 'apply', write: 'none', cells: {} });
    if (older.kind !== 'apply') return;
    expect(older.conflicts).toHaveLength(1);
    expect(older.conflicts[0]).toMatchObject({
      reason: 'concurrent',
      policy: 'last-writer-wins',
      outcome: 'db',
      value: 'open',
      status: 'resolved',
      sheet: { value: 'lost', dot: 'sheet:3' },
      db: { value: 'open', dot: 'db:5' },
    });
    // The same edit later than the DB change's time (90) but before it was shown (100) wins.
    const newer = mergeSheetChange(synced(), edit({ status: 'won' }, 95), context({ status: 'open' }));
    expect(newer).toMatchObject({ kind: 'apply', write: 'upsert', cells: { status: 'won' } });
    if (newer.kind !== 'apply') return;
    expect(newer.conflicts[0]).toMatchObject({ outcome: 'sheet', value: 'won' });
    // The sheet shows the DB value written over the edit: the echo must bring 'won' back.
    expect(newer.next.cells.status).toMatchObject({ sheetValue: 'open' });
  });

  it('keeps the DB value and opens the conflict under manual', () => {
    const decision = mergeSheetChange(synced(), edit({ status: 'mine' }, 99), {
      ...context({ status: 'open' }),
      policy: { default: 'sheet-wins', columns: { status: 'manual' } },
    });
    expect(decision).toMatchObject({ kind: 'apply', write: 'none' });
    if (decision.kind !== 'apply') return;
    const [record] = decision.conflicts;
    expect(record).toMatchObject({ status: 'open', policy: 'manual', outcome: 'db' });
    const resolved = applyResolution(record!, 'sheet', 2000);
    expect(resolutionChange(resolved, 2000)).toEqual({
      link: 'crm',
      rowId,
      op: 'upsert',
      cells: { status: 'mine' },
      origin: 'sheet',
      time: { wall: 2000, logical: 0 },
      eventId: resolutionEventId(record!.id),
    });
    expect(resolutionChange(applyResolution(record!, 'db', 2000), 2000)).toBeNull();
  });

  it('uses a custom resolver’s value', () => {
    const decision = mergeSheetChange(synced(), edit({ status: 'mine' }, 99), {
      ...context({ status: 'open' }),
      policy: {
        default: { name: 'custom:join', resolve: (c) => ({ value: `${c.db.value}|${c.sheet.value}` }) },
      },
    });
    expect(decision).toMatchObject({ kind: 'apply', cells: { status: 'open|mine' } });
    if (decision.kind === 'apply')
      expect(decision.conflicts[0]).toMatchObject({ outcome: 'custom', policy: 'custom:join' });
  });

  it('waits for a DB change the document has not seen, then decides it without waiting', () => {
    const change = edit({ status: 'won' }, 150);
    expect(mergeSheetChange(synced(), change, context({ status: 'lost-in-flight' }))).toEqual({
      kind: 'defer',
      columns: ['status'],
    });
    const forced = mergeSheetChange(synced(), change, context({ status: 'lost-in-flight' }, 5));
    // The sheet may show the edit over the kept value: the value is sent to the sheet again.
    expect(forced).toMatchObject({
      kind: 'apply',
      write: 'none',
      outcomes: [{ kind: 'keep-db' }],
      reshow: ['status'],
    });
    if (forced.kind === 'apply') {
      expect(forced.conflicts[0]).toMatchObject({ reason: 'unobserved', status: 'open', db: { dot: null } });
    }
  });

  it('records the synced DB value as well when this edit had not seen it and the table moved on', () => {
    // Typed at 99, before the sheet showed 'open' (at 100); an earlier attempt wrote it over
    // 'open' and lost its commit and its record; then a DB client wrote 'later'.
    const forced = mergeSheetChange(synced(), edit({ status: 'mine' }, 99), context({ status: 'later' }, 5));
    expect(forced).toMatchObject({
      kind: 'apply',
      write: 'none',
      outcomes: [{ kind: 'keep-db', value: 'later' }],
    });
    if (forced.kind === 'apply') {
      expect(forced.conflicts.map((c) => [c.reason, c.sheet.value, c.db.value, c.status])).toEqual([
        ['unobserved', 'mine', 'later', 'open'],
        ['unobserved', 'mine', 'open', 'open'],
      ]);
    }
    // An edit made after the sheet showed 'open' had seen it: only the unobserved DB value.
    const seen = mergeSheetChange(synced(), edit({ status: 'mine' }, 150), context({ status: 'later' }, 5));
    if (seen.kind === 'apply') expect(seen.conflicts.map((c) => c.db.value)).toEqual(['later']);
  });

  it('re-applies its own write from an attempt whose document commit was lost', () => {
    const decision = mergeSheetChange(synced(), edit({ status: 'won' }, 150), context({ status: 'won' }, 2));
    expect(decision).toMatchObject({ kind: 'apply', dot: 'sheet:3', write: 'none' });
    if (decision.kind === 'apply')
      expect(decision.next.cells.status).toMatchObject({ value: 'won', echoed: true });
  });

  it('inserts a new row and applies an edit of a different cell without conflict', () => {
    const insert = mergeSheetChange(undefined, edit({ id: 2, status: 'new' }, 10), context(null));
    expect(insert).toMatchObject({
      kind: 'apply',
      dot: 'sheet:1',
      write: 'upsert',
      cells: { id: 2, status: 'new' },
    });
    const other = mergeSheetChange(
      synced(),
      edit({ owner: 'grace' }, 99),
      context({ status: 'open', owner: 'ada' }),
    );
    expect(other).toMatchObject({ kind: 'apply', cells: { owner: 'grace' }, conflicts: [] });
  });

  it('deletes, recording DB values the delete overrides; an edit of a deleted row loses', () => {
    const del = mergeSheetChange(
      synced(),
      { ...edit({}, 99), op: 'delete' },
      context({ status: 'open', owner: 'ada' }),
    );
    expect(del).toMatchObject({ kind: 'apply', write: 'delete' });
    if (del.kind !== 'apply') return;
    expect(del.conflicts.map((c) => [c.column, c.reason, c.outcome])).toEqual([
      ['status', 'deleted', 'sheet'],
    ]);
    const late = mergeSheetChange(del.next, edit({ owner: 'x' }, 120), context(null));
    expect(late).toMatchObject({ kind: 'apply', write: 'none' });
    if (late.kind === 'apply')
      expect(late.conflicts[0]).toMatchObject({ reason: 'deleted', sheet: { value: 'x' } });
  });
});
