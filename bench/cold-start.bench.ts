/**
 * `npm run bench -- cold-start` (issue 23, item 4): each function's cold start, from process
 * start to its first handled message, on the bundle `npm run package` builds (what Cloud
 * Functions deploys), served by functions-framework's own command as Cloud Run starts it. The
 * first request is sent as soon as the port takes connections; it is handled when its answer
 * arrives: module load, then the clients made on first use (Firestore, Pub/Sub, PostgreSQL), then
 * the work. Split: spawn → listening (functions-framework's "Serving function" line) and the
 * first request. Baseline, same instance: the next such request (warm). Median of 3 starts.
 * Cloud Run's own container start comes on top when deployed.
 *
 * Functions and their first message: sheetWebhook a signed edit event (replay guard, epochs in
 * Firestore, one publish); applyToDb a push of one sheet change (a row inserted, its document
 * committed); applyToSheet a push of one database INSERT (a row appended to the local sheet, its
 * document committed); outboxRelay a drain of an empty outbox (`{"ms": 200}`); reconcile (every
 * 30 minutes) a full compare of the link, whose table and tab hold the few rows the runs before
 * it left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../cli/src/services/free-port.ts';
import { type RunningEmulator, startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { createEmulator } from '../emulator/src/server.ts';
import { watchTable } from '../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../functions/src/adapters/pubsub-bus.ts';
import { CHANGES_PER_OUTBOX_ROW } from '../functions/src/wire/db-change.ts';
import { SHEET_CHANGES_TOPIC } from '../functions/src/wire/sheet-change.ts';
import { packageFunctions } from '../scripts/package-functions.ts';
import { signedHeaders } from '../test/support/signed-request.ts';
import { benchDatabase } from './database.ts';
import { type Benchmark, type Metric, median } from './lib.ts';

const RUNS = 3;
const require = createRequire(import.meta.url);
const FRAMEWORK = join(require.resolve('@google-cloud/functions-framework'), '..', 'main.js');
const SECRET = randomBytes(24).toString('base64url');
const SPREADSHEET = 'cold-start-sheet';
const TAB = 'Leads';
let inserted = 0;

/** Pub/Sub's push body for one message (https://cloud.google.com/pubsub/docs/push). */
function pushBody(message: unknown, orderingKey: string, subscription: string): string {
  return JSON.stringify({
    message: {
      data: Buffer.from(JSON.stringify(message)).toString('base64'),
      messageId: randomUUID(),
      publishTime: new Date().toISOString(),
      orderingKey,
    },
    subscription: `projects/sheetsync-bench/subscriptions/${subscription}`,
    deliveryAttempt: 1,
  });
}

interface FirstRequest {
  body(): string;
  headers(body: string): Record<string, string>;
  path?: string;
}

const requests: Record<string, FirstRequest> = {
  sheetWebhook: {
    body: () =>
      JSON.stringify({
        v: 1,
        kind: 'edit',
        eventId: randomUUID(),
        spreadsheetId: SPREADSHEET,
        sheet: TAB,
        sheetId: 0,
        headers: ['id', 'name'],
        time: Date.now(),
        rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells: { name: 'Ada' } }],
      }),
    headers: (body) => ({ 'content-type': 'application/json', ...signedHeaders(SECRET, SPREADSHEET, body) }),
  },
  applyToDb: {
    body: () => {
      const change = {
        v: 1,
        link: 'leads',
        rowId: randomUUID(),
        op: 'upsert',
        cells: { name: 'cold' },
        isNew: true,
        eventId: randomUUID(),
        time: Date.now(),
      };
      return pushBody(change, `leads/${change.rowId}`, 'sheetsync-apply-to-db');
    },
    headers: () => ({ 'content-type': 'application/json' }),
  },
  applyToSheet: {
    body: () => {
      const id = ++inserted;
      const outboxId = 1_000 + id;
      const change = {
        outboxId: String(outboxId),
        index: 0,
        changeId: outboxId * CHANGES_PER_OUTBOX_ROW,
        link: 'leads',
        table: 'public.leads',
        op: 'INSERT',
        keyColumns: ['id'],
        key: { id },
        cells: { id, name: 'cold' },
        types: { id: 'bigint', name: 'text' },
        origin: 'db',
        dot: null,
        txid: String(outboxId),
        time: new Date().toISOString(),
      };
      return pushBody(change, `leads/${id}`, 'sheetsync-apply-to-sheet');
    },
    headers: () => ({ 'content-type': 'application/json' }),
  },
  outboxRelay: {
    body: () => JSON.stringify({ ms: 200 }),
    headers: () => ({ 'content-type': 'application/json' }),
  },
  // As Cloud Scheduler calls it (terraform/scheduler.tf), for the one link: a full compare of the
  // few rows the runs above left, so mostly the start and the clients.
  reconcile: {
    body: () => '{}',
    headers: () => ({ 'content-type': 'application/json' }),
    path: '?link=leads',
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One cold start: spawn → serving, spawn → first answer, and a warm request after it. */
async function coldStart(
  bundle: string,
  target: string,
  env: Record<string, string>,
): Promise<{ servingMs: number; firstMs: number; warmMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const request = requests[target]!;
  const spawned = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [FRAMEWORK, `--target=${target}`, `--source=${bundle}`, `--port=${port}`, '--signature-type=http'],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let servingMs = Number.NaN;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (Number.isNaN(servingMs) && output.includes('Serving function'))
      servingMs = performance.now() - spawned;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const send = async () => {
    const body = request.body();
    const response = await fetch(`${url}${request.path ?? ''}`, {
      method: 'POST',
      headers: request.headers(body),
      body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${target} answered ${response.status}: ${text.slice(0, 300)}`);
  };
  try {
    // The first request goes out as soon as a connection is taken.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${target} exited before serving:\n${output}`);
      try {
        await send();
        break;
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        if (cause !== 'ECONNREFUSED') throw error;
        await sleep(5);
      }
    }
    const firstMs = performance.now() - spawned;
    const warmStarted = performance.now();
    await send();
    return { servingMs, firstMs, warmMs: performance.now() - warmStarted };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const bench: Benchmark = {
  name: 'cold-start',
  description: `process start to first handled message per function, on the packaged bundle (median of ${RUNS})`,
  async run({ progress }) {
    const stops: Array<() => Promise<unknown>> = [];
    // Inside the repository: the bundle's external packages resolve from its node_modules, as they
    // do deployed from the node_modules Cloud Functions' build installs beside it.
    const dist = join(import.meta.dirname, '..', 'dist');
    mkdirSync(dist, { recursive: true });
    const work = mkdtempSync(join(dist, 'bench-cold-'));
    stops.push(async () => rmSync(work, { recursive: true, force: true }));
    try {
      progress('packaging the functions and starting PostgreSQL and the emulators…');
      const packaged = await packageFunctions({
        outDir: join(work, 'functions'),
        zipPath: join(work, 'f.zip'),
      });
      const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-pg-'));
      stops.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const pg = await startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir });
      stops.push(() => pg.stop());
      const [pubsub, firestore] = await Promise.all([startEmulator('pubsub'), startEmulator('firestore')]);
      stops.push(
        () => (pubsub as RunningEmulator).stop(),
        () => (firestore as RunningEmulator).stop(),
      );
      // The local sheet, for applyToSheet's writes.
      const sheet = await createEmulator({ port: 0 });
      stops.push(() => sheet.close());
      sheet.model.create({ spreadsheetId: SPREADSHEET, sheets: [{ title: TAB, sheetId: 0 }] }, 'api');
      const header = await fetch(
        `${sheet.url}/v4/spreadsheets/${SPREADSHEET}/values/${TAB}!A1?valueInputOption=RAW`,
        {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ values: [['id', 'name']] }),
        },
      );
      if (!header.ok) throw new Error(`writing the header row failed: ${await header.text()}`);
      const database = await benchDatabase(pg.url);
      stops.push(() => database.drop());
      await database.sql`create table public.leads (
        id bigint generated by default as identity primary key, name text not null default '')`;
      await watchTable(database.sql, 'public.leads', 'leads');
      const project = `sheetsync-bench-${randomBytes(3).toString('hex')}`;
      const bus = createPubSubBus({ projectId: project, apiEndpoint: pubsub.host });
      stops.push(() => bus.close());
      await bus.ensureTopic(SHEET_CHANGES_TOPIC);
      await bus.ensureSubscription(`${SHEET_CHANGES_TOPIC}-bench`, { topic: SHEET_CHANGES_TOPIC });
      const env = {
        SHEETSYNC_LINKS: JSON.stringify({
          links: [{ name: 'leads', spreadsheetId: SPREADSHEET, sheet: TAB, table: 'public.leads' }],
        }),
        DATABASE_URL: database.url,
        GOOGLE_CLOUD_PROJECT: project,
        PUBSUB_EMULATOR_HOST: pubsub.host,
        FIRESTORE_EMULATOR_HOST: firestore.host,
        SHEETSYNC_WEBHOOK_SECRET: SECRET,
        SHEETSYNC_SHEETS_API_URL: sheet.url,
        SHEETSYNC_LOG_LEVEL: 'ERROR',
        METADATA_SERVER_DETECTION: 'none',
      };
      const metrics: Record<string, Metric> = {
        bundleBytes: { value: packaged.bundleBytes, unit: 'B' },
      };
      for (const target of Object.keys(requests)) {
        const runs = [];
        for (let run = 0; run < RUNS; run++) {
          const result = await coldStart(packaged.outDir, target, env);
          progress(
            `${target} run ${run + 1}: serving ${Math.round(result.servingMs)} ms, first handled ${Math.round(result.firstMs)} ms, warm ${Math.round(result.warmMs)} ms`,
          );
          runs.push(result);
        }
        const first = median(runs.map((r) => r.firstMs));
        const warm = median(runs.map((r) => r.warmMs));
        metrics[`${target}.startToFirstHandledMs`] = {
          value: first,
          unit: 'ms',
          baseline: warm,
          ratio: first / warm,
        };
        metrics[`${target}.startToServingMs`] = { value: median(runs.map((r) => r.servingMs)), unit: 'ms' };
      }
      return metrics;
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  },
};

export default bench;
