/**
 * `sheetsync start` (`npm start`): the whole stack on one machine, in one process.
 *
 * PostgreSQL (DATABASE_URL or embedded), Google's Pub/Sub and Firestore emulators when the Cloud
 * SDK is installed (in-process stand-ins that pass the same contract suites otherwise), the local
 * Google Sheet with its grid and the real apps-script/, sheetWebhook served by functions-framework,
 * the outbox relay, and the applyToDb and applyToSheet subscribers. It creates a demo table
 * `public.leads` and a spreadsheet with a tab "Leads", linked, and prints `sheetsync ready`.
 *
 * Which emulators: SHEETSYNC_STANDINS=1 picks the in-process stand-ins even where the Cloud SDK
 * is; with PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST both set it uses those running
 * emulators (project GOOGLE_CLOUD_PROJECT, default sheetsync-local) and leaves them running.
 * `.sheetsync/local.json` (LocalInfo, local-stack.ts) tells CLI processes how to reach it all.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { writeA1 } from '../../emulator/src/model/operations.ts';
import { createEmulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createMemoryBus } from '../../functions/src/adapters/memory-bus.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { connectPostgres } from '../../functions/src/adapters/postgres-connection.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { loadConfigFile, parseConfig } from '../../functions/src/config.ts';
import { loadResolvers } from '../../functions/src/custom-resolver.ts';
import { spreadsheetSecret } from '../../functions/src/functions/sheet-webhook/signature.ts';
import { createLogger } from '../../functions/src/log.ts';
import type { Bus, VersionStore } from '../../functions/src/ports.ts';
import { secretVersionOf } from '../../functions/src/wire/config.ts';
import { meteredBus } from './dashboard/metered-bus.ts';
import { Metrics } from './dashboard/metrics.ts';
import { conflictDesk } from './dashboard/open-conflicts.ts';
import { startDashboard } from './dashboard/server.ts';
import { syncJobs } from './dashboard/sync-jobs.ts';
import { checkLinks } from './links.ts';
import type { LocalInfo } from './local-stack.ts';
import { startPipeline } from './pipeline.ts';
import { freePort } from './services/free-port.ts';
import { hasGcloud, type RunningEmulator, startEmulator } from './services/gcloud-emulator.ts';
import { startPostgres } from './services/postgres-server.ts';

export interface StartOptions {
  stateDir: string;
  sheetPort?: number;
  webhookPort?: number;
  /** Say what happens, on stderr. */
  progress: (message: string) => void;
  /**
   * A links config file (`{links: [...]}`, as SHEETSYNC_LINKS) to run instead of the demo; every
   * link is checked against the database and the local sheet first (cli/src/links.ts).
   */
  configFile?: string;
}

export type { LocalInfo } from './local-stack.ts';

const DEMO_SPREADSHEET = 'sheetsync-demo';
const DEMO_TAB = 'Leads';

export async function start(options: StartOptions): Promise<{ info: LocalInfo; stop: () => Promise<void> }> {
  const { progress } = options;
  // A malformed config (e.g. a duplicate link name) stops start-up before any service starts.
  const custom = options.configFile ? loadConfigFile(options.configFile) : undefined;
  // So does a custom conflict resolver module that cannot be loaded (SHEETSYNC_E105).
  if (custom) await loadResolvers(custom, options.configFile);
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  claimLock(stateDir);
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(join(stateDir, 'start.pid'), { force: true });
  };
  try {
    const metrics = new Metrics();
    const logger = createLogger({
      ...(process.env.SHEETSYNC_LOG_LEVEL ? {} : { level: 'WARNING' as const }),
      write: (line, severity) => {
        // The dashboard's "last errors" are the log's ERROR entries.
        if (severity === 'ERROR' || severity === 'CRITICAL') recordLoggedError(metrics, line);
        (severity === 'ERROR' || severity === 'CRITICAL' ? process.stderr : process.stdout).write(
          `${line}\n`,
        );
      },
    });

    progress('starting PostgreSQL…');
    const pg = await startPostgres({
      databaseUrl: process.env.DATABASE_URL,
      dataDir: join(stateDir, 'postgres'),
      persistent: true,
    });
    stops.push(() => pg.stop());
    progress(pg.embedded ? 'PostgreSQL: embedded, files in .sheetsync/postgres' : 'PostgreSQL: DATABASE_URL');

    // Google's emulators keep nothing across restarts, so with them each start begins afresh.
    const standIns = /^(1|true|yes)$/i.test(process.env.SHEETSYNC_STANDINS ?? '');
    const running =
      !standIns && process.env.PUBSUB_EMULATOR_HOST && process.env.FIRESTORE_EMULATOR_HOST
        ? { pubsub: process.env.PUBSUB_EMULATOR_HOST, firestore: process.env.FIRESTORE_EMULATOR_HOST }
        : undefined;
    const google = !standIns && (running !== undefined || hasGcloud());
    const projectId = process.env.GOOGLE_CLOUD_PROJECT || 'sheetsync-local';
    let bus: Bus;
    let store: VersionStore;
    let emulatorHosts: { pubsub: string; firestore: string } | undefined;
    if (google) {
      if (running) {
        progress(
          `using the running emulators of PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST (project ${projectId})`,
        );
        emulatorHosts = running;
      } else {
        progress('starting the Pub/Sub and Firestore emulators (Google Cloud SDK)…');
        const [pubsub, firestoreEmulator] = await Promise.all([
          startEmulator('pubsub'),
          startEmulator('firestore'),
        ]);
        stops.push(
          () => (pubsub as RunningEmulator).stop(),
          () => (firestoreEmulator as RunningEmulator).stop(),
        );
        emulatorHosts = { pubsub: pubsub.host, firestore: firestoreEmulator.host };
      }
      bus = createPubSubBus({ projectId, apiEndpoint: emulatorHosts.pubsub, logger });
      const [host, port] = emulatorHosts.firestore.split(':');
      const firestore = new Firestore({ projectId, host, port: Number(port), ssl: false });
      store = new FirestoreVersionStore({ firestore });
      stops.push(() => firestore.terminate());
      progress(`Pub/Sub emulator ${emulatorHosts.pubsub}, Firestore emulator ${emulatorHosts.firestore}`);
    } else {
      progress(
        standIns
          ? 'SHEETSYNC_STANDINS is set: using the in-process bus and version store'
          : 'Google Cloud SDK not found: using the in-process bus and version store',
      );
      bus = createMemoryBus();
      store = new MemoryVersionStore();
    }
    stops.push(() => bus.close());
    const busKind = google ? 'pubsub-emulator' : 'in-process';
    bus = meteredBus(bus, metrics);

    const sql = connectPostgres(pg.url, 'command', { max: 2 });
    stops.push(() => sql.end({ timeout: 5 }));

    progress('starting the local Google Sheet…');
    const sheetPort = options.sheetPort ?? (await freePort());
    const emulator = await createEmulator({
      port: sheetPort,
      state: join(stateDir, 'sheets.json'),
      appsScript: { scriptDir: resolve('apps-script') },
    });
    stops.push(() => emulator.close());

    // A config file replaces the demo: its tables and tabs must exist (checked before anything runs).
    if (custom) {
      const sheetsApi = new SheetsApi({ rootUrl: emulator.url, logger });
      await checkLinks(custom, { sql, sheetsApi }, options.configFile);
    }
    // Fresh sync state (the emulators forget): the demo starts from a clean table and sheet.
    const fresh = !custom && (google || !existsSync(join(stateDir, 'local.json')));
    if (fresh) {
      progress('creating the demo table public.leads and the spreadsheet tab "Leads"…');
      await sql.unsafe(`
        drop table if exists public.leads;
        create table public.leads (
          id bigint generated by default as identity primary key,
          name text not null default '',
          email text,
          company text,
          status text default 'new',
          score integer
        );`);
      if (emulator.model.list().some((s) => s.spreadsheetId === DEMO_SPREADSHEET)) {
        emulator.model.delete(DEMO_SPREADSHEET);
      }
      emulator.model.create(
        { spreadsheetId: DEMO_SPREADSHEET, title: 'sheetsync demo', sheets: [{ title: DEMO_TAB }] },
        'api',
      );
      // The table's columns as headers first, so the hidden id column goes after them.
      emulator.model.mutate(DEMO_SPREADSHEET, 'api', (spreadsheet, emit) =>
        writeA1(
          spreadsheet,
          emit,
          `${DEMO_TAB}!A1`,
          [['id', 'name', 'email', 'company', 'status', 'score']],
          {
            valueInputOption: 'RAW',
          },
        ),
      );
    }
    // The demo's links config goes beside local.json, so CLI processes read the same links.
    const configFile = options.configFile ? resolve(options.configFile) : join(stateDir, 'links.json');
    let config = custom;
    if (!config) {
      const demo = {
        links: [{ name: 'leads', spreadsheetId: DEMO_SPREADSHEET, sheet: DEMO_TAB, table: 'public.leads' }],
      };
      writeFileSync(configFile, `${JSON.stringify(demo, null, 2)}\n`);
      config = parseConfig(demo, configFile);
    }

    const secret = readOrCreateSecret(stateDir);
    const pipeline = await startPipeline({
      databaseUrl: pg.url,
      bus,
      store,
      sheetsApiUrl: emulator.url,
      config,
      webhookSecret: secret,
      logger,
      ...(options.webhookPort ? { webhookPort: options.webhookPort } : {}),
    });
    stops.push(() => pipeline.stop());
    const webhookUrl = pipeline.webhookUrl;
    metrics.watchRelay(() => pipeline.relay.counters());
    const links = config.links.map((l) => l.name);
    const dashboard = await startDashboard({
      metrics,
      conflicts: conflictDesk({ store, bus, links }),
      sql,
      links,
      bus: busKind,
      store: google ? 'firestore-emulator' : 'memory',
      // attach and reconcile of CLI processes that cannot reach the in-process version store.
      sync: syncJobs({ sql: pipeline.sql, sheetsApi: pipeline.sheetsApi, store, config, source: configFile }),
    });
    stops.push(() => dashboard.close());

    const tabsBySpreadsheet = new Map<string, string[]>();
    for (const link of config.links) {
      tabsBySpreadsheet.set(link.spreadsheetId, [
        ...(tabsBySpreadsheet.get(link.spreadsheetId) ?? []),
        link.sheet,
      ]);
    }
    for (const [spreadsheetId, tabs] of tabsBySpreadsheet) {
      // Each spreadsheet's script signs with its own secret (sheet-webhook/signature.ts).
      const setup = await emulator.appsScript!.run(spreadsheetId, 'setup', [
        webhookUrl,
        spreadsheetSecret(secret, spreadsheetId, secretVersionOf(config, spreadsheetId)),
        tabs.join(','),
      ]);
      if (setup.status !== 'COMPLETED') throw new Error(`the Apps Script setup failed: ${setup.error}`);
    }

    if (fresh) {
      // The demo rows go in after capture is on, so they reach the sheet through the pipeline.
      await sql`
        insert into public.leads (name, email, company, status, score) values
          ('Ada Lovelace', 'ada@example.com', 'Analytical Engines', 'won', 92),
          ('Grace Hopper', 'grace@example.com', 'Compilers Inc', 'qualified', 88),
          ('Katherine Johnson', 'katherine@example.com', 'Orbital Mechanics', 'new', 75),
          ('Alan Turing', 'alan@example.com', 'Bletchley Park', 'contacted', 81)`;
      progress('waiting for the demo rows to reach the sheet…');
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const sheet = emulator.model.get(DEMO_SPREADSHEET).sheetByTitle(DEMO_TAB);
        if ((sheet?.rows.length ?? 0) >= 5) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const info: LocalInfo = {
      databaseUrl: pg.url,
      sheetsApiUrl: emulator.url,
      spreadsheetId: config.links[0]!.spreadsheetId,
      sheet: config.links[0]!.sheet,
      gridUrl: `${emulator.url}/spreadsheets/${config.links[0]!.spreadsheetId}`,
      webhookUrl,
      dashboardUrl: dashboard.url,
      pid: process.pid,
      store: google ? 'firestore-emulator' : 'memory',
      bus: google ? 'pubsub-emulator' : 'memory',
      ...(emulatorHosts
        ? {
            firestoreEmulatorHost: emulatorHosts.firestore,
            pubsubEmulatorHost: emulatorHosts.pubsub,
            googleCloudProject: projectId,
          }
        : {}),
      configFile,
    };
    writeFileSync(join(stateDir, 'local.json'), `${JSON.stringify(info, null, 2)}\n`);
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One `npm start` per state directory: a second one is told which process holds it. */
function claimLock(stateDir: string): void {
  const lock = join(stateDir, 'start.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (alive) {
      throw new Error(
        `another sheetsync is already running from ${stateDir} (pid ${pid}); stop it with Ctrl-C first, ` +
          'or use another directory with --state-dir',
      );
    }
  }
  writeFileSync(lock, String(process.pid));
}

/** The webhook secret of this local install, kept in the state directory (never printed). */
function readOrCreateSecret(stateDir: string): string {
  const file = join(stateDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function recordLoggedError(metrics: Metrics, line: string): void {
  try {
    const entry = JSON.parse(line) as { message?: unknown; code?: unknown };
    metrics.error(String(entry.message ?? line), typeof entry.code === 'string' ? entry.code : null);
  } catch {
    metrics.error(line, null);
  }
}
