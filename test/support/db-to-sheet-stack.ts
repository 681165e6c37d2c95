/**
 * The database → sheet path for integration tests: a watched table, the capture trigger, the
 * relay, Google's Pub/Sub emulator, applyToSheet (kept tab snapshot, write-budget pacing) with
 * the Firestore emulator's version store, and the local sheet through @googleapis/sheets, wired
 * as cli/src/pipeline.ts wires them. DEBUG_SYNC=1 prints the relay's and applyToSheet's logs.
 */
import { Firestore } from '@google-cloud/firestore';
import type postgres from 'postgres';
import { inject } from 'vitest';
import type { QuotaConfig } from '../../emulator/src/quotas.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import type { SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi, type SheetsApiOptions } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { createLogger, type Logger, silentLogger } from '../../functions/src/log.ts';
import type { Bus, Subscription } from '../../functions/src/ports.ts';
import { type RunningRelay, startRelay } from '../../functions/src/relay/outbox-relay.ts';
import { composeApplyToSheet } from '../../functions/src/runtime/compose.ts';
import { startSubscriber } from '../../functions/src/runtime/subscriber.ts';
import { parseDbChanges } from '../../functions/src/wire/db-change.ts';
import { uniqueName } from './names.ts';

export interface DbToSheetStack {
  emulator: Emulator;
  api: SheetsApi;
  /** applyToSheet's tab (its readCounts say how it read the sheet). */
  tab: SheetTab;
  store: FirestoreVersionStore;
  applyToSheet: ReturnType<typeof composeApplyToSheet>;
  spreadsheetId: string;
  stop(): Promise<void>;
}

export interface DbToSheetOptions {
  /** Creates the table to watch, e.g. sql`create table public.leads (...)`. */
  createTable: (sql: postgres.Sql) => Promise<unknown>;
  /** schema.table */
  table: string;
  /** The tab's header row, written before anything syncs. */
  headers: string[];
  link?: string;
  tab?: string;
  /** applyToSheet's and the relay's logger (default: silent, or stdout with DEBUG_SYNC set). */
  logger?: Logger;
  /** The local sheet's quotas (default: Google's, 60 writes a minute per user). */
  quotas?: Partial<QuotaConfig>;
  /** applyToSheet's Sheets API client (default: 60 writes a minute, Google's backoff and timeout). */
  sheetsApi?: Omit<SheetsApiOptions, 'rootUrl' | 'logger'>;
}

export async function startDbToSheetStack(
  sql: postgres.Sql,
  options: DbToSheetOptions,
): Promise<DbToSheetStack> {
  const link = options.link ?? 'leads';
  const tab = options.tab ?? 'Leads';
  const spreadsheetId = uniqueName(link);
  const logger = options.logger ?? (process.env.DEBUG_SYNC ? createLogger() : silentLogger);
  const stops: Array<() => Promise<unknown>> = [];
  const emulator = await createEmulator({ port: 0, ...(options.quotas ? { quotas: options.quotas } : {}) });
  stops.unshift(() => emulator.close());
  emulator.model.create({ spreadsheetId, sheets: [{ title: tab, sheetId: 0 }] }, 'api');
  const api = new SheetsApi({
    rootUrl: emulator.url,
    logger: silentLogger,
    writesPerMinute: 60,
    ...options.sheetsApi,
  });
  await api.client.spreadsheets.values.update({
    spreadsheetId,
    range: `${tab}!A1`,
    valueInputOption: 'RAW',
    requestBody: { values: [options.headers] },
  });
  const [host, port] = inject('firestoreEmulatorHost').split(':');
  const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
  stops.unshift(() => firestore.terminate());
  const store = new FirestoreVersionStore({ firestore, root: uniqueName('links') });

  await installSchema(sql);
  await options.createTable(sql);
  await watchTable(sql, options.table, link);

  const bus: Bus = createPubSubBus({
    projectId: 'sheetsync-test',
    apiEndpoint: inject('pubsubEmulatorHost'),
    logger: silentLogger,
  });
  stops.unshift(() => bus.close());
  const topic = uniqueName('sheetsync-db-changes');
  const sub = uniqueName('apply-to-sheet');
  await bus.ensureTopic(topic);
  await bus.ensureSubscription(sub, { topic, ackDeadlineSeconds: 60 });
  const relay: RunningRelay = startRelay({ sql, bus, topic, logger, pollIntervalMs: 200 });
  stops.unshift(() => relay.stop());
  const config = parseConfig({
    links: [{ name: link, spreadsheetId, sheet: tab, table: options.table, addMissingHeaders: false }],
  });
  const applyToSheet = composeApplyToSheet({ config, sheetsApi: api, store, logger });
  const sheetTab = applyToSheet.tabs.get(link)!;
  const subscription: Subscription = startSubscriber({
    bus,
    subscription: sub,
    parse: parseDbChanges,
    flush: applyToSheet.flush,
    ready: applyToSheet.ready,
    windowMs: 200,
    logger: silentLogger,
  });
  stops.unshift(() => subscription.close());
  return {
    emulator,
    api,
    tab: sheetTab,
    store,
    applyToSheet,
    spreadsheetId,
    async stop() {
      for (const stop of stops) await stop().catch(() => {});
    },
  };
}
