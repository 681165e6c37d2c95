/**
 * `npm run bench -- sustained` (issue 24, item 3): sustained rates through the whole stack (the
 * local sheet running apps-script/, sheetWebhook, the Pub/Sub emulator, applyToDb and
 * applyToSheet, PostgreSQL), `--rows N` rows (default 100,000).
 *
 * - sheetToDbSustainedRowsPerSec: N new rows pasted in blocks of 500×6, one paste after another,
 *   from the first paste until the table holds every row (polled every 200 ms), with the
 *   Firestore emulator's version store. Baseline, same run: the same rows upserted into a plain
 *   table in multi-row `INSERT … ON CONFLICT DO UPDATE` statements of 500.
 * - sheetToDbSustainedRatioToBare: that rate ÷ the Firestore emulator's bare rate for the rows'
 *   documents (one batched commit of 500 new documents after another, no reads, no
 *   transaction), measured in the same run.
 * - sheetToDbMemoryStoreRowsPerSec: the same pastes into a fresh link whose pipeline keeps its
 *   versions in process memory: what the pipeline allows without Firestore. Same baseline.
 * - dbToSheetBurstCellsPerSec, dbToSheetBurstCellsPerWriteRequest, dbToSheetBurstWritesPerMin:
 *   10 UPDATEs of 5,000 rows each (N/10 when N < 50,000), 3 columns changed per row, one every
 *   2 s, on the Firestore link's table; from the first UPDATE until the sheet shows every new
 *   value: changed cells per second (baseline: the rate the bursts offer), changed cells per
 *   Sheets write request, and write requests a minute against Google's quota of 60 (the bound:
 *   at that quota the cells per second are at most the cells per request).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import postgres from 'postgres';
import { type RunningEmulator, startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { MemoryVersionStore } from '../functions/src/adapters/memory-version-store.ts';
import { type SyncHarness, startSyncHarness } from '../test/support/sheet-sync-harness.ts';
import { benchDatabase } from './database.ts';
import type { Benchmark, Metric } from './lib.ts';

const HEADERS = ['sku', 'name', 'qty', 'price', 'note', 'color'];
const BLOCK_ROWS = 500;
const BURSTS = 10;
const BURST_ROWS = 5_000;
const BURST_EVERY_MS = 2_000;
const WRITES_PER_MINUTE = 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const row = (n: number) => [
  `P-${n}`,
  `pasted row ${n}`,
  n,
  n / 4,
  `note ${n}`,
  ['red', 'green', 'blue'][n % 3]!,
];

const createTable = (name: string) => (s: postgres.Sql) =>
  s.unsafe(`create table public.${name} (sku text primary key, name text, qty integer,
    price numeric(12,2), note text, color text)`);

async function until(
  what: string,
  done: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs: number,
) {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Pastes `rows` new rows in blocks of 500; ms from the first paste to the last row committed. */
async function pasteAll(
  harness: SyncHarness,
  table: string,
  rows: number,
  progress: (m: string) => void,
  label: string,
): Promise<number> {
  const count = async () =>
    Number((await harness.sql.unsafe(`select count(*)::int as n from public.${table}`))[0]!.n);
  const started = performance.now();
  for (let first = 0; first < rows; first += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - first);
    const values = Array.from({ length: n }, (_, i) => row(first + i));
    await harness.act([{ type: 'edit', range: `Rows!A${first + 2}:F${first + n + 1}`, values }]);
    if ((first / BLOCK_ROWS) % 20 === 19)
      progress(
        `${label}: ${first + n} rows pasted at ${Math.round(performance.now() - started)} ms, ${await count()} committed`,
      );
  }
  progress(
    `${label}: pastes answered after ${Math.round(performance.now() - started)} ms; waiting for the rows…`,
  );
  await until(`${label}'s ${rows} rows`, async () => (await count()) >= rows, 1_800_000, 200);
  return performance.now() - started;
}

const benchmark: Benchmark = {
  name: 'sustained',
  description:
    'sustained rates: sheet → database pastes (Firestore and in-memory store), database → sheet bursts',
  async run({ progress, rows: wanted }) {
    const rows = wanted ?? 100_000;
    const burstRows = Math.min(BURST_ROWS, Math.floor(rows / BURSTS));
    const stops: Array<() => Promise<unknown>> = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-pg-'));
    stops.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    try {
      progress(`starting PostgreSQL and the Pub/Sub and Firestore emulators (${rows} rows)…`);
      const pg = await startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir });
      stops.push(() => pg.stop());
      const [pubsub, firestore] = await Promise.all([startEmulator('pubsub'), startEmulator('firestore')]);
      stops.push(
        () => (pubsub as RunningEmulator).stop(),
        () => (firestore as RunningEmulator).stop(),
      );
      const database = await benchDatabase(pg.url);
      stops.push(() => database.drop());
      const suffix = randomBytes(4).toString('hex');
      const harnessFor = async (table: string, pipelineStore?: MemoryVersionStore) => {
        const harness = await startSyncHarness({
          databaseUrl: database.url,
          pubsubEmulatorHost: pubsub.host,
          firestoreEmulatorHost: firestore.host,
          table: `public.${table}`,
          headers: HEADERS,
          createTable: createTable(table),
          ...(pipelineStore ? { pipelineStore } : {}),
        });
        // Stopped once, by the bench as soon as it is done with it or at the end.
        let stopped: Promise<void> | undefined;
        const stop = () => {
          stopped ??= harness.stop();
          return stopped;
        };
        stops.push(stop);
        return { ...harness, stop };
      };

      // 1. Sheet → database, Firestore version store.
      const fsTable = `sustained_fs_${suffix}`;
      const fsHarness = await harnessFor(fsTable);
      const fsMs = await pasteAll(fsHarness, fsTable, rows, progress, 'Firestore store');
      const fsRate = rows / (fsMs / 1000);
      progress(`Firestore store: ${rows} rows in ${Math.round(fsMs)} ms (${Math.round(fsRate)} rows/s)`);

      // 2. Database → sheet bursts on the same link.
      const tab = fsHarness.tabValues();
      const qtyAt = (tab[0] as string[]).indexOf('qty');
      const writesBefore = fsHarness.pipeline.sheetsApi.counts.writes;
      const burstStart = performance.now();
      const bursts: Promise<unknown>[] = [];
      for (let b = 0; b < BURSTS; b++) {
        const due = burstStart + b * BURST_EVERY_MS;
        if (due > performance.now()) await sleep(due - performance.now());
        const from = b * burstRows;
        bursts.push(
          fsHarness.sql.unsafe(
            `update public.${fsTable} set qty = 1000000 + ${b}, price = price + 1, note = 'burst ${b}'
             where qty >= ${from} and qty < ${from + burstRows}`,
          ),
        );
      }
      await Promise.all(bursts);
      const updated = BURSTS * burstRows;
      progress(`bursts: ${BURSTS} UPDATEs of ${burstRows} rows sent; waiting for the sheet…`);
      await until(
        'the bursts on the sheet',
        () => fsHarness.tabValues().filter((r) => Number(r[qtyAt]) >= 1_000_000).length >= updated,
        1_800_000,
        // A read of the whole tab from the model costs this process time the pipeline needs.
        2_000,
      );
      const burstMs = performance.now() - burstStart;
      const burstWrites = fsHarness.pipeline.sheetsApi.counts.writes - writesBefore;
      const cells = updated * 3;
      progress(
        `bursts: ${cells} changed cells on the sheet after ${Math.round(burstMs)} ms, ${burstWrites} write requests`,
      );
      await fsHarness.stop();

      // 3. Sheet → database, in-memory version store.
      const memTable = `sustained_mem_${suffix}`;
      const memHarness = await harnessFor(memTable, new MemoryVersionStore());
      const memMs = await pasteAll(memHarness, memTable, rows, progress, 'in-memory store');
      const memRate = rows / (memMs / 1000);
      progress(`in-memory store: ${rows} rows in ${Math.round(memMs)} ms (${Math.round(memRate)} rows/s)`);
      await memHarness.stop();

      // Baselines: the plain multi-row upsert, and Firestore's bare document writes.
      const sql = postgres(database.url, { max: 2, onnotice: () => {} });
      stops.push(() => sql.end({ timeout: 5 }));
      const plain = `sustained_plain_${suffix}`;
      await createTable(plain)(sql);
      const upsertStart = performance.now();
      for (let first = 0; first < rows; first += BLOCK_ROWS) {
        const block = Array.from({ length: Math.min(BLOCK_ROWS, rows - first) }, (_, i) => {
          const [sku, name, qty, price, note, color] = row(first + i);
          return { sku, name, qty, price, note, color };
        });
        await sql`insert into ${sql(plain)} ${sql(block)} on conflict (sku) do update set
          name = excluded.name, qty = excluded.qty, price = excluded.price, note = excluded.note,
          color = excluded.color`;
      }
      const upsertRate = rows / ((performance.now() - upsertStart) / 1000);

      const [host, port] = firestore.host.split(':');
      const client = new Firestore({ projectId: 'sheetsync-bench', host, port: Number(port), ssl: false });
      stops.push(() => client.terminate());
      const collection = client.collection(`bare-${suffix}`);
      const bareStart = performance.now();
      for (let first = 0; first < rows; first += BLOCK_ROWS) {
        const batch = client.batch();
        for (let i = first; i < Math.min(rows, first + BLOCK_ROWS); i++) {
          const [sku, name, qty, price, note, color] = row(i);
          batch.set(collection.doc(), { key: { sku }, cells: { sku, name, qty, price, note, color } });
        }
        await batch.commit();
      }
      const bareRate = rows / ((performance.now() - bareStart) / 1000);
      progress(
        `baselines: upsert ${Math.round(upsertRate)} rows/s, Firestore bare ${Math.round(bareRate)} docs/s`,
      );

      const writesPerMin = burstWrites / (burstMs / 60_000);
      const offered = (burstRows * 3) / (BURST_EVERY_MS / 1000);
      const metrics: Record<string, Metric> = {
        sustainedRows: { value: rows, unit: 'rows' },
        sheetToDbSustainedRowsPerSec: {
          value: fsRate,
          unit: 'rows/s',
          baseline: upsertRate,
          ratio: fsRate / upsertRate,
        },
        sheetToDbSustainedRatioToBare: { value: fsRate / bareRate, unit: '×', target: '≥ 0.8×' },
        firestoreBareDocsPerSec: { value: bareRate, unit: 'docs/s' },
        sheetToDbMemoryStoreRowsPerSec: {
          value: memRate,
          unit: 'rows/s',
          baseline: upsertRate,
          ratio: memRate / upsertRate,
          target: '≥ 10,000 rows/s',
        },
        // Baseline: the rate the bursts offered (3 cells × rows every 2 s).
        dbToSheetBurstCellsPerSec: {
          value: cells / (burstMs / 1000),
          unit: 'cells/s',
          baseline: offered,
          ratio: cells / (burstMs / 1000) / offered,
        },
        dbToSheetBurstCellsPerWriteRequest: {
          value: cells / Math.max(1, burstWrites),
          unit: 'cells',
          target: '≥ 10,000',
        },
        dbToSheetBurstWritesPerMin: {
          value: writesPerMin,
          unit: 'requests/min',
          baseline: WRITES_PER_MINUTE,
          ratio: writesPerMin / WRITES_PER_MINUTE,
        },
      };
      return metrics;
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};

export default benchmark;
