/**
 * `npm run bench -- versions`: row decisions per second of the sync core, pure and through the
 * Firestore emulator (issue 4).
 *
 * - coreDecisionsPerSec: mergeSheetChange / mergeDbChange plus the commit-time merge, on rows
 *   with a few synced cells, alternating sheet edits and DB changes (a share of them conflicts).
 * - firestoreDecisionsPerSec: what applyToDb does per group commit of 200 rows: one getAll of the
 *   row documents, the decisions, one commit (transaction with re-read and merge), with 4
 *   writers on disjoint rows as Pub/Sub ordering keys spread them. Baseline, same run: plain
 *   batched writes of the same documents without reads or transactions, the emulator's ceiling.
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { encodeRow } from '../functions/src/adapters/firestore-codec.ts';
import { FirestoreVersionStore } from '../functions/src/adapters/firestore-version-store.ts';
import { mergeDbChange } from '../functions/src/core/merge-db-change.ts';
import { mergeSheetChange } from '../functions/src/core/merge-sheet-change.ts';
import { mergeRowDocuments, type RowDocument } from '../functions/src/core/row-document.ts';
import type { RowChange } from '../functions/src/wire/row-change.ts';
import { type Benchmark, median } from './lib.ts';

const columns = ['status', 'owner', 'amount', 'notes', 'updated'];

function syncedRow(rowId: string): RowDocument {
  const cells: RowDocument['cells'] = {};
  for (const column of columns) {
    const value = `${column}-0`;
    cells[column] = {
      value,
      dot: 'db:1',
      time: { wall: 1, logical: 0 },
      echoed: true,
      sheetValue: value,
      sheetWrittenAt: 1,
    };
  }
  return {
    rowId,
    key: { id: rowId },
    vv: { sheet: 0, db: 1 },
    cells,
    tombstone: null,
    events: {},
    eventsFloor: 0,
  };
}

/** One decision on `doc` at step `n`: a sheet edit (odd n) or a DB change (even n); both commit. */
function decide(doc: RowDocument, n: number, outboxId: number): RowDocument {
  const column = columns[n % columns.length]!;
  if (n % 2 === 1) {
    const dbRow = Object.fromEntries(Object.entries(doc.cells).map(([c, s]) => [c, s.value]));
    const change: RowChange = {
      link: 'bench',
      rowId: doc.rowId,
      op: 'upsert',
      cells: { [column]: `sheet-${n}` },
      origin: 'sheet',
      // Every third edit predates the last DB write shown on the sheet: a conflict.
      time: { wall: n % 3 === 0 ? 1 : 1_000_000 + n, logical: 0 },
      eventId: `e-${n}`,
    };
    const decision = mergeSheetChange(doc, change, {
      policy: { default: 'last-writer-wins' },
      dbRow,
      now: n,
      attempt: 1,
    });
    if (decision.kind !== 'apply') throw new Error(`unexpected ${decision.kind}`);
    return mergeRowDocuments(doc, decision.next);
  }
  const sheetRow = Object.fromEntries(Object.entries(doc.cells).map(([c, s]) => [c, s.sheetValue]));
  const change: RowChange = {
    link: 'bench',
    rowId: doc.rowId,
    op: 'upsert',
    cells: { [column]: `db-${n}` },
    origin: 'db',
    dot: `db:${outboxId}`,
    outboxId,
    time: { wall: 1_000_000 + n, logical: 0 },
  };
  const decision = mergeDbChange(doc, change, { sheetRow, now: 1_000_000 + n });
  if (decision.kind !== 'apply') throw new Error(`unexpected ${decision.kind}`);
  return mergeRowDocuments(doc, decision.next);
}

function coreTrial(decisions: number): number {
  const rows = Array.from({ length: 1000 }, () => syncedRow(randomUUID()));
  let outboxId = 1;
  const started = performance.now();
  for (let n = 0; n < decisions; n++) {
    const i = n % rows.length;
    rows[i] = decide(rows[i]!, Math.floor(n / rows.length) + 1, ++outboxId);
  }
  return decisions / ((performance.now() - started) / 1000);
}

async function firestoreTrial(
  store: FirestoreVersionStore,
  writers: number,
  commits: number,
): Promise<number> {
  const link = `bench-${randomUUID().slice(0, 8)}`;
  let decisions = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const rowIds = Array.from({ length: 200 }, () => randomUUID());
      for (let round = 1; round <= commits; round++) {
        const stored = await store.readRows(link, rowIds);
        const next = rowIds.map((rowId) => decide(stored.get(rowId) ?? syncedRow(rowId), round, round + 1));
        await store.commitRows(
          link,
          next.map((doc) => ({ next: doc })),
        );
        decisions += next.length;
      }
    }),
  );
  return decisions / ((performance.now() - started) / 1000);
}

async function batchedWriteTrial(firestore: Firestore, root: string, writers: number, commits: number) {
  let written = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const docs = Array.from({ length: 200 }, () => syncedRow(randomUUID()));
      for (let round = 0; round < commits; round++) {
        const batch = firestore.batch();
        for (const doc of docs)
          batch.set(
            firestore.collection(root).doc('plain').collection('rows').doc(doc.rowId),
            encodeRow(doc),
          );
        await batch.commit();
        written += docs.length;
      }
    }),
  );
  return written / ((performance.now() - started) / 1000);
}

const benchmark: Benchmark = {
  name: 'versions',
  description: 'row decisions per second: the pure sync core, and through the Firestore emulator',
  async run({ progress }) {
    coreTrial(20_000); // warm-up (JIT)
    const core: number[] = [];
    for (let i = 0; i < 5; i++) {
      core.push(coreTrial(100_000));
      progress(`core trial ${i + 1}: ${Math.round(core.at(-1)!)} decisions/s`);
    }
    progress('starting the Firestore emulator');
    const emulator = await startEmulator('firestore');
    const [host, port] = emulator.host.split(':');
    const firestore = new Firestore({ projectId: 'sheetsync-bench', host, port: Number(port), ssl: false });
    try {
      const store = new FirestoreVersionStore({ firestore, root: `bench-${randomUUID().slice(0, 8)}` });
      await firestoreTrial(store, 1, 1); // warm-up (connections)
      const through: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < 3; i++) {
        through.push(await firestoreTrial(store, 4, 4));
        plain.push(await batchedWriteTrial(firestore, `bench-plain-${randomUUID().slice(0, 8)}`, 4, 4));
        progress(
          `firestore trial ${i + 1}: ${Math.round(through.at(-1)!)} decisions/s, plain writes ${Math.round(plain.at(-1)!)} docs/s`,
        );
      }
      const value = median(through);
      const baseline = median(plain);
      return {
        coreDecisionsPerSec: { value: median(core), unit: 'decisions/s' },
        firestoreDecisionsPerSec: { value, unit: 'decisions/s', baseline, ratio: value / baseline },
      };
    } finally {
      await firestore.terminate();
      await emulator.stop();
    }
  },
};

export default benchmark;
