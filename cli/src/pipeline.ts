/**
 * The sync pipeline in one process: sheetWebhook (on a node:http server), the outbox
 * relay, and the applyToDb and applyToSheet subscribers, over a bus, a version store, PostgreSQL
 * and a Sheets API endpoint the caller provides. `sheetsync start` runs it against the local
 * stack; integration tests and benchmarks run it against the emulators.
 */
import type postgres from 'postgres';
import {
  type MysqlDatabase,
  notOnMysql,
  openMysqlDatabase,
} from '../../functions/src/adapters/mysql/mysql-database.ts';
import { mysqlSyncDatabase } from '../../functions/src/adapters/mysql/mysql-sync-database.ts';
import { connectPostgres } from '../../functions/src/adapters/postgres-connection.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { ErrorsTab, sheetProblemReporter } from '../../functions/src/adapters/sheets/errors-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { createPostgresTable } from '../../functions/src/adapters/table/postgres-table.ts';
import { loadConflictPolicies, loadResolvers } from '../../functions/src/custom-resolver.ts';
import type { RowProblem } from '../../functions/src/handlers/apply-to-db.ts';
import { webhookGate } from '../../functions/src/handlers/sheet-webhook/raw-body-gate.ts';
import {
  memoryReplayGuard,
  type ReplayGuard,
} from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import type { Logger } from '../../functions/src/log.ts';
import type { SyncDatabase } from '../../functions/src/ports/sync-database.ts';
import type { Table } from '../../functions/src/ports/table.ts';
import type { Bus, Subscription, VersionStore } from '../../functions/src/ports.ts';
import { startMysqlRelay } from '../../functions/src/relay/mysql-relay.ts';
import { type RunningRelay, startRelay } from '../../functions/src/relay/outbox-relay.ts';
import {
  composeApplyToDb,
  composeApplyToSheet,
  composeCellMarker,
  composeConflictsShower,
  composeWebhook,
  databaseEngine,
} from '../../functions/src/runtime/compose.ts';
import { startSubscriber } from '../../functions/src/runtime/subscriber.ts';
import { serveWebhook } from '../../functions/src/runtime/webhook-http.ts';
import { type LinkConfig, type SheetsyncConfig, secretVersionOf } from '../../functions/src/wire/config.ts';
import { DB_CHANGES_TOPIC, parseDbChanges } from '../../functions/src/wire/db-change.ts';
import { parseSheetChanges, SHEET_CHANGES_TOPIC } from '../../functions/src/wire/sheet-change.ts';

export interface PipelineOptions {
  databaseUrl: string;
  bus: Bus;
  store: VersionStore;
  /** The Sheets API root, e.g. the local sheet's URL. */
  sheetsApiUrl: string;
  config: SheetsyncConfig;
  webhookSecret: string;
  logger: Logger;
  /** Topic and subscription names; tests give each file its own. Default: the production names. */
  names?: { sheetTopic: string; dbTopic: string; applyToDb: string; applyToSheet: string };
  webhookPort?: number;
  replayGuard?: ReplayGuard;
  /** applyToSheet's group-commit window. Default 200 ms. */
  sheetWindowMs?: number;
  /** Sheets API quota this client keeps to. Default Google's per-user 60/min each. */
  writesPerMinute?: number;
  readsPerMinute?: number;
  relayPollMs?: number;
  onProblems?: (problems: RowProblem[]) => void;
  /**
   * Runs once the schema, capture and topics are in place, before anything applies or publishes a
   * change (webhook, relay, subscribers): the local stack's restore (functions/src/sync-jobs/restore-link.ts).
   */
  beforeStart?: (services: {
    sql: postgres.Sql;
    database?: SyncDatabase;
    sheetsApi: SheetsApi;
  }) => Promise<void>;
}

export interface Pipeline {
  webhookUrl: string;
  sql: postgres.Sql;
  /** MySQL: what attach and reconcile run on (ports/sync-database.ts); none on PostgreSQL (`sql`). */
  database?: SyncDatabase;
  sheetsApi: SheetsApi;
  relay: RunningRelay;
  applyToSheet: ReturnType<typeof composeApplyToSheet>;
  applyToDb: ReturnType<typeof composeApplyToDb>;
  stop(): Promise<void>;
}

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { bus, store, config, logger } = options;
  const names = options.names ?? {
    sheetTopic: SHEET_CHANGES_TOPIC,
    dbTopic: DB_CHANGES_TOPIC,
    applyToDb: 'sheetsync-apply-to-db',
    applyToSheet: 'sheetsync-apply-to-sheet',
  };
  // Custom conflict resolvers are imported first: a module at fault stops start-up (SHEETSYNC_E105).
  const resolvers = await loadResolvers(config);
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const mysql = databaseEngine(options.databaseUrl) === 'mysql';
    let sql: postgres.Sql;
    let table: Table;
    let mysqlDb: MysqlDatabase | undefined;
    let database: SyncDatabase | undefined;
    let relaySql: postgres.Sql | undefined;
    if (mysql) {
      // MySQL/MariaDB: the Table port, the trigger outbox's relay, and attach, reconcile and the
      // restore at start through its SyncDatabase.
      mysqlDb = await openMysqlDatabase(options.databaseUrl, config.links);
      stops.push(() => mysqlDb!.stop());
      sql = notOnMysql<postgres.Sql>('a PostgreSQL client');
      table = mysqlDb.table;
      database = mysqlSyncDatabase(mysqlDb.pool, { outboxDatabase: mysqlDb.outboxDatabase });
    } else {
      // One client per kind of work, each with its timeouts (postgres-connection.ts): `sql`
      // installs and serves attach and reconcile (Pipeline.sql), flushSql applyToDb, relaySql the relay.
      const pgSql = connectPostgres(options.databaseUrl, 'sync', { max: 4 });
      sql = pgSql;
      stops.push(() => pgSql.end({ timeout: 5 }));
      const flushSql = connectPostgres(options.databaseUrl, 'applyToDb', { max: 6 });
      stops.push(() => flushSql.end({ timeout: 5 }));
      table = createPostgresTable(flushSql);
      const relayClient = connectPostgres(options.databaseUrl, 'relay', { max: 2 });
      relaySql = relayClient;
      stops.push(() => relayClient.end({ timeout: 5 }));
      await installSchema(sql);
      for (const link of config.links) await watchTable(sql, link.table, link.name);
    }

    await bus.ensureTopic(names.sheetTopic);
    await bus.ensureTopic(names.dbTopic);
    await bus.ensureSubscription(names.applyToDb, { topic: names.sheetTopic, ackDeadlineSeconds: 60 });
    await bus.ensureSubscription(names.applyToSheet, { topic: names.dbTopic, ackDeadlineSeconds: 60 });
    const sheetsApi = new SheetsApi({
      rootUrl: options.sheetsApiUrl,
      logger,
      writesPerMinute: options.writesPerMinute ?? 60,
      readsPerMinute: options.readsPerMinute ?? 60,
    });
    await options.beforeStart?.({ sql, ...(database ? { database } : {}), sheetsApi });

    const webhookDeps = composeWebhook({
      config,
      secrets: [options.webhookSecret],
      replayGuard: options.replayGuard ?? memoryReplayGuard(),
      bus,
      sheetTopic: names.sheetTopic,
      store,
      logger,
    });
    // As deployed (functions/src/index.ts): size and signature on the raw body, before the handler.
    const webhook = await serveWebhook({
      deps: webhookDeps,
      gate: webhookGate({
        secrets: () => [options.webhookSecret],
        secretVersion: (id) => secretVersionOf(config, id),
        logger,
      }),
      logger,
      port: options.webhookPort ?? 0,
    });
    stops.push(() => webhook.close());
    const webhookUrl = webhook.url;

    const policies = await loadConflictPolicies(config, {
      sql,
      logger,
      resolvers,
      // MySQL: resolvers' column types from its Table port (`sql` is no client there).
      ...(mysql ? { describe: (name: string, link: LinkConfig) => table.describe(name, link) } : {}),
    });
    const spreadsheetOf = new Map(config.links.map((l) => [l.name, l.spreadsheetId]));
    const reportToSheet = sheetProblemReporter(new ErrorsTab(sheetsApi), (link) => spreadsheetOf.get(link));
    const applyToDb = composeApplyToDb({
      config,
      table,
      store,
      policies,
      logger,
      // Problems for people go to the spreadsheet's errors tab (one write per flush), and to onProblems.
      reportProblems: async (problems) => {
        options.onProblems?.(problems);
        await reportToSheet(problems);
      },
      // Refused cells marked at the cell in the data tab (one write per link per flush with marks).
      markCells: composeCellMarker({ config, sheetsApi, store, logger }),
      // Open conflicts listed in each spreadsheet's _sheetsync_conflicts tab, with a dropdown.
      showConflicts: composeConflictsShower({ config, sheetsApi, store }),
    });
    const applyToSheet = composeApplyToSheet({
      config,
      sheetsApi,
      store,
      logger,
      reportProblems: async (problems) => {
        options.onProblems?.(problems);
        await reportToSheet(problems);
      },
    });
    const subscriptions: Subscription[] = [
      startSubscriber({
        bus,
        subscription: names.applyToDb,
        parse: parseSheetChanges,
        flush: applyToDb.flush,
        windowMs: 10,
        logger,
      }),
      startSubscriber({
        bus,
        subscription: names.applyToSheet,
        parse: parseDbChanges,
        flush: applyToSheet.flush,
        ready: applyToSheet.ready,
        windowMs: options.sheetWindowMs ?? 200,
        logger,
      }),
    ];
    stops.push(async () => {
      for (const s of subscriptions) await s.close();
    });
    const relayOptions = {
      bus,
      topic: names.dbTopic,
      logger,
      columnsOf: (link: string) => config.links.find((l) => l.name === link)?.columns,
    };
    const relay = mysqlDb
      ? startMysqlRelay({
          ...relayOptions,
          pool: mysqlDb.relayPool,
          outboxDatabase: mysqlDb.outboxDatabase,
          // No NOTIFY on MySQL: the relay polls, so it polls more often than PostgreSQL's.
          pollIntervalMs: Math.min(options.relayPollMs ?? 250, 250),
        })
      : startRelay({ ...relayOptions, sql: relaySql!, pollIntervalMs: options.relayPollMs ?? 500 });
    stops.push(() => relay.stop());
    return {
      webhookUrl,
      sql,
      ...(database ? { database } : {}),
      sheetsApi,
      relay,
      applyToSheet,
      applyToDb,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
