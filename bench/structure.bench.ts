/**
 * `npm run bench -- structure`: what the webhook reads to find the rows a `structure` event
 * deleted, against Google's Firestore emulator (functions/src/handlers/sheet-webhook/
 * structure-check.ts).
 *
 * A link of ROWS live rows, stored an hour before the events. The baseline is what every event
 * cost before structure checks: reading every live row id of the link (`liveRowIds`). Then, with
 * the checks recorded by a first event: a sort (the same ids in another order) and DELETIONS
 * events that each delete one more row, each handled as the webhook handles it (plan, then record
 * the checks). Metrics are medians: document reads (the rows the queries returned; Firestore bills
 * per document read) and the time to find the deleted rows, each against the baseline's.
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { FirestoreVersionStore } from '../functions/src/adapters/firestore-version-store.ts';
import { emptyRowDocument, type RowDocument } from '../functions/src/core/row-document.ts';
import { planStructureCheck } from '../functions/src/handlers/sheet-webhook/structure-check.ts';
import { againstBaseline, type Benchmark, median } from './lib.ts';

const ROWS = Number(process.env.STRUCTURE_BENCH_ROWS ?? 20_000);
const DELETIONS = 7;
const BASELINE_READS = 3;

function doc(rowId: string, n: number): RowDocument {
  const d = emptyRowDocument(rowId, { id: n });
  d.cells.name = {
    value: `row ${n}`,
    dot: 'db:1',
    time: { wall: 1, logical: 0 },
    echoed: true,
    sheetValue: `row ${n}`,
    sheetWrittenAt: 1,
  };
  return { ...d, vv: { sheet: 0, db: 1 } };
}

const benchmark: Benchmark = {
  name: 'structure',
  description:
    'document reads and time to find the rows a structure event deleted, with and without structure checks',
  async run({ progress }) {
    progress('starting the Firestore emulator');
    const emulator = await startEmulator('firestore');
    const [host, port] = emulator.host.split(':');
    const firestore = new Firestore({ projectId: 'sheetsync-bench', host, port: Number(port), ssl: false });
    try {
      const root = `bench-${randomUUID().slice(0, 8)}`;
      const link = 'rows';
      // Rows stored an hour ago: older than any check's margin.
      const old = new FirestoreVersionStore({ firestore, root, now: () => Date.now() - 3_600_000 });
      const store = new FirestoreVersionStore({ firestore, root });
      let ids = Array.from({ length: ROWS }, () => randomUUID());
      progress(`storing ${ROWS} row documents`);
      for (let i = 0; i < ids.length; i += 5000) {
        await old.createRows(
          link,
          ids.slice(i, i + 5000).map((id, j) => doc(id, i + j)),
        );
      }

      const fullMs: number[] = [];
      for (let i = 0; i < BASELINE_READS; i++) {
        const started = performance.now();
        const live = await store.liveRowIds(link);
        fullMs.push(performance.now() - started);
        if (live.length !== ROWS) throw new Error(`expected ${ROWS} live rows, read ${live.length}`);
        progress(`every live row: ${Math.round(fullMs.at(-1)!)} ms`);
      }

      /** One event handled as the webhook handles it; the rows it finds deleted. */
      const handle = async (onSheet: string[]) => {
        const started = performance.now();
        const plan = await planStructureCheck(
          store,
          (l, prefix) => store.liveRowIds(l, prefix),
          link,
          { ids: onSheet, time: Date.now() },
          Date.now(),
        );
        const present = new Set(onSheet);
        const deleted = [...plan.candidates].filter((id) => !present.has(id));
        const ms = performance.now() - started;
        await store.recordStructureChecks(link, plan.checks);
        return { ms, reads: plan.rowsRead, deleted };
      };
      const first = await handle(ids);
      progress(`first event (no checks yet): ${Math.round(first.ms)} ms, ${first.reads} reads`);
      const sort = await handle([...ids].reverse());
      if (sort.deleted.length > 0) throw new Error('a sort deleted rows');
      progress(`sort: ${Math.round(sort.ms)} ms, ${sort.reads} reads`);
      const deletions: Array<{ ms: number; reads: number }> = [];
      for (let i = 0; i < DELETIONS; i++) {
        const gone = ids[Math.floor(Math.random() * ids.length)]!;
        ids = ids.filter((id) => id !== gone);
        // The webhook would publish the delete; applyToDb then writes the tombstone.
        const result = await handle(ids);
        if (result.deleted.length !== 1 || result.deleted[0] !== gone)
          throw new Error(`expected ${gone} deleted, found ${result.deleted.join(', ')}`);
        await store.commitRows(link, [
          {
            next: { ...doc(gone, 0), tombstone: { dot: 'sheet:1', time: { wall: Date.now(), logical: 0 } } },
          },
        ]);
        deletions.push(result);
        progress(`deletion ${i + 1}: ${Math.round(result.ms)} ms, ${result.reads} reads`);
      }
      const baselineMs = median(fullMs);
      const deleteMs = median(deletions.map((d) => d.ms));
      const deleteReads = median(deletions.map((d) => d.reads));
      return {
        deleteRowReads: againstBaseline(deleteReads, 'reads', ROWS),
        deleteRowCheckMs: againstBaseline(deleteMs, 'ms', baselineMs),
        sortReads: againstBaseline(sort.reads, 'reads', ROWS),
        sortCheckMs: againstBaseline(sort.ms, 'ms', baselineMs),
      };
    } finally {
      await firestore.terminate();
      await emulator.stop();
    }
  },
};

export default benchmark;
