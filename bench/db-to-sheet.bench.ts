/**
 * `npm run bench -- db-to-sheet` (issue 6): database → sheet through the real path — plain SQL,
 * the capture trigger, the relay, Google's Pub/Sub emulator, applyToSheet with the Firestore
 * emulator's version store, the local sheet with Google's default quotas (60 reads and 60 writes
 * a minute per user) through @googleapis/sheets.
 *
 * - bulk10kSeconds / bulk10kWriteRequests: one UPDATE of 10,000 rows (after loading them), from
 *   its commit until the sheet shows every new value; Sheets API write requests in that time.
 * - singleChangeP99Ms: 1,000 single-row UPDATEs sent at 200/s, from each commit until the sheet
 *   shows the row's new value (the sheet model is polled every 25 ms, so up to 25 ms late).
 * - cellsPerWriteRequest: cells written per write request during the bulk UPDATE (from the
 *   requests' bodies, through a metering proxy); baseline: a naive writer's one row per request.
 * - maxWriteRequestBytes: the largest write request body of the whole run; baseline: 2 MB.
 * - naiveRequestRatio: a naive writer sends one values.update per changed row. Its request count
 *   is computed, not sent: the row changes applyToSheet received in the same run (bulk plus
 *   singles), as counted by its flushes. Ratio = naive requests ÷ our write requests.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { readValues } from '../emulator/src/model/values.ts';
import { createEmulator } from '../emulator/src/server.ts';
import { FirestoreVersionStore } from '../functions/src/adapters/firestore-version-store.ts';
import { watchTable } from '../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../functions/src/adapters/pubsub-bus.ts';
import { SheetTab } from '../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../functions/src/adapters/sheets/sheets-api.ts';
import { createApplyToSheet, type DbDelivery } from '../functions/src/handlers/apply-to-sheet.ts';
import { createLogger, silentLogger } from '../functions/src/log.ts';
import { startRelay } from '../functions/src/relay/outbox-relay.ts';
import { startSubscriber } from '../functions/src/runtime/subscriber.ts';
import { parseDbChanges } from '../functions/src/wire/db-change.ts';
import { benchDatabase } from './database.ts';
import { type Benchmark, percentile } from './lib.ts';
import { startRequestMeter } from './request-meter.ts';

const ROWS = 10_000;
const SINGLES = 1_000;
const SINGLES_PER_SECOND = 200;
const REST_MS = 30_000;
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

const bench: Benchmark = {
  name: 'db-to-sheet',
  description: 'database → sheet: a 10,000-row UPDATE and 1,000 single-row updates at 200/s',
  async run({ progress }) {
    const stops: Array<() => Promise<void>> = [];
    try {
      progress('starting PostgreSQL, Pub/Sub and Firestore emulators, the local sheet');
      const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-pg-'));
      const [pg, pubsub, firestoreEmulator] = await Promise.all([
        startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir }),
        startEmulator('pubsub'),
        startEmulator('firestore'),
      ]);
      stops.push(
        () => pg.stop(),
        () => pubsub.stop(),
        () => firestoreEmulator.stop(),
      );
      const database = await benchDatabase(pg.url);
      stops.unshift(() => database.drop());
      const { sql } = database;
      await sql`create table leads (id int primary key, name text, score int)`;
      await watchTable(sql, 'public.leads', 'leads');

      const emulator = await createEmulator({ port: 0 });
      stops.unshift(() => emulator.close());
      const spreadsheetId = 'bench-db-to-sheet';
      emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
      // applyToSheet's requests go through a meter (their sizes and cells); the bench's own
      // reads of the sheet use the model directly.
      const meter = await startRequestMeter(emulator.url);
      stops.unshift(() => meter.close());
      const api = new SheetsApi({ rootUrl: meter.url, logger: silentLogger });
      await api.client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Leads!A1',
        valueInputOption: 'RAW',
        requestBody: { values: [['id', 'name', 'score']] },
      });

      const [host, port] = firestoreEmulator.host.split(':');
      const firestore = new Firestore({ projectId: 'sheetsync-bench', host, port: Number(port), ssl: false });
      stops.unshift(() => firestore.terminate());
      const bus = createPubSubBus({
        projectId: 'sheetsync-bench',
        apiEndpoint: pubsub.host,
        logger: silentLogger,
      });
      stops.unshift(() => bus.close());
      await bus.ensureTopic('db-changes');
      await bus.ensureSubscription('apply-to-sheet', { topic: 'db-changes', ackDeadlineSeconds: 60 });
      const relay = startRelay({ sql, bus, topic: 'db-changes', logger: silentLogger, pollIntervalMs: 200 });
      stops.unshift(() => relay.stop());
      const store = new FirestoreVersionStore({ firestore, root: 'bench' });
      // BENCH_LOG=1 prints applyToSheet's per-flush log lines (phase timings) to stderr.
      const flushLogger = process.env.BENCH_LOG
        ? createLogger({ write: (line) => process.stderr.write(`${line}\n`) })
        : silentLogger;
      const applyToSheet = createApplyToSheet({
        store,
        links: new Map([
          [
            'leads',
            {
              tab: new SheetTab(api, spreadsheetId, 'Leads', {
                changeToken: () => store.sheetEpochs('leads'),
              }),
              addMissingHeaders: false,
            },
          ],
        ]),
        logger: flushLogger,
      });
      let changesReceived = 0;
      const subscription = startSubscriber({
        bus,
        subscription: 'apply-to-sheet',
        parse: parseDbChanges,
        flush: (deliveries: DbDelivery[]) => {
          for (const d of deliveries) changesReceived += d.message.length;
          return applyToSheet.flush(deliveries);
        },
        windowMs: 200,
        ready: applyToSheet.ready,
        logger: silentLogger,
      });
      stops.unshift(() => subscription.close());

      /** Column (id, score) of the sheet, from the model: polling must not spend the API quota. */
      const scores = () => {
        const spreadsheet = emulator.model.get(spreadsheetId)!;
        const { sheet, range } = spreadsheet.resolveA1('Leads!A2:C');
        const rows = (readValues(spreadsheet, spreadsheet.bound(sheet, range), {}).values ??
          []) as unknown[][];
        return new Map(rows.map((r) => [Number(r[0]), Number(r[2])]));
      };
      const until = async (what: string, done: () => boolean, timeoutMs = 600_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const allScores = (value: number) => () => {
        const s = scores();
        return s.size === ROWS && [...s.values()].every((v) => v === value);
      };

      progress(`loading ${ROWS} rows (INSERT) and waiting for the sheet`);
      await sql`insert into leads select g, 'row ' || g, 0 from generate_series(1, ${ROWS}) g`;
      await until('the inserted rows', allScores(0));

      progress(`one UPDATE of ${ROWS} rows`);
      const writesBefore = api.counts.writes;
      const metered = meter.writes.length;
      const changesBefore = changesReceived;
      const bulkStart = performance.now();
      await sql`update leads set score = 1`;
      await until('the updated rows', allScores(1));
      const bulkSeconds = (performance.now() - bulkStart) / 1000;
      const bulkWrites = api.counts.writes - writesBefore;
      const bulkChanges = changesReceived - changesBefore;
      const bulkRequests = meter.writes.slice(metered);
      const bulkCells = bulkRequests.reduce((n, w) => n + w.cells, 0);

      // The singles are their own scenario: they start with the write budget rested, as changes
      // after a quiet spell would (the bulk phase spent part of the burst; a full burst refills in 30 s).
      progress(`resting ${REST_MS / 1000} s so the write budget refills`);
      await new Promise((r) => setTimeout(r, REST_MS));
      progress(`${SINGLES} single-row UPDATEs at ${SINGLES_PER_SECOND}/s`);
      const singleWritesBefore = api.counts.writes;
      const singleReadsBefore = api.counts.reads;
      const singleChangesBefore = changesReceived;
      const committed = new Map<number, number>();
      const seen = new Map<number, number>();
      let polling = true;
      const poller = (async () => {
        while (polling || seen.size < committed.size) {
          const s = scores();
          const at = performance.now();
          for (const [id, t] of committed) if (!seen.has(id) && s.get(id) === 2) seen.set(id, at - t);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const start = performance.now();
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < SINGLES; i++) {
        const due = start + (i * 1000) / SINGLES_PER_SECOND;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const id = 1 + ((i * 7919) % ROWS);
        sends.push(
          sql`update leads set score = 2 where id = ${id}`.then(() => committed.set(id, performance.now())),
        );
      }
      await Promise.all(sends);
      polling = false;
      // A change still missing after 5 minutes counts with its age then (a lower bound), so a
      // stall shows in the p99 instead of aborting the run.
      await until('the single updates', () => seen.size === SINGLES, 300_000).catch(() => {
        progress(`${SINGLES - seen.size} single updates had not reached the sheet after 5 minutes`);
        const now = performance.now();
        for (const [id, t] of committed) if (!seen.has(id)) seen.set(id, now - t);
      });
      await poller;
      const singleWrites = api.counts.writes - singleWritesBefore;
      const singleReads = api.counts.reads - singleReadsBefore;
      const singleChanges = changesReceived - singleChangesBefore;
      const latencies = [...seen.values()];
      const ourWrites = bulkWrites + singleWrites;
      const naive = bulkChanges + singleChanges;
      progress(
        `bulk: ${bulkChanges} changes, ${bulkWrites} writes; singles: ${singleChanges} changes, ${singleWrites} writes, ${singleReads} reads, p50 ${Math.round(percentile(latencies, 50))} ms; reads ${api.counts.reads}, throttled ${api.counts.throttled}`,
      );
      return {
        bulk10kWriteRequests: { value: bulkWrites, unit: 'requests', target: '≤ 5' },
        bulk10kSeconds: { value: Number(bulkSeconds.toFixed(2)), unit: 's' },
        singleChangeP99Ms: { value: Math.round(percentile(latencies, 99)), unit: 'ms', target: '≤ 1000' },
        singleChangeP50Ms: { value: Math.round(percentile(latencies, 50)), unit: 'ms' },
        singleWriteRequests: { value: singleWrites, unit: 'requests' },
        singleReadRequests: { value: singleReads, unit: 'requests' },
        // Baseline: the naive writer's one values.update per changed row (a row's 3 cells).
        cellsPerWriteRequest: {
          value: Math.round(bulkCells / Math.max(1, bulkRequests.length)),
          unit: 'cells',
          baseline: 3,
          ratio: bulkCells / Math.max(1, bulkRequests.length) / 3,
          target: '≥ 10000',
        },
        // Baseline: the 2 MB Google recommends as a request's largest payload.
        maxWriteRequestBytes: {
          value: Math.max(0, ...meter.writes.map((w) => w.bytes)),
          unit: 'B',
          baseline: MAX_REQUEST_BYTES,
          ratio: Math.max(0, ...meter.writes.map((w) => w.bytes)) / MAX_REQUEST_BYTES,
          target: '≤ 2 MB',
        },
        naiveRequestRatio: {
          value: Number((naive / Math.max(1, ourWrites)).toFixed(1)),
          unit: '×',
          baseline: naive,
          ratio: Number((naive / Math.max(1, ourWrites)).toFixed(1)),
        },
      };
    } finally {
      for (const stop of stops) await stop().catch(() => {});
    }
  },
};

export default bench;
