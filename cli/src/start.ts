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
 *
 * A restart keeps everything: the table (PostgreSQL), the sheet (`.sheetsync/sheets.json`) and the
 * version store (stack-store.ts). Before the pipeline applies anything, every link is restored
 * (functions/src/sync-jobs/restore-link.ts): the row documents the store lost are rebuilt from the
 * sheet's ids and the table's keys, and what the stop cut short is repaired. A stop ends every
 * process the stack started within about 3 s (shutdown.ts); a SIGKILL too, through the reaper
 * (services/reaper.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type postgres from 'postgres';
import { createEmulator } from '../../emulator/src/server.ts';
import { connectMysql } from '../../functions/src/adapters/mysql/mysql-connection.ts';
import { isMysqlUrl, mysqlUrlParts, notOnMysql } from '../../functions/src/adapters/mysql/mysql-database.ts';
import { mysqlOutboxDepth } from '../../functions/src/adapters/mysql/mysql-relay-store.ts';
import { mysqlIdent } from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { connectPostgres } from '../../functions/src/adapters/postgres-connection.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { loadConfigFile, parseConfig } from '../../functions/src/config.ts';
import { loadResolvers } from '../../functions/src/custom-resolver.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { createLogger } from '../../functions/src/log.ts';
import type { SyncDatabase } from '../../functions/src/ports/sync-database.ts';
import type { VersionStore } from '../../functions/src/ports.ts';
import { syncDatabase } from '../../functions/src/sync-jobs/link-sync-deps.ts';
import { restoreLink } from '../../functions/src/sync-jobs/restore-link.ts';
import { type SheetsyncConfig, secretVersionOf } from '../../functions/src/wire/config.ts';
import { deployedServices, startAsDeployed } from './as-deployed/stack.ts';
import { meteredBus } from './dashboard/metered-bus.ts';
import { Metrics } from './dashboard/metrics.ts';
import { conflictDesk } from './dashboard/open-conflicts.ts';
import { startDashboard } from './dashboard/server.ts';
import { syncJobs } from './dashboard/sync-jobs.ts';
import { createDemo, DEMO_CONFIG, fillDemo } from './demo.ts';
import { checkLinks } from './links.ts';
import type { LocalInfo } from './local-stack.ts';
import { createMysqlDemo, fillMysqlDemo, MYSQL_DEMO_CONFIG, prepareMysqlServer } from './mysql-demo.ts';
import { startPipeline } from './pipeline.ts';
import { freePort } from './services/free-port.ts';
import { type RunningPostgres, startPostgres } from './services/postgres-server.ts';
import { reapLeftovers, startReaper } from './services/reaper.ts';
import { Shutdown } from './shutdown.ts';
import { startStackStore } from './stack-store.ts';

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
  /**
   * Run the functions as terraform/ deploys them (cli/src/as-deployed/): each in its own
   * functions-framework server, fed by push with terraform/subscriptions.json's settings.
   */
  asDeployed?: boolean;
}

export type { LocalInfo } from './local-stack.ts';

export async function start(options: StartOptions): Promise<{ info: LocalInfo; stop: () => Promise<void> }> {
  const { progress } = options;
  // A malformed config (e.g. a duplicate link name) stops start-up before any service starts.
  const custom = options.configFile ? loadConfigFile(options.configFile) : undefined;
  // So does a custom conflict resolver module that cannot be loaded (SHEETSYNC_E105).
  if (custom) await loadResolvers(custom, options.configFile);
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  claimLock(stateDir);
  // What an earlier start killed by SIGKILL (with its reaper) left running would hold its ports and
  // PostgreSQL's data directory.
  const leftovers = await reapLeftovers(stateDir);
  if (leftovers.length > 0) progress(`stopped what an earlier start left running: ${leftovers.join(', ')}`);
  const reaper = startReaper(stateDir);
  const shutdown = new Shutdown();
  const stop = async () => {
    await shutdown.run();
    reaper.close();
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

    // DATABASE_URL=mysql://…: MySQL/MariaDB (docs/design/mysql.md): the sync runs; attach,
    // reconcile, the restore at start and --as-deployed are PostgreSQL-only so far.
    const mysqlUrl =
      process.env.DATABASE_URL && isMysqlUrl(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined;
    if (mysqlUrl && options.asDeployed) {
      throw new SheetsyncError(
        'SHEETSYNC_E782',
        '--as-deployed is not available on MySQL yet; start without it',
      );
    }
    let pg: RunningPostgres;
    if (mysqlUrl) {
      progress('checking MySQL…');
      await prepareMysqlServer(mysqlUrl);
      pg = { url: mysqlUrl, embedded: false, stop: async () => {} };
      progress('MySQL: DATABASE_URL');
    } else {
      progress('starting PostgreSQL…');
      pg = await startPostgres({
        databaseUrl: process.env.DATABASE_URL,
        dataDir: join(stateDir, 'postgres'),
        persistent: true,
      });
      if (pg.pid) reaper.watch(pg.pid, 'SIGINT', 'the embedded PostgreSQL');
      shutdown.add('last', () => pg.stop());
      progress(pg.embedded ? `PostgreSQL: embedded, files in ${pg.dataDir}` : 'PostgreSQL: DATABASE_URL');
    }
    keepPrivate(stateDir);

    // A first start creates the demo; every later one keeps the table, the sheet and the store.
    const fresh = !custom && !existsSync(join(stateDir, 'local.json'));
    const stack = await startStackStore({ stateDir, fresh, reaper, logger, progress });
    shutdown.add('last', () => stack.stop());
    const { store } = stack;
    const google = stack.kind !== 'standins';
    const bus = meteredBus(stack.bus, metrics);

    const mysqlParts = mysqlUrl ? mysqlUrlParts(mysqlUrl) : undefined;
    const mysqlPool = mysqlParts ? connectMysql(mysqlParts.url, { connectionLimit: 2 }) : undefined;
    if (mysqlPool) shutdown.add('last', () => mysqlPool.end());
    const sql = mysqlUrl
      ? notOnMysql<postgres.Sql>('attach, reconcile and restore')
      : connectPostgres(pg.url, 'command', { max: 2 });
    if (!mysqlUrl) shutdown.add('last', () => sql.end({ timeout: 1 }));

    progress('starting the local Google Sheet…');
    const sheetPort = options.sheetPort ?? (await freePort());
    const emulator = await createEmulator({
      port: sheetPort,
      state: join(stateDir, 'sheets.json'),
      // The script's console lines join the stack's log, as Google keeps them in the execution log.
      appsScript: { scriptDir: resolve('apps-script'), logger },
    });
    // The sheet writes its file after the store's last snapshot (store-snapshots.ts).
    shutdown.add('first', () => stack.save(() => emulator.close()));

    // A config file replaces the demo: its tables and tabs must exist (checked before anything runs).
    // (On MySQL the pipeline describes each link's table as it starts.)
    if (custom && !mysqlUrl) {
      const sheetsApi = new SheetsApi({ rootUrl: emulator.url, logger });
      await checkLinks(custom, { sql, sheetsApi }, options.configFile);
    }
    if (fresh) {
      progress(
        `creating the demo table ${mysqlUrl ? 'leads' : 'public.leads'} and the spreadsheet tab "Leads"…`,
      );
      if (mysqlPool) await createMysqlDemo(mysqlPool, emulator);
      else await createDemo(sql, emulator);
    }
    // The demo's links config goes beside local.json, so CLI processes read the same links.
    const configFile = options.configFile ? resolve(options.configFile) : join(stateDir, 'links.json');
    let config = custom;
    if (!config) {
      const demo = mysqlUrl ? MYSQL_DEMO_CONFIG : DEMO_CONFIG;
      writeFileSync(configFile, `${JSON.stringify(demo, null, 2)}\n`);
      config = parseConfig(demo, configFile);
    }

    const secret = readOrCreateSecret(stateDir);
    const pipelineOptions = {
      databaseUrl: pg.url,
      bus,
      store,
      sheetsApiUrl: emulator.url,
      config,
      webhookSecret: secret,
      logger,
      ...(options.webhookPort ? { webhookPort: options.webhookPort } : {}),
      // Documents the store lost are rebuilt before any change is applied (restore-link.ts).
      ...(fresh
        ? {}
        : {
            beforeStart: (services: { sql: postgres.Sql; database?: SyncDatabase; sheetsApi: SheetsApi }) =>
              restoreLinks(config, { ...services, store }, progress),
          }),
    };
    const pipeline = options.asDeployed
      ? await startAsDeployed({ ...pipelineOptions, ...deployedServices(stack, reaper, progress) })
      : await startPipeline(pipelineOptions);
    shutdown.add('first', () => pipeline.stop(), 1_000);
    const webhookUrl = pipeline.webhookUrl;
    metrics.watchRelay(() => pipeline.relay.counters());
    const links = config.links.map((l) => l.name);
    const dashboard = await startDashboard({
      metrics,
      conflicts: conflictDesk({ store, bus, links }),
      sql,
      ...(mysqlPool && mysqlParts
        ? { outboxDepth: () => mysqlOutboxDepth(mysqlPool, mysqlIdent(mysqlParts.outboxDatabase)) }
        : {}),
      links,
      bus: google ? 'pubsub-emulator' : 'in-process',
      store: google ? 'firestore-emulator' : 'memory',
      // attach and reconcile of CLI processes that cannot reach the in-process version store.
      sync: syncJobs({
        sql: pipeline.sql,
        ...('database' in pipeline && pipeline.database ? { database: pipeline.database } : {}),
        sheetsApi: pipeline.sheetsApi,
        store,
        config,
        source: configFile,
      }),
    });
    shutdown.add('first', () => dashboard.close(), 1_000);

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
      progress('waiting for the demo rows to reach the sheet…');
      if (mysqlPool) await fillMysqlDemo(mysqlPool, emulator);
      else await fillDemo(sql, emulator);
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
      ...(stack.emulatorHosts
        ? {
            firestoreEmulatorHost: stack.emulatorHosts.firestore,
            pubsubEmulatorHost: stack.emulatorHosts.pubsub,
            googleCloudProject: stack.projectId,
          }
        : {}),
      configFile,
    };
    // It holds the database URL with its password: for this user only.
    writePrivate(join(stateDir, 'local.json'), `${JSON.stringify(info, null, 2)}\n`);
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The restore of every link (functions/src/sync-jobs/restore-link.ts), before the pipeline applies
 * anything: one outbox watermark for all links, then each link in turn.
 */
async function restoreLinks(
  config: SheetsyncConfig,
  services: { sql: postgres.Sql; database?: SyncDatabase; sheetsApi: SheetsApi; store: VersionStore },
  progress: (message: string) => void,
): Promise<void> {
  progress('checking the sheet against the table and the version store…');
  const watermark = await syncDatabase(services).outboxWatermark();
  for (const link of config.links) {
    const r = await restoreLink({ ...services, link }, watermark).catch((error: unknown) => {
      throw new SheetsyncError(
        'SHEETSYNC_E758',
        `link "${link.name}": the check of the sheet against the table at start failed: ${(error as Error).message}. ` +
          'Nothing of the pipeline ran yet; fix the cause and start again.',
        'retry',
        { cause: error },
      );
    });
    const c = r.reconcile;
    const repaired = c.cellsToDb + c.cellsToSheet + c.rowsInsertedInDb + c.rowsAppendedToSheet;
    const deleted = c.rowsDeletedFromDb + c.rowsDeletedFromSheet;
    progress(
      `link "${link.name}": ${r.rowsRebuilt} row documents rebuilt, ${r.rowsSettled} brought up to date, ` +
        `${r.conflicts + c.conflicts} conflicts recorded, ${repaired} cells or rows repaired, ${deleted} rows deleted` +
        (r.rowsClaimed > 0
          ? `, ${r.rowsClaimed} rows left to reconcile (their key belongs to another row)`
          : ''),
    );
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
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  const secret = randomBytes(24).toString('base64url');
  writePrivate(file, secret);
  return secret;
}

/**
 * From here on every file the stack writes is for this user only (umask 077): sheets.json holds
 * the script's webhook secret (its Script Properties, written by the local sheet), local.json the
 * database URL. Set once the embedded PostgreSQL runs: its own user must reach the state
 * directory. Files an earlier version left readable are narrowed now.
 */
function keepPrivate(stateDir: string): void {
  process.umask(0o077);
  for (const name of ['sheets.json', 'local.json', 'webhook-secret', 'version-store.json']) {
    if (existsSync(join(stateDir, name))) chmodSync(join(stateDir, name), 0o600);
  }
}

/** Writes a file that holds a credential: mode 0600, also when it existed with another mode. */
function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function recordLoggedError(metrics: Metrics, line: string): void {
  try {
    const entry = JSON.parse(line) as { message?: unknown; code?: unknown };
    metrics.error(String(entry.message ?? line), typeof entry.code === 'string' ? entry.code : null);
  } catch {
    metrics.error(line, null);
  }
}
