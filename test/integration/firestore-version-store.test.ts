/**
 * The Firestore version store against Google's Firestore emulator: the shared contract, and a
 * stress run of concurrent group commits (issue 4, "Done when").
 */
import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import { uniqueName } from '../support/names.ts';
import { row, versionStoreContract } from '../support/version-store-contract.ts';

const [host, port] = inject('firestoreEmulatorHost').split(':');
const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
let retries = 0;
const store = new FirestoreVersionStore({
  firestore,
  root: uniqueName('versions'),
  retry: { onRetry: () => retries++ },
});
afterAll(() => store.close());

versionStoreContract('firestore (emulator)', () => store);

describe('firestore version store under concurrent group commits', () => {
  it('2,000 rows, group commits of 200, 8 writers: no lost update, no unhandled ABORTED', async () => {
    const link = uniqueName('stress');
    const rowCount = 2000;
    const rowIds = Array.from({ length: rowCount }, (_, i) => `row-${String(i).padStart(4, '0')}`);
    const writers = 8;
    const rounds = 5;
    const batch = 200;
    // Writer w's round r touches a window of 200 rows; windows of concurrent writers overlap,
    // so transactions compete for the same documents.
    const windowOf = (w: number, r: number) =>
      Array.from({ length: batch }, (_, i) => rowIds[(w * 250 + r * 137 + i) % rowCount]!);
    retries = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let r = 0; r < rounds; r++) {
          const ids = windowOf(w, r);
          const current = await store.readRows(link, ids);
          const commits = ids.map((rowId) => {
            const base: RowDocument = current.get(rowId) ?? row(rowId, {}, { key: { id: rowId } });
            const next = structuredClone(base);
            next.cells[`w${w}`] = {
              value: r,
              dot: `db:${r + 1}`,
              time: { wall: 1000 + r, logical: w },
              echoed: true,
              sheetValue: r,
              sheetWrittenAt: 0,
            };
            next.events = { ...next.events, [`w${w}-r${r}`]: { counter: r + 1, wall: 0 } };
            return { next };
          });
          await store.commitRows(link, commits);
        }
      }),
    );
    const elapsed = Date.now() - started;

    const expectedEvents = new Map<string, Set<string>>();
    const expectedCells = new Map<string, Map<string, number>>();
    for (let w = 0; w < writers; w++) {
      for (let r = 0; r < rounds; r++) {
        for (const id of windowOf(w, r)) {
          if (!expectedEvents.has(id)) expectedEvents.set(id, new Set());
          if (!expectedCells.has(id)) expectedCells.set(id, new Map());
          expectedEvents.get(id)!.add(`w${w}-r${r}`);
          expectedCells.get(id)!.set(`w${w}`, r);
        }
      }
    }
    expect(expectedEvents.size).toBe(rowCount);
    const stored = new Map<string, RowDocument>();
    for (let i = 0; i < rowCount; i += 500) {
      for (const [id, doc] of await store.readRows(link, rowIds.slice(i, i + 500))) stored.set(id, doc);
    }
    expect(stored.size).toBe(rowCount);
    let lost = 0;
    for (const [id, events] of expectedEvents) {
      const doc = stored.get(id)!;
      for (const event of events) if (!doc.events[event]) lost++;
      for (const [column, round] of expectedCells.get(id)!) if (doc.cells[column]?.value !== round) lost++;
    }
    expect(lost, 'lost updates').toBe(0);
    console.error(
      `[stress] ${writers * rounds} group commits of ${batch} rows in ${elapsed} ms, ${retries} contention retries`,
    );
  });
});
