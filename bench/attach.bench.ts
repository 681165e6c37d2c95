/**
 * `npm run bench -- attach`: the first sync and reconcile at 100,000 rows (issue 7), against
 * PostgreSQL, Google's Firestore emulator and the local sheet. BENCH_ATTACH_ROWS changes the size.
 *
 * - createRowsPerSec: row documents (with key documents) a first sync writes per second with
 *   VersionStore.createRows (create-only batches). Baseline, same run: the same rows through
 *   commitRows (read-modify-write transactions, slices of 250 in parallel), as attach did before.
 *   Median of 3 alternating trials of 5,000 rows each.
 * - attach*: `attachLink` of a table of BENCH_ATTACH_ROWS rows into an empty tab, in a child process
 *   (its own peak RSS); reconcile*: then 100 cells drift (50 in PostgreSQL with the triggers
 *   bypassed, 50 in the sheet through the API) and `reconcileLink` repairs them, also in a child.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { createEmulator } from '../emulator/src/server.ts';
import { FirestoreVersionStore } from '../functions/src/adapters/firestore-version-store.ts';
import { syncedRowDocument } from '../functions/src/core/reconcile-plan.ts';
import type { RowDocument } from '../functions/src/core/row-document.ts';
import { compareSheetWithTable, createBigTable, runSyncChild } from '../test/support/big-link.ts';
import { benchDatabase } from './database.ts';
import { type Benchmark, median } from './lib.ts';

const ROWS = Number(process.env.BENCH_ATTACH_ROWS ?? 100_000);
const STORE_TRIAL_ROWS = 5_000;

function attachDocs(count: number): RowDocument[] {
  return Array.from({ length: count }, (_, i) =>
    syncedRowDocument(
      randomUUID(),
      { id: String(i) },
      { id: String(i), name: `name ${i}`, amount: '12.5', flag: true, day: '2020-01-01', note: randomUUID() },
      { wall: 1, logical: 0 },
      1,
    ),
  );
}

const bench: Benchmark = {
  name: 'attach',
  description: `first sync and reconcile of ${ROWS} rows; createRows against transactional commits`,
  async run({ progress }) {
    const stops: Array<() => Promise<void>> = [];
    try {
      progress('starting PostgreSQL, the Firestore emulator and the local sheet');
      const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-pg-'));
      const [pg, firestoreEmulator] = await Promise.all([
        startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir }),
        startEmulator('firestore'),
      ]);
      stops.push(
        () => pg.stop(),
        () => firestoreEmulator.stop(),
      );
      const database = await benchDatabase(pg.url);
      stops.unshift(() => database.drop());
      const emulator = await createEmulator({ port: 0 });
      stops.unshift(() => emulator.close());
      const [host, port] = firestoreEmulator.host.split(':');
      const firestore = new Firestore({ projectId: 'sheetsync-bench', host, port: Number(port), ssl: false });
      stops.unshift(() => firestore.terminate());
      const store = new FirestoreVersionStore({ firestore, root: `bench-${randomUUID().slice(0, 8)}` });

      // ── the version store: createRows against transactional commits ──
      await store.createRows('warm-up', attachDocs(2_000));
      await store.commitRows(
        'warm-up',
        attachDocs(2_000).map((next) => ({ next })),
      );
      const created: number[] = [];
      const committed: number[] = [];
      for (let trial = 0; trial < 3; trial++) {
        let docs = attachDocs(STORE_TRIAL_ROWS);
        let started = performance.now();
        await store.createRows(`create-${trial}`, docs);
        created.push(STORE_TRIAL_ROWS / ((performance.now() - started) / 1000));
        docs = attachDocs(STORE_TRIAL_ROWS);
        started = performance.now();
        const slices: RowDocument[][] = [];
        for (let i = 0; i < docs.length; i += 250) slices.push(docs.slice(i, i + 250));
        await Promise.all(
          slices.map((slice) =>
            store.commitRows(
              `commit-${trial}`,
              slice.map((next) => ({ next })),
            ),
          ),
        );
        committed.push(STORE_TRIAL_ROWS / ((performance.now() - started) / 1000));
        progress(
          `store trial ${trial + 1}: createRows ${Math.round(created.at(-1)!)} rows/s, commitRows ${Math.round(committed.at(-1)!)} rows/s`,
        );
      }

      // ── attach and reconcile in child processes ──
      progress(`loading ${ROWS} rows`);
      await createBigTable(database.sql, 'public.big', ROWS);
      const spreadsheetId = `bench-attach-${randomUUID().slice(0, 8)}`;
      emulator.model.create({ spreadsheetId, sheets: [{ title: 'Big', sheetId: 0 }] }, 'api');
      const input = {
        databaseUrl: database.url,
        sheetsApiUrl: emulator.url,
        firestoreHost: firestoreEmulator.host,
        root: `bench-${randomUUID().slice(0, 8)}`,
        link: { name: 'big', spreadsheetId, sheet: 'Big', table: 'public.big' },
      };
      progress(`attach of ${ROWS} rows`);
      const attach = await runSyncChild({ command: 'attach', ...input });
      const compared = await compareSheetWithTable(
        emulator,
        spreadsheetId,
        'Big',
        database.sql,
        'public.big',
      );
      if (compared.mismatches > 0) throw new Error(`the sheet differs from the table: ${compared.examples}`);
      progress(
        `attach: ${attach.seconds} s, peak RSS ${Math.round(attach.maxRssMb)} MB; the sheet equals the table`,
      );

      const ids = Array.from({ length: 100 }, (_, i) => 1 + Math.floor((i * ROWS) / 100));
      await database.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update public.big set name = 'db drift ' || id where id = any(${ids.filter((_, i) => i % 2 === 0)}::bigint[])`;
      });
      const data = ids
        .filter((_, i) => i % 2 === 1)
        .map((id) => ({ range: `Big!F${id + 1}`, values: [[`sheet drift ${id}`]] }));
      await fetch(`${emulator.url}/v4/spreadsheets/${spreadsheetId}/values:batchUpdate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ valueInputOption: 'RAW', data }),
      });
      const dry = await runSyncChild({ command: 'reconcile --dry-run', ...input });
      const repair = await runSyncChild({ command: 'reconcile', ...input });
      const drift = repair.result as { cellsToDb: number; cellsToSheet: number };
      if (drift.cellsToDb !== 50 || drift.cellsToSheet !== 50)
        throw new Error(`reconcile found ${JSON.stringify(repair.result)}, not 50 + 50 drifted cells`);
      progress(
        `reconcile: dry run ${dry.seconds} s, repair ${repair.seconds} s, peak RSS ${Math.round(repair.maxRssMb)} MB`,
      );

      const createRowsPerSec = median(created);
      const commitRowsPerSec = median(committed);
      return {
        createRowsPerSec: {
          value: createRowsPerSec,
          unit: 'rows/s',
          baseline: commitRowsPerSec,
          ratio: createRowsPerSec / commitRowsPerSec,
        },
        attachRowsPerSec: { value: ROWS / attach.seconds, unit: 'rows/s' },
        attachSeconds: { value: attach.seconds, unit: 's' },
        attachPeakRssMb: { value: attach.maxRssMb, unit: 'MB', target: '≤ 300 MB' },
        reconcileDryRunSeconds: { value: dry.seconds, unit: 's' },
        reconcileSeconds: { value: repair.seconds, unit: 's' },
        reconcileRowsPerSec: { value: ROWS / repair.seconds, unit: 'rows/s' },
        reconcilePeakRssMb: { value: Math.max(dry.maxRssMb, repair.maxRssMb), unit: 'MB' },
      };
    } finally {
      for (const stop of stops) await stop().catch(() => {});
    }
  },
};

export default bench;
