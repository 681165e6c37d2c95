/**
 * `sheetsync attach` and `sheetsync reconcile` as commands: where the services are, the progress
 * bar, human or JSON output and the exit code.
 *
 * Without --config (and SHEETSYNC_CONFIG), or with the config the running `npm start` runs, they
 * work on that stack, found through its `.sheetsync/local.json` (`--state-dir`): with Google's
 * Firestore emulator they connect to the services it names; with the in-process version store
 * they ask the stack to run them (local-stack.ts, runOnStack). No stack answering: SHEETSYNC_E752.
 *
 * With another --config: DATABASE_URL, the Sheets API root (SHEETSYNC_SHEETS_API_URL; both default
 * to local.json) and Firestore (FIRESTORE_EMULATOR_HOST or Google's, project GOOGLE_CLOUD_PROJECT).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Firestore } from '@google-cloud/firestore';
import type postgres from 'postgres';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import {
  isMysqlUrl,
  notOnMysql,
  openMysqlSyncDatabase,
} from '../../functions/src/adapters/mysql/mysql-database.ts';
import { connectPostgres } from '../../functions/src/adapters/postgres-connection.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { loadConfigFile } from '../../functions/src/config.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import { createLogger } from '../../functions/src/log.ts';
import type { AttachResult } from '../../functions/src/sync-jobs/attach.ts';
import type { DecidedChange } from '../../functions/src/sync-jobs/held-decisions.ts';
import { driftFound, type ReconcileResult } from '../../functions/src/sync-jobs/reconcile.ts';
import { holdHeapGrowth } from './heap-growth.ts';
import {
  type LocalInfo,
  localInfoFile,
  notRunning,
  reachStack,
  readLocalInfo,
  runOnStack,
} from './local-stack.ts';
import { findHeldLink, runSync, type SyncCommand, type SyncResult } from './sync-run.ts';

export const SYNC_USAGE = `  attach       the first sync of a link: fills an empty sheet from the table, or an empty (or
               missing) table from the sheet; reconciles when both hold rows
               --link NAME  [--config FILE]  [--json]  [--state-dir DIR]
  reconcile    compares sheet and table by sync id and repairs drift, with a summary
               --link NAME  [--config FILE]  [--dry-run]  [--json]  [--state-dir DIR]
               exit code 3 with --dry-run when drift was found
  approve      applies a mass change held for a person (\`sheetsync status\` lists them): ID
               [--link NAME]  [--config FILE]  [--json]  [--state-dir DIR]
  discard      puts the rows of a held mass change back on the side that lost them: ID
               [--link NAME]  [--config FILE]  [--json]  [--state-dir DIR]
  (without --config, these work on the running \`npm start\` of --state-dir, default
   .sheetsync; with --config they read DATABASE_URL, SHEETSYNC_SHEETS_API_URL,
   FIRESTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT, the first two defaulting to its local.json)
`;

interface Where {
  /** Direct: this process connects to the services. */
  services?: {
    configFile: string;
    databaseUrl: string | undefined;
    sheetsApiUrl: string | undefined;
    firestore: { projectId: string; host?: string };
  };
  /** Through the running stack, which holds the version store. */
  stack?: LocalInfo;
}

export async function runSyncCommand(command: SyncCommand, args: string[]): Promise<number> {
  let values: { link?: string; config?: string; json?: boolean; 'dry-run'?: boolean; 'state-dir': string };
  let positionals: string[];
  const decision = command === 'approve' || command === 'discard';
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: decision,
      options: {
        link: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        'state-dir': { type: 'string', default: '.sheetsync' },
      },
      strict: true,
    }) as { values: typeof values; positionals: string[] });
  } catch (error) {
    process.stderr.write(`sheetsync ${command}: ${(error as Error).message}\n\n${SYNC_USAGE}`);
    return 2;
  }
  if (command !== 'reconcile' && values['dry-run']) {
    process.stderr.write(`sheetsync ${command}: --dry-run is an option of reconcile\n\n${SYNC_USAGE}`);
    return 2;
  }
  if (decision) return runDecisionCommand(command, positionals, values);
  if (!values.link) {
    process.stderr.write(`sheetsync ${command}: --link NAME is required\n\n${SYNC_USAGE}`);
    return 2;
  }
  const linkName = values.link;
  const dryRun = values['dry-run'] === true;
  const where = await locate(values.config ?? process.env.SHEETSYNC_CONFIG, values['state-dir']);
  const bar = progressBar(command, values.json === true);
  let result: SyncResult;
  try {
    result = where.stack
      ? ((await runOnStack(
          where.stack,
          command,
          { link: linkName, ...(dryRun ? { dryRun } : {}) },
          bar.update,
        )) as SyncResult)
      : await runDirect(where.services!, command, linkName, dryRun, bar.update);
  } finally {
    bar.end();
  }
  if (command === 'attach') {
    const attached = result as AttachResult;
    write(values.json, attached, () => {
      if (attached.mode === 'table-to-sheet')
        return `attached ${linkName}: ${attached.rows} rows copied from the table to the sheet`;
      if (attached.mode === 'sheet-to-table')
        return `attached ${linkName}: ${attached.rows} rows copied from the sheet to the table${attached.createdTable ? ' (table created)' : ''}, ${attached.idsAssigned} ids assigned`;
      if (attached.mode === 'nothing') return `attached ${linkName}: both sides are empty`;
      return `attached ${linkName}: both sides hold rows; reconciled\n${summary(attached.reconcile)}`;
    });
    return 0;
  }
  const reconciled = result as ReconcileResult;
  write(values.json, reconciled, () => summary(reconciled));
  return dryRun && driftFound(reconciled) ? 3 : 0;
}

/**
 * Where the command runs: on the running stack when no config is given or it is the stack's own
 * (local.json must describe a stack that still answers), else on the services the environment names.
 */
async function locate(configFile: string | undefined, stateDir: string): Promise<Where> {
  const file = localInfoFile(stateDir);
  if (configFile) {
    // Another config: local.json, whatever wrote it, only lends the database and sheet defaults.
    const local = readLooseLocalInfo(file);
    if (!(local.configFile && resolve(configFile) === resolve(local.configFile))) {
      return {
        services: {
          configFile,
          databaseUrl: process.env.DATABASE_URL ?? local.databaseUrl,
          sheetsApiUrl: process.env.SHEETSYNC_SHEETS_API_URL ?? local.sheetsApiUrl,
          firestore: { projectId: process.env.GOOGLE_CLOUD_PROJECT ?? 'sheetsync-local' },
        },
      };
    }
  }
  const local = readLocalInfo(stateDir);
  if (!local) throw notRunning(`${file} not found`, 'config');
  await reachStack(local, file);
  if (local.store === 'memory') return { stack: local };
  if (!local.firestoreEmulatorHost) throw notRunning(`${file} names no firestoreEmulatorHost`, 'config');
  return {
    services: {
      configFile: local.configFile,
      databaseUrl: local.databaseUrl,
      sheetsApiUrl: local.sheetsApiUrl,
      firestore: {
        projectId: local.googleCloudProject ?? 'sheetsync-local',
        host: local.firestoreEmulatorHost,
      },
    },
  };
}

function readLooseLocalInfo(
  file: string,
): Partial<Record<'databaseUrl' | 'sheetsApiUrl' | 'configFile', string>> {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return Object.fromEntries(
      (['databaseUrl', 'sheetsApiUrl', 'configFile'] as const).flatMap((k) =>
        typeof json[k] === 'string' ? [[k, json[k]]] : [],
      ),
    );
  } catch {
    return {};
  }
}

/** `sheetsync approve|discard ID [--link NAME]`: a person's decision on a held mass change. */
async function runDecisionCommand(
  command: 'approve' | 'discard',
  positionals: string[],
  values: { link?: string; config?: string; json?: boolean; 'state-dir': string },
): Promise<number> {
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) {
    process.stderr.write(
      `sheetsync ${command}: give one held change id (sheetsync status lists them)\n\n${SYNC_USAGE}`,
    );
    return 2;
  }
  const where = await locate(values.config ?? process.env.SHEETSYNC_CONFIG, values['state-dir']);
  const bar = progressBar(command, values.json === true);
  let decided: DecidedChange;
  try {
    decided = (
      where.stack
        ? await runOnStack(
            where.stack,
            command,
            { id, ...(values.link ? { link: values.link } : {}) },
            bar.update,
          )
        : await runDirect(where.services!, command, values.link, false, bar.update, id)
    ) as DecidedChange;
  } finally {
    bar.end();
  }
  write(values.json, decided, () => {
    const { change } = decided;
    const what =
      command === 'approve'
        ? `deleted from the ${change.side === 'db' ? 'table' : 'sheet'}`
        : `put back on the ${change.side === 'db' ? 'sheet' : 'table'}`;
    return `${change.status} held change ${change.id} of link ${change.link}: its ${change.count} rows ${what} (rows changed since are kept)\n${summary(decided.reconcile)}`;
  });
  return 0;
}

async function runDirect(
  where: NonNullable<Where['services']>,
  command: SyncCommand,
  linkName: string | undefined,
  dryRun: boolean,
  onProgress: (done: number, total: number) => void,
  heldId?: string,
): Promise<SyncResult> {
  const config = loadConfigFile(where.configFile);
  if (!where.databaseUrl) throw new SheetsyncError('SHEETSYNC_E101', 'DATABASE_URL is not set');
  // A one-shot bulk command in its own process: hold the heap's growth (heap-growth.ts). Not
  // set where the running stack does the work (its dashboard API), which lives on.
  holdHeapGrowth();
  const logger = createLogger({ level: 'WARNING' } as never);
  // MySQL: attach and reconcile through its SyncDatabase; nothing else here uses `sql` then.
  const mysql = isMysqlUrl(where.databaseUrl) ? openMysqlSyncDatabase(where.databaseUrl) : undefined;
  const sql = mysql
    ? notOnMysql<postgres.Sql>(`${command}'s PostgreSQL client`)
    : connectPostgres(where.databaseUrl, 'sync', { max: 4 });
  if (where.firestore.host) {
    // The client library prefers this variable over its settings: point both at the stack's.
    process.env.FIRESTORE_EMULATOR_HOST = where.firestore.host;
  }
  const [host, port] = where.firestore.host?.split(':') ?? [];
  const firestore = new Firestore({
    projectId: where.firestore.projectId,
    ...(host ? { host, port: Number(port), ssl: false } : {}),
  });
  const store = new FirestoreVersionStore({ firestore });
  const sheetsApi = new SheetsApi({ ...(where.sheetsApiUrl ? { rootUrl: where.sheetsApiUrl } : {}), logger });
  const services = {
    sql,
    ...(mysql ? { database: mysql.database } : {}),
    sheetsApi,
    store,
    config,
    source: where.configFile,
  };
  try {
    const link = heldId ? await findHeldLink(services, heldId, linkName) : linkName!;
    return await runSync(services, command, link, {
      dryRun,
      onProgress,
      ...(heldId ? { heldId } : {}),
    });
  } finally {
    await (mysql ? mysql.stop() : sql.end({ timeout: 5 }));
    await firestore.terminate();
  }
}

function summary(r: ReconcileResult): string {
  const verb = r.dryRun ? 'would write' : 'wrote';
  return [
    `${r.rowsCompared} rows compared${r.dryRun ? ' (dry run: nothing changed)' : ''}`,
    `  cells: ${verb} ${r.cellsToDb} to the table, ${r.cellsToSheet} to the sheet; ${r.conflicts} conflicts`,
    `  rows: ${r.rowsInsertedInDb} inserted in the table, ${r.rowsAppendedToSheet} appended to the sheet, ` +
      `${r.rowsDeletedFromDb} deleted from the table, ${r.rowsDeletedFromSheet} deleted from the sheet`,
    `  ids assigned: ${r.idsAssigned}; sheet cells that do not fit their column: ${r.badCells.length}`,
    ...r.held.map(
      (h) =>
        `  ${r.dryRun ? 'would hold' : 'held'} for a person (SHEETSYNC_E420): ${h.reason}; ` +
        `sheetsync approve ${h.id} deletes them, sheetsync discard ${h.id} puts them back`,
    ),
    ...r.deletesRefused
      .slice(0, 10)
      .map(
        (d) =>
          `  kept in the table and put back on the sheet (SHEETSYNC_E412): row ${d.rowId}, key ${JSON.stringify(d.key)}: ${d.message}`,
      ),
    ...(r.deletesRefused.length > 10
      ? [`  … and ${r.deletesRefused.length - 10} more rows the table would not delete`]
      : []),
  ].join('\n');
}

function write(json: boolean | undefined, result: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${human()}\n`);
}

/** A progress bar with rows/s and ETA on stderr (redrawn in place on a terminal). */
export function progressBar(label: string, quiet: boolean) {
  const startedAt = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(done: number, total: number) {
      const t = Date.now();
      if (quiet || (t - last < 250 && done < total)) return;
      last = t;
      const rate = done / Math.max(0.001, (t - startedAt) / 1000);
      const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} rows · ${Math.round(rate)} rows/s · ETA ${eta}s`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
      drawn = true;
    },
    end() {
      if (drawn && process.stderr.isTTY) process.stderr.write('\n');
      drawn = false;
    },
  };
}
