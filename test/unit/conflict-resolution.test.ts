/**
 * A person's resolution of an open conflict, through both apply functions' decisions: the chosen
 * value must end on BOTH sides. The bug this guards against: the resolution travels as a sheet
 * change, and applyToDb recorded that the sheet showed its value (as it does for an edit), so the
 * echo of the DB write did not write the sheet, which kept the DB value the conflict had kept.
 */
import { describe, expect, it } from 'vitest';
import type { Cells, CellValue } from '../../functions/src/core/cell-value.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import {
  applyResolution,
  isResolutionEventId,
  type ResolutionChoice,
  resolutionChange,
  resolutionEventId,
} from '../../functions/src/core/conflict-resolution.ts';
import { mergeDbChange, stampSheetWrites } from '../../functions/src/core/merge-db-change.ts';
import { mergeSheetChange, type SheetMergeContext } from '../../functions/src/core/merge-sheet-change.ts';
import { mergeRowDocuments, type RowDocument } from '../../functions/src/core/row-document.ts';
import type { RowChange } from '../../functions/src/wire/row-change.ts';

const rowId = '7f1c2d3e-4b5a-4c6d-8e7f-901234567890';

/** One row, both replicas, the row document and the outbox ids, driven by the core's decisions. */
class Row {
  sheet: Cells = { status: 'new' };
  db: Cells = { status: 'new' };
  outboxId = 5;
  doc: RowDocument = {
    rowId,
    key: { id: 1 },
    vv: { sheet: 0, db: 5 },
    cells: {
      status: {
        value: 'new',
        dot: 'db:5',
        time: { wall: 90, logical: 0 },
        echoed: true,
        sheetValue: 'new',
        sheetWrittenAt: 100,
      },
    },
    tombstone: null,
    events: {},
    eventsFloor: 0,
  };
  conflicts: ConflictRecord[] = [];

  /** A DB write (psql, an app): committed now, in the outbox for applyToSheet. */
  dbWrite(cells: Cells, wall: number): RowChange {
    Object.assign(this.db, cells);
    return this.outbox(cells, 'db', `db:${++this.outboxId}`, wall);
  }

  /** A person edits the sheet; the change is what the webhook publishes for applyToDb. */
  sheetEdit(cells: Cells, wall: number): RowChange {
    Object.assign(this.sheet, cells);
    return {
      link: 'crm',
      rowId,
      op: 'upsert',
      cells,
      origin: 'sheet',
      time: { wall, logical: 0 },
      eventId: `e${wall}`,
    };
  }

  /** applyToSheet: decides, writes the sheet, stamps the write, commits the document. */
  toSheet(change: RowChange, now: number): void {
    const decision = mergeDbChange(this.doc, change, { sheetRow: { ...this.sheet }, now });
    if (decision.kind !== 'apply') throw new Error(`applyToSheet: ${decision.kind}`);
    Object.assign(this.sheet, decision.cells);
    this.doc = mergeRowDocuments(this.doc, stampSheetWrites(decision.next, Object.keys(decision.cells), now));
  }

  /** applyToDb: decides, writes the DB (its echo goes to the outbox), commits the document. */
  toDb(change: RowChange, now: number, options: Partial<SheetMergeContext> = {}): RowChange | null {
    const decision = mergeSheetChange(this.doc, change, {
      policy: { default: 'manual' },
      dbRow: { ...this.db },
      now,
      attempt: 1,
      ...options,
    });
    if (decision.kind !== 'apply') throw new Error(`applyToDb: ${decision.kind}`);
    this.doc = mergeRowDocuments(this.doc, decision.next);
    this.conflicts.push(...decision.conflicts);
    if (decision.write !== 'upsert') return null;
    const changed = Object.fromEntries(
      Object.entries(decision.cells).filter(([column, value]) => this.db[column] !== value),
    );
    Object.assign(this.db, changed);
    return this.outbox(changed, 'sheet', decision.dot, now);
  }

  private outbox(cells: Cells, origin: 'db' | 'sheet', dot: string, wall: number): RowChange {
    const outboxId = origin === 'db' ? this.outboxId : ++this.outboxId;
    return { link: 'crm', rowId, op: 'upsert', cells, origin, dot, outboxId, time: { wall, logical: 0 } };
  }
}

/**
 * The DB writes `lost` and, before applyToSheet shows it, a person types `won` on the sheet.
 * applyToSheet writes `lost` over the edit; applyToDb sees the edit was made before that and,
 * under `manual`, keeps the DB value and opens the conflict.
 */
function openConflict(): { row: Row; conflict: ConflictRecord } {
  const row = new Row();
  const dbChange = row.dbWrite({ status: 'lost' }, 110);
  const edit = row.sheetEdit({ status: 'won' }, 115);
  row.toSheet(dbChange, 120);
  expect(row.toDb(edit, 130)).toBeNull();
  expect(row.conflicts).toHaveLength(1);
  const conflict = row.conflicts[0]!;
  expect(conflict).toMatchObject({
    reason: 'concurrent',
    status: 'open',
    sheet: { value: 'won' },
    db: { value: 'lost' },
    value: 'lost',
  });
  expect([row.sheet.status, row.db.status]).toEqual(['lost', 'lost']);
  return { row, conflict };
}

/** Resolves through the same path as the dashboard: the change, applyToDb, then its echo. */
function resolve(row: Row, conflict: ConflictRecord, choice: ResolutionChoice): void {
  const change = resolutionChange(applyResolution(conflict, choice, 200), 200);
  if (!change) return;
  const echo = row.toDb(change, 210);
  if (echo) row.toSheet(echo, 220);
}

describe('resolving a conflict', () => {
  it('taking the sheet value: the table gets it and the sheet shows it again', () => {
    const { row, conflict } = openConflict();
    resolve(row, conflict, 'sheet');
    expect(row.db.status).toBe('won');
    expect(row.sheet.status).toBe('won');
    expect(row.doc.cells.status).toMatchObject({ value: 'won', sheetValue: 'won', echoed: true });
  });

  it('taking the DB value: nothing to write, the sheet already shows it', () => {
    const { row, conflict } = openConflict();
    expect(resolutionChange(applyResolution(conflict, 'db', 200), 200)).toBeNull();
    resolve(row, conflict, 'db');
    expect([row.sheet.status, row.db.status]).toEqual(['lost', 'lost']);
  });

  it('with a value of its own: both sides get it', () => {
    const { row, conflict } = openConflict();
    resolve(row, conflict, { value: 'agreed' });
    expect([row.sheet.status, row.db.status]).toEqual(['agreed', 'agreed']);
  });

  it('a redelivered resolution is the same change: applied once, and the sheet still gets it', () => {
    const { row, conflict } = openConflict();
    const change = resolutionChange(applyResolution(conflict, 'sheet', 200), 200)!;
    const echo = row.toDb(change, 210)!;
    expect(
      mergeSheetChange(row.doc, change, {
        policy: { default: 'manual' },
        dbRow: row.db,
        now: 215,
        attempt: 2,
      }),
    ).toMatchObject({ kind: 'duplicate' });
    row.toSheet(echo, 220);
    expect([row.sheet.status, row.db.status]).toEqual(['won', 'won']);
  });

  it('an edit made before the sheet showed the resolution is concurrent with it, and recorded', () => {
    const { row, conflict } = openConflict();
    const change = resolutionChange(applyResolution(conflict, 'sheet', 200), 200)!;
    const echo = row.toDb(change, 210)!;
    const typed = row.sheetEdit({ status: 'typed' }, 215); // the sheet still shows 'lost'
    row.toSheet(echo, 220); // the echo writes 'won' over the unsent edit…
    expect(row.toDb(typed, 230)).toBeNull(); // …which, under manual, does not replace it
    expect([row.sheet.status, row.db.status]).toEqual(['won', 'won']);
    expect(row.conflicts[1]).toMatchObject({
      reason: 'concurrent',
      status: 'open',
      sheet: { value: 'typed' },
      db: { value: 'won', dot: 'sheet:2' },
    });
  });

  it('the same edit reaching the table before the echo waits for it, then is decided the same way', () => {
    const { row, conflict } = openConflict();
    const change = resolutionChange(applyResolution(conflict, 'sheet', 200), 200)!;
    const echo = row.toDb(change, 210)!;
    const typed = row.sheetEdit({ status: 'typed' }, 215);
    // Whether the person saw the resolution is known once applyToSheet recorded when it showed it.
    expect(() => row.toDb(typed, 216)).toThrow('applyToDb: defer');
    row.toSheet(echo, 220);
    expect(row.toDb(typed, 221, { attempt: 2 })).toBeNull();
    expect([row.sheet.status, row.db.status]).toEqual(['won', 'won']);
    expect(row.conflicts[1]).toMatchObject({ sheet: { value: 'typed' }, db: { value: 'won' } });
  });

  it('an edit typed after the sheet showed the resolution, reaching the table before applyToSheet recorded it, applies', () => {
    const { row, conflict } = openConflict();
    const change = resolutionChange(applyResolution(conflict, 'sheet', 200), 200)!;
    const echo = row.toDb(change, 210)!;
    row.sheet.status = 'won'; // applyToSheet wrote the echo at 212 and has not committed yet
    const typed = row.sheetEdit({ status: 'typed' }, 215); // the person saw 'won'
    expect(() => row.toDb(typed, 216)).toThrow('applyToDb: defer');
    row.toSheet(echo, 212);
    const typedEcho = row.toDb(typed, 221, { attempt: 2 });
    expect(typedEcho).not.toBeNull();
    expect(row.conflicts).toHaveLength(1); // no conflict: the edit came after the resolution
    expect(row.db.status).toBe('typed');
  });

  it('when the echo does not come within the deferrals, the edit is decided as concurrent', () => {
    const { row, conflict } = openConflict();
    const change = resolutionChange(applyResolution(conflict, 'sheet', 200), 200)!;
    row.toDb(change, 210);
    const typed = row.sheetEdit({ status: 'typed' }, 215);
    expect(row.toDb(typed, 216, { attempt: 5 })).toBeNull();
    expect(row.conflicts[1]).toMatchObject({
      reason: 'concurrent',
      status: 'open',
      sheet: { value: 'typed' },
    });
  });

  it('under last-writer-wins the later edit wins over the resolution on both sides', () => {
    const { row, conflict } = openConflict();
    const change = resolutionChange(applyResolution(conflict, 'sheet', 200), 200)!;
    const echo = row.toDb(change, 210)!;
    const typed = row.sheetEdit({ status: 'typed' }, 215);
    row.toSheet(echo, 220);
    const lww = { policy: { default: 'last-writer-wins' as const } };
    const typedEcho = row.toDb(typed, 230, lww);
    expect(typedEcho).not.toBeNull();
    row.toSheet(typedEcho!, 240);
    expect([row.sheet.status, row.db.status]).toEqual(['typed', 'typed']);
    expect(row.conflicts[1]).toMatchObject({ outcome: 'sheet', db: { value: 'won' } });
  });

  it('an edit made after the sheet showed the resolution simply applies', () => {
    const { row, conflict } = openConflict();
    resolve(row, conflict, 'sheet');
    const typedEcho = row.toDb(row.sheetEdit({ status: 'later' }, 300), 310);
    row.toSheet(typedEcho!, 320);
    expect([row.sheet.status, row.db.status]).toEqual(['later', 'later']);
    expect(row.conflicts).toHaveLength(1);
  });

  it('tells a resolution’s event id from an Apps Script (version 4) one', () => {
    const id = resolutionEventId('0123456789abcdef0123456789abcdef');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(resolutionEventId('0123456789abcdef0123456789abcdef')).toBe(id);
    expect(isResolutionEventId(id)).toBe(true);
    expect(isResolutionEventId(crypto.randomUUID())).toBe(false);
    expect(isResolutionEventId('e115')).toBe(false);
    expect(isResolutionEventId(undefined)).toBe(false);
  });
});

describe('a conflict decided without seeing the DB change (unobserved)', () => {
  /**
   * The sheet edit reaches applyToDb while a DB write it never saw is still on its way to the
   * sheet; after the last deferral the DB value is kept without waiting.
   */
  function unobserved(): { row: Row; conflict: ConflictRecord; dbChange: RowChange } {
    const row = new Row();
    const dbChange = row.dbWrite({ status: 'lost' }, 110);
    const edit = row.sheetEdit({ status: 'won' }, 115);
    expect(() => row.toDb(edit, 130)).toThrow(/defer/);
    expect(row.toDb(edit, 140, { attempt: 5 })).toBeNull();
    const conflict = row.conflicts[0]!;
    return { row, conflict, dbChange };
  }

  it('records the losing sheet value in an open conflict, and the sheet then shows the DB value', () => {
    const { row, conflict, dbChange } = unobserved();
    expect(row.conflicts).toHaveLength(1);
    expect(conflict).toMatchObject({
      reason: 'unobserved',
      status: 'open',
      sheet: { value: 'won', dot: 'sheet:1' },
      db: { value: 'lost', dot: null },
      value: 'lost',
    });
    // The row document took the edit's dot and event id, so a redelivery is a duplicate…
    expect(row.doc.vv.sheet).toBe(1);
    expect(row.doc.events.e115).toMatchObject({ counter: 1 });
    // …and the DB change, when it arrives, is shown over the losing edit: both sides agree.
    row.toSheet(dbChange, 150);
    expect([row.sheet.status, row.db.status]).toEqual(['lost', 'lost']);
    expect(row.doc.cells.status).toMatchObject({ value: 'lost', sheetValue: 'lost' });
  });

  it.each([
    ['sheet', 'won'],
    ['db', 'lost'],
    [{ value: 'agreed' }, 'agreed'],
  ] as [ResolutionChoice, CellValue][])(
    'resolved by a person (%o): both sides end with %o',
    (choice, expected) => {
      const { row, conflict, dbChange } = unobserved();
      row.toSheet(dbChange, 150);
      resolve(row, conflict, choice);
      expect([row.sheet.status, row.db.status]).toEqual([expected, expected]);
    },
  );
});
