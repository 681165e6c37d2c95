/**
 * Row documents written by an earlier version (format 1: cells and events as Firestore maps)
 * stay readable after the upgrade to format 2 (one JSON text field each), and the next commit
 * of such a row merges with it and rewrites it in format 2. Google's Firestore emulator.
 */
import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { encodeRowFormat1 } from '../support/firestore-format1.ts';
import { uniqueName } from '../support/names.ts';
import { row } from '../support/version-store-contract.ts';

const [host, port] = inject('firestoreEmulatorHost').split(':');
const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
const root = uniqueName('codec');
const store = new FirestoreVersionStore({ firestore, root });
afterAll(() => store.close());

describe('Firestore row documents across the format change', () => {
  it('reads a format-1 document, and a commit merges it and rewrites it as format 2', async () => {
    const link = 'leads';
    const old = row('row-1', { name: 'Ada', tags: [['a', 'b'], ['c']] }, { key: { id: 1 } });
    old.events = { 'ev-1': { counter: 1, wall: 10 } };
    const ref = firestore.collection(root).doc(link).collection('rows').doc('row-1');
    await ref.set(encodeRowFormat1(old));

    expect((await store.readRows(link, ['row-1'])).get('row-1')).toEqual(old);
    expect(await store.liveRowIds(link)).toEqual(['row-1']);

    const next = row('row-1', { score: 3 }, { key: { id: 1 }, vv: { sheet: 0, db: 2 } });
    next.cells.score!.dot = 'db:2';
    next.cells.score!.time = { wall: 2, logical: 0 };
    await store.commitRows(link, [{ next }]);
    const raw = (await ref.get()).data()!;
    expect(raw.format).toBe(2);
    expect(typeof raw.cells).toBe('string');
    const merged = (await store.readRows(link, ['row-1'])).get('row-1')!;
    expect(Object.keys(merged.cells).sort()).toEqual(['name', 'score', 'tags']);
    expect(merged.cells.tags!.value).toEqual([['a', 'b'], ['c']]);
    expect(merged.events).toEqual({ 'ev-1': { counter: 1, wall: 10 } });
    expect(merged.vv).toEqual({ sheet: 0, db: 2 });
  });
});
