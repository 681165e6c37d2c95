import { describe, expect, it } from 'vitest';
import { mergeDbChange, stampSheetWrites } from '../../functions/src/core/merge-db-change.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import type { RowChange } from '../../functions/src/wire/row-change.ts';

const rowId = '7f1c2d3e-4b5a-4c6d-8e7f-901234567890';

function doc(): RowDocument {
  return {
    rowId,
    key: { id: 1 },
    vv: { sheet: 3, db: 5 },
    cells: {
      status: {
        value: 'won',
        dot: 'sheet:3',
        time: { wall: 95, logical: 0 },
        echoed: false,
        sheetValue: 'won',
        sheetWrittenAt: 0,
      },
      owner: {
        value: 'ada',
        dot: 'db:5',
        time: { wall: 50, logical: 0 },
        echoed: true,
        sheetValue: 'ada',
        sheetWrittenAt: 60,
      },
    },
    tombstone: null,
    events: {},
    eventsFloor: 0,
  };
}

const fromOutbox = (outboxId: number, cells: RowChange['cells'], dot = `db:${outboxId}`): RowChange => ({
  link: 'crm',
  rowId,
  op: 'upsert',
  cells,
  origin: dot.startsWith('db:') ? 'db' : 'sheet',
  dot,
  outboxId,
  time: { wall: 100 + outboxId, logical: 0 },
});

describe('mergeDbChange', () => {
  it('drops an outbox change it has consumed', () => {
    expect(mergeDbChange(doc(), fromOutbox(5, { owner: 'x' }), { sheetRow: {}, now: 1 })).toEqual({
      kind: 'duplicate',
    });
  });

  it('skips a DB change committed before a sheet change whose echo has not come yet', () => {
    const decision = mergeDbChange(doc(), fromOutbox(6, { status: 'open', owner: 'grace' }), {
      sheetRow: { status: 'won', owner: 'ada' },
      now: 200,
    });
    expect(decision).toMatchObject({ kind: 'apply', write: 'update', cells: { owner: 'grace' } });
    if (decision.kind !== 'apply') return;
    expect(decision.next.cells.status?.value).toBe('won');
    expect(decision.next.cells.owner).toMatchObject({ value: 'grace', dot: 'db:6', sheetWrittenAt: 200 });
    expect(decision.next.vv.db).toBe(6);
  });

  it('writes nothing for its own echo but sends cells the DB added', () => {
    const echo = fromOutbox(7, { status: 'won', updated_at: '2026-11-25T14:00:00Z' }, 'sheet:3');
    const decision = mergeDbChange(doc(), echo, { sheetRow: { status: 'won', updated_at: null }, now: 300 });
    expect(decision).toMatchObject({
      kind: 'apply',
      write: 'update',
      cells: { updated_at: '2026-11-25T14:00:00Z' },
    });
    if (decision.kind !== 'apply') return;
    expect(decision.next.cells.status).toMatchObject({ echoed: true, value: 'won' });
    // After the echo, DB changes to the cell reach the sheet again.
    const later = mergeDbChange(decision.next, fromOutbox(8, { status: 'lost' }), {
      sheetRow: { status: 'won' },
      now: 400,
    });
    expect(later).toMatchObject({ kind: 'apply', cells: { status: 'lost' } });
  });

  it('leaves a refused sheet value in place: an echo does not clear a cell the DB left empty', () => {
    // The sheet typed score "abc" into an integer column; applyToDb refused that cell (errors
    // tab) and inserted NULL. The echo carries score: null, and the sheet must keep "abc".
    const echo = fromOutbox(7, { status: 'won', score: null, id: 1 }, 'sheet:3');
    const decision = mergeDbChange(doc(), echo, {
      sheetRow: { status: 'won', score: 'abc', id: null },
      now: 300,
    });
    expect(decision).toMatchObject({ kind: 'apply', write: 'update', cells: { id: 1 } });
    if (decision.kind !== 'apply') return;
    expect(decision.cells).not.toHaveProperty('score');
    // A later DB change of the cell still reaches the sheet.
    const later = mergeDbChange(decision.next, fromOutbox(8, { score: 4 }), {
      sheetRow: { status: 'won', score: 'abc', id: 1 },
      now: 400,
    });
    expect(later).toMatchObject({ kind: 'apply', cells: { score: 4 } });
  });

  it('waits for an echo whose sheet change is not recorded yet', () => {
    expect(mergeDbChange(doc(), fromOutbox(7, { status: 'x' }, 'sheet:4'), { sheetRow: {}, now: 1 })).toEqual(
      {
        kind: 'defer',
        reason: 'echo-ahead-of-record',
      },
    );
  });

  it('appends a row the DB inserted, and deletes one the DB deleted', () => {
    const insert = mergeDbChange(undefined, fromOutbox(9, { id: 2, status: 'new' }), {
      sheetRow: null,
      now: 10,
      key: { id: 2 },
    });
    expect(insert).toMatchObject({ kind: 'apply', write: 'append', cells: { id: 2, status: 'new' } });
    if (insert.kind !== 'apply') return;
    expect(insert.next.key).toEqual({ id: 2 });
    const del = mergeDbChange(
      insert.next,
      { ...fromOutbox(10, {}), op: 'delete' },
      { sheetRow: { id: 2 }, now: 20 },
    );
    expect(del).toMatchObject({ kind: 'apply', write: 'delete' });
    if (del.kind === 'apply') expect(del.next.tombstone).toMatchObject({ dot: 'db:10' });
  });

  it('appends again a live row whose sheet row is gone when the DB inserts it (a refused delete’s restore)', () => {
    // The sheet deleted the row; the database refused (a foreign key) and recorded the row's
    // values as an INSERT. status still awaits its echo (sheet:3): shown, its claim kept.
    const restore = fromOutbox(8, { id: 1, status: 'won', owner: 'ada' });
    const decision = mergeDbChange(doc(), restore, { sheetRow: null, now: 400, inserted: true });
    expect(decision).toMatchObject({
      kind: 'apply',
      write: 'append',
      cells: { id: 1, status: 'won', owner: 'ada' },
    });
    if (decision.kind !== 'apply') return;
    expect(decision.next.cells.status).toMatchObject({ dot: 'sheet:3', echoed: false });
    expect(decision.next.cells.owner).toMatchObject({ value: 'ada', sheetValue: 'ada', sheetWrittenAt: 400 });
    expect(decision.next.vv.db).toBe(8);
    // The same change as an UPDATE, or with the row still on the sheet, appends nothing.
    expect(mergeDbChange(doc(), restore, { sheetRow: null, now: 400 })).toMatchObject({ write: 'none' });
    expect(
      mergeDbChange(doc(), restore, {
        sheetRow: { id: 1, status: 'won', owner: 'ada' },
        now: 400,
        inserted: true,
      }),
    ).toMatchObject({ write: 'none' });
    // A deleted row stays deleted.
    const deleted = { ...doc(), tombstone: { dot: 'db:6', time: { wall: 1, logical: 0 } } };
    expect(mergeDbChange(deleted, restore, { sheetRow: null, now: 400, inserted: true })).toMatchObject({
      write: 'none',
    });
  });

  it('shows again a DB value it already recorded (a reshow), keeping that write’s dot and time', () => {
    // applyToDb kept 'ada' at the deferral cap while the sheet showed a person's 'bob'.
    const decision = mergeDbChange(doc(), fromOutbox(8, { owner: 'ada' }), {
      sheetRow: { status: 'won', owner: 'bob' },
      now: 400,
    });
    expect(decision).toMatchObject({ kind: 'apply', write: 'update', cells: { owner: 'ada' } });
    if (decision.kind !== 'apply') return;
    expect(decision.next.cells.owner).toMatchObject({
      value: 'ada',
      dot: 'db:5',
      time: { wall: 50, logical: 0 },
      sheetValue: 'ada',
      sheetWrittenAt: 400,
    });
    expect(decision.next.vv.db).toBe(8);
    // Where the sheet shows it already, nothing is written.
    const shown = mergeDbChange(doc(), fromOutbox(8, { owner: 'ada' }), {
      sheetRow: { status: 'won', owner: 'ada' },
      now: 400,
    });
    expect(shown).toMatchObject({ kind: 'apply', write: 'none', cells: {} });
  });

  it('stamps the time a sheet write completed', () => {
    const stamped = stampSheetWrites(doc(), ['owner', 'missing'], 999);
    expect(stamped.cells.owner?.sheetWrittenAt).toBe(999);
    expect(stamped.cells.status?.sheetWrittenAt).toBe(0);
  });
});
