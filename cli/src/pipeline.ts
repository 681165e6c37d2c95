/**
 * The sync pipeline in one process: sheetWebhook (through functions-framework), the outbox
 * relay, and the applyToDb and applyToSheet subscribers, over a bus, a version store, PostgreSQL
 * and a Sheets API endpoint the caller provides. `sheetsync start` runs it against the local
 * stack; integration tests and benchmarks run it against the emulators.
 */
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type postgres from 'postgres';
import {
  type MysqlDatabase,
  notOnMysql,
  openMysqlDatabase,
} from '../../functions/src/adapters/mysql/mysql-database.ts';
import { connectPostgres } from '../../functions/src/adapters/postgres-connection.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { ErrorsTab, sheetProblemReporter } from '../../functions/src/adapters/sheets/errors-tab.ts';
import { SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { loadConflictPolicies, loadResolvers } from '../../functions/src/custom-resolver.ts';
import { createApplyToDb, type RowProblem } from '../../functions/src/functions/apply-to-db.ts';
import { createApplyToSheet } from '../../functions/src/functions/apply-to-sheet.ts';
import { type RunningRelay, startRelay } from '../../functions/src/functions/outbox-relay.ts';
import { handleWebhook } from '../../functions/src/functions/sheet-webhook/handler.ts';
import { gateServer, webhookGate } from '../../functions/src/functions/sheet-webhook/raw-body-gate.ts';
import {
  memoryReplayGuard,
  type ReplayGuard,
} from '../../functions/src/functions/sheet-webhook/replay-guard.ts';
import type { Logger } from '../../functions/src/log.ts';
import type { Table } from '../../functions/src/ports/table.ts';
import type { Bus, Subscription, VersionStore } from '../../functions/src/ports.ts';
import { startMysqlRelay } from '../../functions/src/relay/mysql-relay.ts';
import { databaseEngine, linkedTabOption, linkedTabs } from '../../functions/src/runtime/compose.ts';
import { startSubscriber } from '../../functions/src/runtime/subscriber.ts';
import { type SheetsyncConfig, secretVersionOf } from '../../functions/src/wire/config.ts';
import { DB_CHANGES_TOPIC, parseDbChanges } from '../../functions/src/wire/db-change.ts';
import { parseSheetChanges, SHEET_CHANGES_TOPIC } from '../../functions/src/wire/sheet-change.ts';
import { withoutProcessHooks } from './services/process-hooks.ts';

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
   * change (webhook, relay, subscribers): the local stack's restore (functions/src/sync/restore-link.ts).
   */
  beforeStart?: (services: { sql: postgres.Sql; sheetsApi: SheetsApi }) => Promise<void>;
}

export interface Pipeline {
  webhookUrl: string;
  sql: postgres.Sql;
  sheetsApi: SheetsApi;
  relay: RunningRelay;
  applyToSheet: ReturnType<typeof createApplyToSheet>;
  applyToDb: ReturnType<typeof createApplyToDb>;
  stop(): Promise<void>;
}

let registered = 0;

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
    let database: { table: Table } | { sql: postgres.Sql };
    let mysqlDb: MysqlDatabase | undefined;
    let relaySql: postgres.Sql | undefined;
    if (mysql) {
      // MySQL/MariaDB: the Table port and the trigger outbox's relay; attach, reconcile and the
      // restore at start are PostgreSQL-only so far (SHEETSYNC_E782 when asked for).
      mysqlDb = await openMysqlDatabase(options.databaseUrl, config.links);
      stops.push(() => mysqlDb!.stop());
      sql = notOnMysql<postgres.Sql>('attach, reconcile and restore');
      database = { table: mysqlDb.table };
    } else {
      // One client per kind of work, each with its timeouts (postgres-connection.ts): `sql`
      // installs and serves attach and reconcile (Pipeline.sql), flushSql applyToDb, relaySql the relay.
      const pgSql = connectPostgres(options.databaseUrl, 'sync', { max: 4 });
      sql = pgSql;
      stops.push(() => pgSql.end({ timeout: 5 }));
      const flushSql = connectPostgres(options.databaseUrl, 'applyToDb', { max: 6 });
      stops.push(() => flushSql.end({ timeout: 5 }));
      database = { sql: flushSql };
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
    await options.beforeStart?.({ sql, sheetsApi });

    const replayGuard = options.replayGuard ?? memoryReplayGuard();
    // functions-framework keeps one registry per process: each pipeline registers its own name.
    const functionName = registered++ === 0 ? 'sheetWebhook' : `sheetWebhook${registered}`;
    const tabs = linkedTabs(store, logger);
    http(functionName, async (req, res) => {
      const answer = await handleWebhook(
        { method: req.method, headers: req.headers, ...(req.rawBody ? { rawBody: req.rawBody } : {}) },
        {
          config,
          secrets: [options.webhookSecret],
          replayGuard,
          publish: async (messages) => {
            await bus.publish(
              names.sheetTopic,
              messages.map((m) => ({
                data: Buffer.from(JSON.stringify(m.data)),
                orderingKey: m.orderingKey,
              })),
            );
          },
          liveRowIds: (link, idPrefix) => store.liveRowIds(link, idPrefix),
          structure: store,
          ...tabs,
          documents: store,
          held: store,
          sheetChanged: (link, kind, hold) => store.bumpSheetEpoch(link, kind, hold),
          holdSheetWrites: (link, until) => store.holdSheetWrites(link, until),
          logger,
        },
      );
      res.status(answer.status).json(answer.body);
    });
    // functions-framework's server exits the process on SIGINT; the caller shuts down in order.
    const server = await withoutProcessHooks(() => getTestServer(functionName));
    // As deployed (functions/src/index.ts): size and signature on the raw body, before
    // functions-framework's body-parser, which answers malformed JSON with an HTML page.
    gateServer(
      server,
      webhookGate({
        secrets: () => [options.webhookSecret],
        secretVersion: (id) => secretVersionOf(config, id),
        logger,
      }),
      { failureCode: 'SHEETSYNC_E623', logger },
    );
    await new Promise<void>((resolve) => server.listen(options.webhookPort ?? 0, '127.0.0.1', resolve));
    stops.push(
      () =>
        new Promise((resolve) => {
          server.close(() => resolve(undefined));
          server.closeAllConnections();
        }),
    );
    const address = server.address();
    const webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;

    const policies = await loadConflictPolicies(config, { sql, logger, resolvers });
    const spreadsheetOf = new Map(config.links.map((l) => [l.name, l.spreadsheetId]));
    const reportToSheet = sheetProblemReporter(new ErrorsTab(sheetsApi), (link) => spreadsheetOf.get(link));
    const applyToDb = createApplyToDb({
      ...database,
      store,
      links: new Map(
        config.links.map((l) => [
          l.name,
          {
            table: l.table,
            policy: policies.get(l.name)!,
            ...(l.columns ? { columns: l.columns } : {}),
            ...(l.key ? { key: l.key } : {}),
          },
        ]),
      ),
      logger,
      // Problems for people go to the spreadsheet's errors tab (one write per flush), and to onProblems.
      reportProblems: async (problems) => {
        options.onProblems?.(problems);
        await reportToSheet(problems);
      },
    });
    const applyToSheet = createApplyToSheet({
      store,
      links: new Map(
        config.links.map((l) => [
          l.name,
          {
            tab: new SheetTab(sheetsApi, l.spreadsheetId, l.sheet, {
              changeToken: () => store.sheetEpochs(l.name),
              ...linkedTabOption(store, l.name, logger),
            }),
            addMissingHeaders: l.addMissingHeaders,
            ...(l.columns ? { columns: l.columns } : {}),
          },
        ]),
      ),
      logger,
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
    return { webhookUrl, sql, sheetsApi, relay, applyToSheet, applyToDb, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
