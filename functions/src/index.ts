/**
 * The deployed functions (terraform/functions.tf), all from this one bundle:
 *
 * | entry point    | trigger                                 | does                                 |
 * | -------------- | --------------------------------------- | ------------------------------------ |
 * | sheetWebhook   | HTTP (public; HMAC-signed)              | Apps Script events → sheet changes   |
 * | applyToDb      | Pub/Sub push, `sheetsync-sheet-changes` | sheet changes → PostgreSQL           |
 * | applyToSheet   | Pub/Sub push, `sheetsync-db-changes`    | database changes → Sheets API        |
 * | outboxRelay    | HTTP (Cloud Scheduler, OIDC)            | drains the outbox for a bounded time |
 * | reconcile      | HTTP (Cloud Scheduler, OIDC)            | full compare and repair              |
 *
 * Configuration comes from the environment (set by terraform/): SHEETSYNC_LINKS (the links
 * config JSON), DATABASE_URL and SHEETSYNC_WEBHOOK_SECRET (Secret Manager), SHEETSYNC_SHEET_TOPIC,
 * SHEETSYNC_DB_TOPIC, SHEETSYNC_FIRESTORE_DATABASE, SHEETSYNC_RELAY_DRAIN_MS,
 * SHEETSYNC_RELAY_LINGER_MS, SHEETSYNC_LOG_LEVEL,
 * SHEETSYNC_DATABASE_CA and SHEETSYNC_DATABASE_INSTANCE (the Cloud SQL server to verify).
 * What each function reaches, and so what its service account is granted: function-needs.ts.
 * Clients are made on first use and kept for the instance's life; concurrent invocations of one
 * instance share a group commit. What each function is built from: runtime/compose.ts.
 */

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Firestore } from '@google-cloud/firestore';
import { http } from '@google-cloud/functions-framework';
import { auth } from '@googleapis/sheets';
import { FirestoreVersionStore } from './adapters/firestore-version-store.ts';
import { notOnMysql, openMysqlDatabase } from './adapters/mysql/mysql-database.ts';
import { connectPostgres } from './adapters/postgres-connection.ts';
import { postgresTls } from './adapters/postgres-tls.ts';
import { createPubSubBus } from './adapters/pubsub-bus.ts';
import { ErrorsTab, sheetProblemReporter } from './adapters/sheets/errors-tab.ts';
import { SheetsApi } from './adapters/sheets/sheets-api.ts';
import { createPostgresTable } from './adapters/table/postgres-table.ts';
import { parseConfig } from './config.ts';
import { loadConflictPolicies, loadResolvers } from './custom-resolver.ts';
import { SheetsyncError } from './errors.ts';
import { GroupCommit } from './handlers/group-commit.ts';
import { reconcileHttpHandler } from './handlers/reconcile-http.ts';
import { gateFrameworkServer, webhookGate } from './handlers/sheet-webhook/raw-body-gate.ts';
import { firestoreReplayGuard } from './handlers/sheet-webhook/replay-guard.ts';
import { createLogger, traceLabels } from './log.ts';
import { mysqlRelayHttpHandler } from './relay/mysql-relay-http.ts';
import { outboxRelayHttpHandler } from './relay/outbox-drain.ts';
import {
  composeApplyToDb,
  composeApplyToSheet,
  composeCellMarker,
  composeConflictsShower,
  composeWebhook,
  databaseEngine,
} from './runtime/compose.ts';
import { pubsubPush } from './runtime/pubsub-push.ts';
import { answerWebhook } from './runtime/webhook-http.ts';
import { type LinkConfig, secretVersionOf } from './wire/config.ts';
import { DB_CHANGES_TOPIC, parseDbChanges } from './wire/db-change.ts';
import { parseSheetChanges, SHEET_CHANGES_TOPIC } from './wire/sheet-change.ts';

const logger = createLogger();

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new SheetsyncError(
      'SHEETSYNC_E104',
      `environment variable ${name} is not set; see terraform/README.md`,
    );
  }
  return value;
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** Like `once`, for a promise; a rejected one is made again on the next call. */
function onceAsync<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

// A custom conflict resolver's path is relative to the bundle (`npm run package -- --config`).
const config = once(() =>
  parseConfig(JSON.parse(env('SHEETSYNC_LINKS')), 'SHEETSYNC_LINKS', {
    baseDir: dirname(fileURLToPath(import.meta.url)),
  }),
);
// Custom conflict resolvers are imported as the instance starts: a module at fault (missing, a
// syntax error, no default export function) stops it with SHEETSYNC_E105.
const resolvers = process.env.SHEETSYNC_LINKS
  ? await loadResolvers(config(), 'SHEETSYNC_LINKS').catch((error: SheetsyncError) => {
      logger.error(error.message, { code: error.code });
      throw error;
    })
  : new Map<string, never>();
// One client per kind of work, each with its timeouts (postgres-connection.ts); a deployed
// function opens only its own. Deployed, each verifies Cloud SQL's server certificate
// (adapters/postgres-tls.ts).
const tls = () => postgresTls(process.env);
const sql = once(() => connectPostgres(env('DATABASE_URL'), 'applyToDb', { max: 5, ...tls() }));
const relaySql = once(() => connectPostgres(env('DATABASE_URL'), 'relay', { max: 3, ...tls() }));
const syncSql = once(() => connectPostgres(env('DATABASE_URL'), 'sync', { max: 5, ...tls() }));
// DATABASE_URL=mysql://…: the MySQL Table and relay instead (docs/design/mysql.md). Capture is
// installed by whoever deploys (the function's user needs no DDL), as for PostgreSQL.
const onMysql = () => databaseEngine(env('DATABASE_URL')) === 'mysql';
const mysqlDatabase = onceAsync(() =>
  openMysqlDatabase(env('DATABASE_URL'), config().links, {
    install: false,
    ca: tls().ssl?.ca as string[] | undefined,
  }),
);
const firestore = once(
  () =>
    new Firestore({
      ...(process.env.SHEETSYNC_FIRESTORE_DATABASE
        ? { databaseId: process.env.SHEETSYNC_FIRESTORE_DATABASE }
        : {}),
    }),
);
const store = once(() => new FirestoreVersionStore({ firestore: firestore() }));
const bus = once(() => createPubSubBus({ projectId: env('GOOGLE_CLOUD_PROJECT'), logger }));
// SHEETSYNC_SHEETS_API_URL: the local sheet (`sheetsync start --as-deployed`), which takes no auth.
const sheetsApi = once(
  () =>
    new SheetsApi({
      logger,
      ...(process.env.SHEETSYNC_SHEETS_API_URL
        ? { rootUrl: process.env.SHEETSYNC_SHEETS_API_URL }
        : { auth: new auth.GoogleAuth({ scopes: ['https://www.googleapis.com/auth/spreadsheets'] }) }),
    }),
);

const webhookDeps = once(() =>
  composeWebhook({
    config: config(),
    secrets: env('SHEETSYNC_WEBHOOK_SECRET')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    replayGuard: firestoreReplayGuard(firestore()),
    bus: bus(),
    sheetTopic: process.env.SHEETSYNC_SHEET_TOPIC ?? SHEET_CHANGES_TOPIC,
    store: store(),
    logger,
  }),
);

http('sheetWebhook', async (req, res) => {
  // A throw is answered as a JSON 500 (SHEETSYNC_E623), not functions-framework's text page.
  const answer = await answerWebhook(
    { method: req.method, headers: req.headers, ...(req.rawBody ? { rawBody: req.rawBody } : {}) },
    { ...webhookDeps(), logger: logger.child(traceLabels(req.headers, process.env.GOOGLE_CLOUD_PROJECT)) },
  );
  res.status(answer.status).json(answer.body);
});
// functions-framework parses a JSON body before any function runs (up to 1 GB, HTML errors):
// deployed, the webhook checks size and signature on the raw body first (raw-body-gate.ts).
gateFrameworkServer(
  'sheetWebhook',
  webhookGate({
    secrets: () => webhookDeps().secrets,
    secretVersion: (id) => secretVersionOf(config(), id),
    logger,
  }),
  { failureCode: 'SHEETSYNC_E623', logger },
);

const applyToDbGroup = onceAsync(async () => {
  const mysql = onMysql() ? await mysqlDatabase() : undefined;
  const policies = await loadConflictPolicies(config(), {
    sql: mysql ? notOnMysql('a PostgreSQL client') : sql(),
    logger,
    resolvers,
    // MySQL: resolvers' column types from its Table port.
    ...(mysql ? { describe: (name: string, link: LinkConfig) => mysql.table.describe(name, link) } : {}),
  });
  const apply = composeApplyToDb({
    config: config(),
    table: mysql ? mysql.table : createPostgresTable(sql()),
    store: store(),
    policies,
    logger,
    // Wrong-type values and refused rows go to the spreadsheet's errors tab, one write per flush.
    reportProblems: sheetProblemReporter(
      new ErrorsTab(sheetsApi()),
      (link) => config().links.find((l) => l.name === link)?.spreadsheetId,
    ),
    // …and are marked at the cell in the data tab (a note and a fill) until a later value syncs.
    markCells: composeCellMarker({ config: config(), sheetsApi: sheetsApi(), store: store(), logger }),
    // Open conflicts listed in the spreadsheet's _sheetsync_conflicts tab, with a dropdown.
    showConflicts: composeConflictsShower({ config: config(), sheetsApi: sheetsApi(), store: store() }),
  });
  return new GroupCommit(apply.flush, { windowMs: 10, maxItems: 1000 });
});

const applyToSheetGroup = once(() => {
  const apply = composeApplyToSheet({
    config: config(),
    sheetsApi: sheetsApi(),
    store: store(),
    logger,
    // A dropped table column is reported once in the errors tab.
    reportProblems: sheetProblemReporter(
      new ErrorsTab(sheetsApi()),
      (link) => config().links.find((l) => l.name === link)?.spreadsheetId,
    ),
  });
  return new GroupCommit(apply.flush, { windowMs: 200, maxItems: 5000, ready: apply.ready });
});

// HTTP functions that read the push body themselves, deliveryAttempt included (runtime/pubsub-push.ts).
http('applyToDb', pubsubPush({ parse: parseSheetChanges, submitter: applyToDbGroup, logger }));
http('applyToSheet', pubsubPush({ parse: parseDbChanges, submitter: applyToSheetGroup, logger }));

const relayHandler = once(() =>
  outboxRelayHttpHandler({
    sql: relaySql(),
    bus: bus(),
    topic: process.env.SHEETSYNC_DB_TOPIC ?? DB_CHANGES_TOPIC,
    logger,
    maxDrainMs: Number(process.env.SHEETSYNC_RELAY_DRAIN_MS ?? 50_000),
    // Batches spaced while busy: bigger messages for push's one in flight per key (outbox-relay.ts).
    lingerMs: Number(process.env.SHEETSYNC_RELAY_LINGER_MS ?? 1000),
    // Columns a link leaves out never travel on Pub/Sub (relay/column-filter.ts).
    columnsOf: (link) => config().links.find((l) => l.name === link)?.columns,
  }),
);
const mysqlRelayHandler = onceAsync(async () =>
  mysqlRelayHttpHandler({
    pool: (await mysqlDatabase()).relayPool,
    outboxDatabase: (await mysqlDatabase()).outboxDatabase,
    bus: bus(),
    topic: process.env.SHEETSYNC_DB_TOPIC ?? DB_CHANGES_TOPIC,
    logger,
    maxDrainMs: Number(process.env.SHEETSYNC_RELAY_DRAIN_MS ?? 50_000),
    columnsOf: (link) => config().links.find((l) => l.name === link)?.columns,
  }),
);
http('outboxRelay', async (req, res) =>
  onMysql() ? (await mysqlRelayHandler())(req, res) : relayHandler()(req, res),
);

const reconcileHandler = once(() =>
  reconcileHttpHandler({
    links: config().links,
    sql: onMysql() ? notOnMysql('reconcile') : syncSql(),
    sheetsApi: sheetsApi(),
    store: store(),
    logger,
  }),
);
http('reconcile', (req, res) => reconcileHandler()(req, res));
