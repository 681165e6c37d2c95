/**
 * The version store contract: the Firestore adapter (through Google's emulator) and the
 * in-memory adapter must both pass it, so the memory one may stand in for Firestore.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { keyId } from '../../functions/src/core/key-id.ts';
import type { HeldChange } from '../../functions/src/core/mass-change.ts';
import { emptyRowDocument, type RowDocument } from '../../functions/src/core/row-document.ts';
import type { VersionStore } from '../../functions/src/ports.ts';

export function row(
  rowId: string,
  cells: Record<string, unknown>,
  patch: Partial<RowDocument> = {},
): RowDocument {
  const doc = emptyRowDocument(rowId);
  for (const [column, value] of Object.entries(cells)) {
    doc.cells[column] = {
      value: value as never,
      dot: 'db:1',
      time: { wall: 1, logical: 0 },
      echoed: true,
      sheetValue: value as never,
      sheetWrittenAt: 1,
    };
  }
  return { ...doc, vv: { sheet: 0, db: 1 }, ...patch };
}

export function conflict(rowId: string, id: string, patch: Partial<ConflictRecord> = {}): ConflictRecord {
  return {
    id,
    link: 'contract',
    rowId,
    column: 'status',
    reason: 'concurrent',
    policy: 'manual',
    sheet: { value: 'from the sheet', dot: 'sheet:1', time: { wall: 5, logical: 0 } },
    db: { value: ['from', 'the', ['db']], dot: 'db:7', time: { wall: 4, logical: 2 } },
    outcome: 'db',
    value: ['from', 'the', ['db']],
    status: 'open',
    detectedAt: 10,
    resolution: null,
    ...patch,
  };
}

export function heldChange(link: string, id: string, patch: Partial<HeldChange> = {}): HeldChange {
  return {
    id,
    link,
    source: 'structure',
    side: 'db',
    count: 30,
    total: 40,
    reason: '30 of 40 rows are missing from the sheet',
    sample: [{ rowId: 'r1', key: { id: 1, tags: ['a', ['b']] } }],
    evidenceTime: 100,
    heldAt: 200,
    status: 'held',
    ...patch,
  };
}

export function versionStoreContract(name: string, open: () => VersionStore) {
  describe(`version store contract: ${name}`, () => {
    const link = `contract-${randomUUID().slice(0, 8)}`;

    it('reads nothing for unknown rows', async () => {
      const store = open();
      expect((await store.readRows(link, [randomUUID()])).size).toBe(0);
      expect((await store.readRows(link, [])).size).toBe(0);
    });

    it('stores row documents exactly, nested values and tombstones included', async () => {
      const store = open();
      const rowId = randomUUID();
      const doc = row(rowId, {
        id: 7,
        name: 'Ada',
        tags: [['a', 'b'], ['c']],
        meta: { nested: [1, { deep: null }] },
        done: false,
        note: null,
      });
      doc.key = { id: 7 };
      doc.cells.name!.contender = { value: ['x'], dot: 'db:3', time: { wall: 3, logical: 1 }, shownAt: 4 };
      doc.events = { 'event-1': { counter: 1, wall: 99 } };
      doc.vv = { sheet: 1, db: 1 };
      doc.tombstone = { dot: 'sheet:1', time: { wall: 99, logical: 1 } };
      doc.onSheetSince = 42;
      await store.commitRows(link, [{ next: doc }]);
      expect((await store.readRows(link, [rowId])).get(rowId)).toEqual(doc);
    });

    it('maps primary keys to rows and moves the mapping when the key changes', async () => {
      const store = open();
      const rowId = randomUUID();
      await store.commitRows(link, [{ next: row(rowId, { id: 1 }, { key: { id: 1, region: 'eu' } }) }]);
      const first = await store.rowIdsForKeys(link, [{ region: 'eu', id: 1 }, { id: 2 }]);
      expect([...first]).toEqual([[keyId({ id: 1, region: 'eu' }), rowId]]);
      await store.commitRows(link, [{ next: row(rowId, { id: 2 }, { key: { id: 2 } }) }]);
      const second = await store.rowIdsForKeys(link, [{ id: 1, region: 'eu' }, { id: 2 }]);
      expect([...second]).toEqual([[keyId({ id: 2 }), rowId]]);
    });

    it('merges a commit computed from an older read instead of overwriting', async () => {
      const store = open();
      const rowId = randomUUID();
      const base = row(rowId, { a: 'a0', b: 'b0' });
      await store.commitRows(link, [{ next: base }]);
      // Both writers read `base`; each changes its own cell.
      const fromSheet = structuredClone(base);
      fromSheet.cells.a = {
        ...fromSheet.cells.a!,
        value: 'a1',
        dot: 'sheet:1',
        time: { wall: 5, logical: 0 },
      };
      fromSheet.vv = { sheet: 1, db: 1 };
      fromSheet.events = { e1: { counter: 1, wall: 5 } };
      const fromDb = structuredClone(base);
      fromDb.cells.b = { ...fromDb.cells.b!, value: 'b1', dot: 'db:9', time: { wall: 6, logical: 0 } };
      fromDb.vv = { sheet: 0, db: 9 };
      await store.commitRows(link, [{ next: fromSheet }]);
      await store.commitRows(link, [{ next: fromDb }]);
      const stored = (await store.readRows(link, [rowId])).get(rowId)!;
      expect(stored.cells.a?.value).toBe('a1');
      expect(stored.cells.b?.value).toBe('b1');
      expect(stored.vv).toEqual({ sheet: 1, db: 9 });
      expect(stored.events).toEqual({ e1: { counter: 1, wall: 5 } });
    });

    it('commits group commits larger than one transaction', async () => {
      const store = open();
      const rows = Array.from({ length: 520 }, (_, i) => row(randomUUID(), { n: i }, { key: { n: i } }));
      const stored = await store.commitRows(
        link,
        rows.map((next) => ({ next })),
      );
      expect(stored.size).toBe(520);
      const read = await store.readRows(
        link,
        rows.map((r) => r.rowId),
      );
      expect([...read.values()].map((d) => d.cells.n?.value).sort((x, y) => Number(x) - Number(y))).toEqual(
        rows.map((_, i) => i),
      );
      const keys = await store.rowIdsForKeys(link, [{ n: 0 }, { n: 519 }]);
      expect([...keys.values()]).toEqual([rows[0]!.rowId, rows[519]!.rowId]);
    });

    it('creates new rows in bulk (first sync), with their key documents', async () => {
      const store = open();
      const bulkLink = `${link}-bulk`;
      const rows = Array.from({ length: 600 }, (_, i) =>
        row(randomUUID(), { n: i, name: `row ${i}` }, { key: { n: i } }),
      );
      expect(await store.createRows(bulkLink, rows)).toEqual({ created: 600, merged: 0 });
      const read = await store.readRows(
        bulkLink,
        rows.map((r) => r.rowId),
      );
      expect(read.size).toBe(600);
      for (const doc of rows) expect(read.get(doc.rowId)).toEqual(doc);
      const keys = await store.rowIdsForKeys(bulkLink, [{ n: 0 }, { n: 299 }, { n: 599 }]);
      expect([...keys.values()]).toEqual([rows[0]!.rowId, rows[299]!.rowId, rows[599]!.rowId]);
      expect((await store.liveRowIds(bulkLink)).length).toBe(600);
    });

    it('merges a bulk-created row that exists already (or is given twice) instead of overwriting it', async () => {
      const store = open();
      const bulkLink = `${link}-bulk-merge`;
      const existingId = randomUUID();
      const stored = row(existingId, { a: 'newer' }, { key: { n: 1 } });
      stored.cells.a!.time = { wall: 50, logical: 0 };
      stored.events = { e1: { counter: 1, wall: 50 } };
      stored.vv = { sheet: 1, db: 1 };
      await store.commitRows(bulkLink, [{ next: stored }]);
      // An attach that did not know the row: older value of a, and a new column b.
      const stale = row(existingId, { a: 'older', b: 'b0' }, { key: { n: 1 } });
      const freshId = randomUUID();
      const fresh = row(freshId, { a: 'x' }, { key: { n: 2 } });
      const twice = row(freshId, { c: 'c0' }, { key: { n: 2 } });
      twice.cells.c!.time = { wall: 60, logical: 0 };
      const result = await store.createRows(bulkLink, [stale, fresh, twice]);
      expect(result).toEqual({ created: 1, merged: 2 });
      const read = await store.readRows(bulkLink, [existingId, freshId]);
      const merged = read.get(existingId)!;
      expect(merged.cells.a?.value).toBe('newer');
      expect(merged.cells.b?.value).toBe('b0');
      expect(merged.events).toEqual({ e1: { counter: 1, wall: 50 } });
      expect(merged.vv).toEqual({ sheet: 1, db: 1 });
      expect(read.get(freshId)!.cells.a?.value).toBe('x');
      expect(read.get(freshId)!.cells.c?.value).toBe('c0');
      const keys = await store.rowIdsForKeys(bulkLink, [{ n: 1 }, { n: 2 }]);
      expect([...keys.values()]).toEqual([existingId, freshId]);
    });

    it('records conflicts once, lists the open ones and resolves them once', async () => {
      const store = open();
      const conflictLink = `${link}-conflicts`;
      const rowId = randomUUID();
      const open1 = conflict(rowId, `c-${randomUUID()}`, { detectedAt: 20 });
      const open2 = conflict(rowId, `c-${randomUUID()}`, { detectedAt: 10, column: 'owner' });
      const closed = conflict(rowId, `c-${randomUUID()}`, { status: 'resolved', policy: 'last-writer-wins' });
      await store.commitRows(conflictLink, [
        { next: row(rowId, { status: 'x' }), conflicts: [open1, closed] },
      ]);
      // A redelivered change decides again and commits the same id: the first record stands.
      await store.commitRows(conflictLink, [
        { next: row(rowId, { status: 'x' }), conflicts: [{ ...open1, detectedAt: 999 }, open2] },
      ]);
      expect(await store.listOpenConflicts(conflictLink)).toEqual([open2, open1]);
      expect(await store.listOpenConflicts(conflictLink, 1)).toEqual([open2]);

      const resolved = await store.resolveConflict(conflictLink, open1.id, 'sheet', 50);
      expect(resolved).toEqual({
        ...open1,
        status: 'resolved',
        resolution: { choice: 'sheet', value: 'from the sheet', at: 50 },
      });
      expect(await store.listOpenConflicts(conflictLink)).toEqual([open2]);
      await expect(store.resolveConflict(conflictLink, open1.id, 'db', 60)).rejects.toMatchObject({
        code: 'SHEETSYNC_E402',
      });
      await expect(store.resolveConflict(conflictLink, 'no-such-conflict', 'db', 60)).rejects.toMatchObject({
        code: 'SHEETSYNC_E401',
      });
      const custom = await store.resolveConflict(conflictLink, open2.id, { value: { merged: true } }, 70);
      expect(custom.resolution).toEqual({ choice: 'custom', value: { merged: true }, at: 70 });
    });

    it('lists the live rows of a link, without the deleted ones', async () => {
      const store = open();
      const liveLink = `${link}-live`;
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await store.commitRows(liveLink, [
        { next: row(a, { n: 1 }) },
        { next: row(b, { n: 2 }, { tombstone: { dot: 'sheet:1', time: { wall: 5, logical: 0 } } }) },
        { next: row(c, { n: 3 }) },
      ]);
      expect((await store.liveRowIds(liveLink)).sort()).toEqual([a, c].sort());
      expect(await store.liveRowIds(`${liveLink}-empty`)).toEqual([]);
    });

    it('lists the live rows whose id starts with a hex digit', async () => {
      const store = open();
      const liveLink = `${link}-prefix`;
      const id = (digit: string) => `${digit}${randomUUID().slice(1)}`;
      const [a1, a2, b, f, gone] = [id('a'), id('a'), id('b'), id('f'), id('a')];
      await store.commitRows(liveLink, [
        ...[a1, a2, b, f].map((rowId) => ({ next: row(rowId, { n: 1 }) })),
        { next: row(gone, { n: 2 }, { tombstone: { dot: 'sheet:1', time: { wall: 5, logical: 0 } } }) },
      ]);
      expect((await store.liveRowIds(liveLink, 'a')).sort()).toEqual([a1, a2].sort());
      expect(await store.liveRowIds(liveLink, 'f')).toEqual([f]);
      expect(await store.liveRowIds(liveLink, '0')).toEqual([]);
      expect((await store.liveRowIds(liveLink)).length).toBe(4);
    });

    it('lists the live rows whose id starts with two hex digits', async () => {
      const store = open();
      const liveLink = `${link}-prefix2`;
      const id = (digits: string) => `${digits}${randomUUID().slice(2)}`;
      const [a9, a9b, aa, b0] = [id('a9'), id('a9'), id('aa'), id('b0')];
      await store.commitRows(
        liveLink,
        [a9, a9b, aa, b0].map((rowId) => ({ next: row(rowId, { n: 1 }) })),
      );
      expect((await store.liveRowIds(liveLink, 'a9')).sort()).toEqual([a9, a9b].sort());
      expect(await store.liveRowIds(liveLink, 'aa')).toEqual([aa]);
      expect(await store.liveRowIds(liveLink, 'af')).toEqual([]);
    });

    it('lists the live rows first stored after a time, however they were stored', async () => {
      const store = open();
      const sinceLink = `${link}-since`;
      const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
      const [old, committed, created, deleted] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await store.commitRows(sinceLink, [{ next: row(old, { n: 1 }) }]);
      await tick();
      const since = Date.now();
      await tick();
      await store.commitRows(sinceLink, [
        { next: row(committed, { n: 2 }) },
        { next: row(deleted, { n: 3 }, { tombstone: { dot: 'sheet:1', time: { wall: 5, logical: 0 } } }) },
      ]);
      await store.createRows(sinceLink, [row(created, { n: 4 })]);
      // Rewriting a row keeps the time it was first stored.
      await store.commitRows(sinceLink, [{ next: row(old, { n: 5 }, { vv: { sheet: 0, db: 2 } }) }]);
      expect((await store.liveRowIdsCreatedSince(sinceLink, since)).sort()).toEqual(
        [committed, created].sort(),
      );
      expect((await store.liveRowIdsCreatedSince(sinceLink, since - 10_000)).sort()).toEqual(
        [old, committed, created].sort(),
      );
      expect(await store.liveRowIdsCreatedSince(sinceLink, Date.now() + 1000)).toEqual([]);
    });

    it('records structure checks per bucket, the later one winning', async () => {
      const store = open();
      const checkLink = `${link}-checks`;
      expect(await store.structureChecks(checkLink)).toEqual({});
      await store.recordStructureChecks(checkLink, {
        '00': { digest: 'a', checkedAt: 10 },
        ff: { digest: 'b', checkedAt: 10 },
      });
      await store.recordStructureChecks(checkLink, {
        '00': { digest: 'c', checkedAt: 20 },
        ff: { digest: 'stale', checkedAt: 5 },
        '7a': { digest: 'd', checkedAt: 1 },
      });
      expect(await store.structureChecks(checkLink)).toEqual({
        '00': { digest: 'c', checkedAt: 20 },
        ff: { digest: 'b', checkedAt: 10 },
        '7a': { digest: 'd', checkedAt: 1 },
      });
      expect(await store.structureChecks(`${checkLink}-other`)).toEqual({});
    });

    it('counts sheet changes per link: 0 until bumped, then one more per bump', async () => {
      const store = open();
      const epochLink = `${link}-epoch`;
      expect((await store.sheetEpochs(epochLink)).rows).toBe(0);
      await Promise.all([store.bumpSheetEpoch(epochLink), store.bumpSheetEpoch(epochLink)]);
      expect((await store.sheetEpochs(epochLink)).rows).toBe(2);
      expect((await store.sheetEpochs(`${epochLink}-other`)).rows).toBe(0);
    });

    it('counts in-place edits apart from row changes', async () => {
      const store = open();
      const epochLink = `${link}-epochs`;
      expect(await store.sheetEpochs(epochLink)).toEqual({ rows: 0, values: 0, holdUntil: 0 });
      await Promise.all([
        store.bumpSheetEpoch(epochLink, 'values'),
        store.bumpSheetEpoch(epochLink, 'values'),
      ]);
      await store.bumpSheetEpoch(epochLink, 'rows');
      expect(await store.sheetEpochs(epochLink)).toEqual({ rows: 1, values: 2, holdUntil: 0 });
      expect((await store.sheetEpochs(epochLink)).rows).toBe(1);
      expect(await store.sheetEpochs(`${epochLink}-other`)).toEqual({ rows: 0, values: 0, holdUntil: 0 });
    });

    it('holds sheet writes until a time: set with a bump or alone, kept by other bumps, cleared with 0', async () => {
      const store = open();
      const holdLink = `${link}-hold`;
      await store.bumpSheetEpoch(holdLink, 'values', 5_000);
      expect(await store.sheetEpochs(holdLink)).toEqual({ rows: 0, values: 1, holdUntil: 5_000 });
      await store.bumpSheetEpoch(holdLink, 'values');
      expect(await store.sheetEpochs(holdLink)).toEqual({ rows: 0, values: 2, holdUntil: 5_000 });
      await store.holdSheetWrites(holdLink, 0);
      expect(await store.sheetEpochs(holdLink)).toEqual({ rows: 0, values: 2, holdUntil: 0 });
      await store.holdSheetWrites(holdLink, 7_000);
      await store.bumpSheetEpoch(holdLink, 'rows', 0);
      expect(await store.sheetEpochs(holdLink)).toEqual({ rows: 1, values: 2, holdUntil: 0 });
      expect((await store.sheetEpochs(`${holdLink}-other`)).holdUntil).toBe(0);
    });

    it('keeps links apart', async () => {
      const store = open();
      const rowId = randomUUID();
      await store.commitRows(`${link}-one`, [{ next: row(rowId, { a: 1 }, { key: { id: 1 } }) }]);
      expect((await store.readRows(`${link}-two`, [rowId])).size).toBe(0);
      expect((await store.rowIdsForKeys(`${link}-two`, [{ id: 1 }])).size).toBe(0);
    });

    it('holds a change once with its rows, lists it until decided, and takes one decision', async () => {
      const store = open();
      const held = `${link}-held`;
      const rows = Array.from({ length: 25_001 }, (_, i) => `row-${i}`);
      const first = heldChange(held, 'h1', { heldAt: 300 });
      expect(await store.holdChange(first, rows)).toEqual(first);
      // A retried event or run holds it once: the stored change stays as it was.
      expect(await store.holdChange({ ...first, count: 1, heldAt: 999 }, ['other'])).toEqual(first);
      const second = heldChange(held, 'h2', { heldAt: 250, side: 'sheet', source: 'reconcile' });
      await store.holdChange(second, ['row-a', 'row-b']);
      expect(await store.heldChanges(held)).toEqual([second, first]);
      expect(await store.heldChanges(`${held}-other`)).toEqual([]);
      const stored = await store.heldChange(held, 'h1');
      expect(stored?.change).toEqual(first);
      expect(stored?.rowIds).toEqual(rows);
      expect((await store.heldRowIds(held)).size).toBe(25_003);

      expect(await store.decideHeldChange(held, 'h1', 'approved', 400)).toEqual({
        ...first,
        status: 'approved',
        decidedAt: 400,
      });
      await expect(store.decideHeldChange(held, 'h1', 'discarded', 401)).rejects.toMatchObject({
        code: 'SHEETSYNC_E421',
      });
      await expect(store.decideHeldChange(held, 'nope', 'approved', 401)).rejects.toMatchObject({
        code: 'SHEETSYNC_E421',
      });
      expect(await store.heldChanges(held)).toEqual([second]);
      expect([...(await store.heldRowIds(held))].sort()).toEqual(['row-a', 'row-b']);
      expect((await store.heldChange(held, 'h1'))?.change.status).toBe('approved');
      expect(await store.heldChange(held, 'nope')).toBeUndefined();
    });
  });
}
