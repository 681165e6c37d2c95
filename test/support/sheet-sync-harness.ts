/**
 * The whole sheet ↔ database stack over services the caller started: the local sheet running the
 * real apps-script/, the pipeline (cli/src/pipeline.ts: the functions as runtime/compose.ts builds
 * them, the webhook on a node:http server, relay, both subscribers) over Google's Pub/Sub and
 * Firestore emulators and a PostgreSQL (or MySQL) database. Shared by the sync integration tests
 * and `npm run bench -- sheet-to-db`.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import type postgres from 'postgres';
import { type Pipeline, startPipeline } from '../../cli/src/pipeline.ts';
import { readValues } from '../../emulator/src/model/values.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { parseConfig } from '../../functions/src/config.ts';
import type { RowProblem } from '../../functions/src/handlers/apply-to-db.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { createLogger, type Logger, silentLogger } from '../../functions/src/log.ts';
import type { Bus, VersionStore } from '../../functions/src/ports.ts';

export const ID_HEADER = '_sheetsync_id';

export interface SyncHarnessOptions {
  databaseUrl: string;
  pubsubEmulatorHost: string;
  firestoreEmulatorHost: string;
  /** Link options beside name, spreadsheet, tab and table (`columns`, `safety`, …). */
  link?: Record<string, unknown>;
  /** Creates the linked table (the harness installs capture on it). */
  createTable: (sql: postgres.Sql) => Promise<unknown>;
  table: string;
  /** The tab's header row, written before the script's setup. */
  headers: string[];
  /** Multiplies the script's time-trigger periods (the queue flush runs every minute × this). */
  timeScale?: number;
  /**
   * Script Properties set after the script's setup (its limits, e.g. SHEETSYNC_EDIT_CHARS), through
   * a helper file added to a copy of apps-script/.
   */
  scriptProperties?: Record<string, string>;
  /** Files (name → source) added to a copy of apps-script/: functions tests run with runScript. */
  scriptFiles?: Record<string, string>;
  logger?: Logger;
  /** Wraps the version store's Firestore client (a fault-injecting one, test/support/firestore-storm.ts). */
  wrapFirestore?: (client: Firestore) => Firestore;
  /** Wraps the Pub/Sub bus the pipeline uses: the soak injects redeliveries and republishes. */
  wrapBus?: (bus: Bus) => Bus;
  /**
   * The version store the pipeline uses instead of the Firestore one (the sustained bench's
   * in-memory run); the harness's `store` is then the Firestore store, left unused.
   */
  pipelineStore?: VersionStore;
}

export interface SyncHarness {
  emulator: Emulator;
  pipeline: Pipeline;
  sql: postgres.Sql;
  spreadsheetId: string;
  tab: string;
  secret: string;
  store: FirestoreVersionStore;
  /** The Firestore root under which the store keeps its documents (conflicts, held changes). */
  storeRoot: string;
  link: string;
  problems: RowProblem[];
  /** Performs user actions in the sheet; resolves after their triggers ran. */
  act(actions: unknown[]): Promise<UserActionResult[]>;
  /** Runs a script function as the time trigger or a menu would. */
  runScript(name: string, args?: unknown[]): Promise<void>;
  /**
   * The tab's values (header row first), read from the model so polling spends no quota; by
   * `title` when the tab was renamed.
   */
  tabValues(title?: string): unknown[][];
  stop(): Promise<void>;
}

export interface UserActionResult {
  type: string;
  triggers: Array<{ functionName: string; status: string; error?: string }>;
}

/**
 * A copy of apps-script/ (its .js files and manifest) in a new temporary directory, with `files`
 * (name → source) added: test helpers the script runtime can call. The caller removes it.
 */
export function scriptCopy(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-script-'));
  for (const name of readdirSync('apps-script')) {
    if (name.endsWith('.js') || name === 'appsscript.json')
      copyFileSync(join('apps-script', name), join(dir, name));
  }
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  return dir;
}

let harnesses = 0;

export async function startSyncHarness(options: SyncHarnessOptions): Promise<SyncHarness> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  // SHEETSYNC_TEST_LOG=1 shows the pipeline's structured log when a test needs explaining.
  const logger = options.logger ?? (process.env.SHEETSYNC_TEST_LOG ? createLogger() : silentLogger);
  const suffix = `${process.pid}-${harnesses++}-${randomBytes(3).toString('hex')}`;
  const spreadsheetId = `sheet-to-db-${suffix}`;
  const tab = 'Rows';
  const secret = randomBytes(24).toString('base64url');
  const problems: RowProblem[] = [];
  try {
    const [fsHost, fsPort] = options.firestoreEmulatorHost.split(':');
    const firestore = new Firestore({
      projectId: 'sheetsync-test',
      host: fsHost,
      port: Number(fsPort),
      ssl: false,
    });
    stops.push(() => firestore.terminate());
    const storeRoot = `links-${suffix}`;
    const store = new FirestoreVersionStore({
      firestore: options.wrapFirestore?.(firestore) ?? firestore,
      root: storeRoot,
    });
    const pubsub: Bus = createPubSubBus({
      projectId: 'sheetsync-test',
      apiEndpoint: options.pubsubEmulatorHost,
      logger,
    });
    const bus = options.wrapBus ? options.wrapBus(pubsub) : pubsub;
    stops.push(() => bus.close());

    let scriptDir = 'apps-script';
    if (options.scriptProperties || options.scriptFiles) {
      const copy = scriptCopy({
        'test-properties.js':
          'function setTestProperties(json) { PropertiesService.getScriptProperties().setProperties(JSON.parse(json)); }\n',
        ...options.scriptFiles,
      });
      scriptDir = copy;
      stops.push(async () => rmSync(copy, { recursive: true, force: true }));
    }
    const emulator = await createEmulator({
      port: 0,
      appsScript: { scriptDir, timeScale: options.timeScale ?? 1 },
    });
    stops.push(() => emulator.close());
    emulator.model.create({ spreadsheetId, sheets: [{ title: tab, sheetId: 0 }] }, 'api');
    const headerWrite = await fetch(
      `${emulator.url}/v4/spreadsheets/${spreadsheetId}/values/${tab}!A1?valueInputOption=RAW`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ values: [options.headers] }),
      },
    );
    if (!headerWrite.ok) throw new Error(`writing the header row failed: ${await headerWrite.text()}`);

    const config = parseConfig({
      links: [{ name: 'rows', spreadsheetId, sheet: tab, table: options.table, ...options.link }],
    });
    const { default: postgresClient } = await import('postgres');
    const sql = postgresClient(options.databaseUrl, { max: 4, onnotice: () => {} });
    stops.push(() => sql.end({ timeout: 5 }));
    await options.createTable(sql);

    const pipeline = await startPipeline({
      databaseUrl: options.databaseUrl,
      bus,
      store: options.pipelineStore ?? store,
      sheetsApiUrl: emulator.url,
      config,
      webhookSecret: secret,
      logger,
      names: {
        sheetTopic: `sheet-changes-${suffix}`,
        dbTopic: `db-changes-${suffix}`,
        applyToDb: `apply-to-db-${suffix}`,
        applyToSheet: `apply-to-sheet-${suffix}`,
      },
      relayPollMs: 200,
      onProblems: (p) => problems.push(...p),
    });
    stops.push(() => pipeline.stop());

    const runScript = async (name: string, args: unknown[] = []) => {
      const run = await emulator.appsScript!.run(spreadsheetId, name, args);
      if (run.status !== 'COMPLETED') throw new Error(`Apps Script ${name} failed: ${run.error}`);
    };
    // The script gets its spreadsheet's own secret, derived from the webhook's (signature.ts).
    await runScript('setup', [pipeline.webhookUrl, spreadsheetSecret(secret, spreadsheetId), tab]);
    if (options.scriptProperties)
      await runScript('setTestProperties', [JSON.stringify(options.scriptProperties)]);

    const act = async (actions: unknown[]): Promise<UserActionResult[]> => {
      const response = await fetch(`${emulator.url}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ actions }),
      });
      const body = (await response.json()) as { results?: UserActionResult[] };
      if (!response.ok) throw new Error(`user actions failed (${response.status}): ${JSON.stringify(body)}`);
      const results = body.results ?? [];
      for (const r of results) {
        for (const t of r.triggers) {
          if (t.status !== 'COMPLETED') throw new Error(`trigger ${t.functionName} ${t.status}: ${t.error}`);
        }
      }
      return results;
    };

    const tabValues = (title = tab) => {
      const spreadsheet = emulator.model.get(spreadsheetId);
      const { sheet, range } = spreadsheet.resolveA1(title);
      return (readValues(spreadsheet, spreadsheet.bound(sheet, range), {
        valueRenderOption: 'UNFORMATTED_VALUE',
      }).values ?? []) as unknown[][];
    };

    return {
      emulator,
      pipeline,
      sql,
      store,
      storeRoot,
      link: 'rows',
      spreadsheetId,
      tab,
      secret,
      problems,
      act,
      runScript,
      tabValues,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The sheet's synced rows by sync id: every data row with an id, each column named in `columns`
 * as the sheet holds it ('' as null). Rows without an id are returned under `unsynced`.
 */
export function sheetRowsById(
  values: unknown[][],
  columns: readonly string[],
): { rows: Map<string, Record<string, unknown>>; duplicates: string[]; unsynced: number } {
  const [headers = [], ...data] = values;
  const idAt = headers.indexOf(ID_HEADER);
  const rows = new Map<string, Record<string, unknown>>();
  const duplicates: string[] = [];
  let unsynced = 0;
  for (const line of data) {
    const id = idAt >= 0 ? String(line[idAt] ?? '') : '';
    const blank = line.every((v, i) => i === idAt || v === '' || v === null || v === undefined);
    if (!id) {
      if (!blank) unsynced++;
      continue;
    }
    if (rows.has(id)) duplicates.push(id);
    const row: Record<string, unknown> = {};
    for (const column of columns) {
      const at = headers.indexOf(column);
      const value = at >= 0 ? line[at] : undefined;
      row[column] = value === '' || value === undefined ? null : value;
    }
    rows.set(id, row);
  }
  return { rows, duplicates, unsynced };
}

/**
 * Compares the table with the sheet by sync id: each synced sheet row's document names a key,
 * the table holds that key with the sheet's value in every one of `columns`, and the table holds
 * no other row. Values compare as text ('' and NULL alike). Returns the differences, empty when
 * equal, so a failing test says what differs.
 */
export async function tableVsSheet(
  harness: SyncHarness,
  table: { schema: string; name: string; key: readonly string[] },
  columns: readonly string[],
): Promise<string[]> {
  const { rows, duplicates, unsynced } = sheetRowsById(harness.tabValues(), columns);
  const differences: string[] = [];
  if (duplicates.length > 0) differences.push(`duplicate sync ids on the sheet: ${duplicates.join(', ')}`);
  if (unsynced > 0) differences.push(`${unsynced} sheet rows without a sync id`);
  const docs = await harness.store.readRows(harness.link, [...rows.keys()]);
  const { sql } = harness;
  const dbRows = await sql<{ r: Record<string, unknown> }[]>`
    select to_jsonb(t) as r from ${sql(table.schema)}.${sql(table.name)} t`;
  const keyText = (cells: Record<string, unknown>) => table.key.map((c) => text(cells[c])).join('\u0000');
  const byKey = new Map(dbRows.map(({ r }) => [keyText(r), r]));
  const seen = new Set<string>();
  for (const [rowId, sheetRow] of rows) {
    const key = docs.get(rowId)?.key;
    if (!key) {
      differences.push(`row ${rowId}: no key recorded`);
      continue;
    }
    const k = keyText(key);
    seen.add(k);
    const dbRow = byKey.get(k);
    if (!dbRow) {
      differences.push(`row ${rowId}: key ${k} not in the table`);
      continue;
    }
    for (const column of columns) {
      if (text(sheetRow[column]) !== text(dbRow[column])) {
        differences.push(
          `row ${rowId} ${column}: sheet ${JSON.stringify(sheetRow[column])}, table ${JSON.stringify(dbRow[column])}`,
        );
      }
    }
  }
  for (const k of byKey.keys()) if (!seen.has(k)) differences.push(`table row ${k} is not on the sheet`);
  return differences;
}

function text(value: unknown): string {
  return value === null || value === undefined || value === '' ? '' : String(value);
}
