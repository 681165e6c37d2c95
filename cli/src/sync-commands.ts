/**
 * `sheetsync attach` and `sheetsync reconcile` as commands: where the services are, the progress
 * bar, human or JSON output and the exit code.
 *
 * Services: the links config (`--config`, else SHEETSYNC_CONFIG), DATABASE_URL, the Sheets API
 * root (SHEETSYNC_SHEETS_API_URL; both default to `.sheetsync/local.json` of `npm start`) and
 * Firestore (FIRESTORE_EMULATOR_HOST or Google's, project GOOGLE_CLOUD_PROJECT).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Firestore } from '@google-cloud/firestore';
import postgres from 'postgres';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { loadConfigFile } from '../../functions/src/config.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import { createLogger } from '../../functions/src/log.ts';
import type { LinkConfig } from '../../functions/src/wire/config.ts';
import { attachLink } from './attach.ts';
import { checkLinks, LinkCheckError, type LinkServices } from './links.ts';
import { driftFound, reconcileLink } from './reconcile.ts';

export const SYNC_USAGE = `  attach       the first sync of a link: fills an empty sheet from the table, or an empty (or
               missing) table from the sheet; reconciles when both hold rows
               --link NAME  [--config FILE]  [--json]
  reconcile    compares sheet and table by sync id and repairs drift, with a summary
               --link NAME  [--config FILE]  [--dry-run]  [--json]
               exit code 3 with --dry-run when drift was found
  (attach and reconcile read DATABASE_URL, SHEETSYNC_SHEETS_API_URL, FIRESTORE_EMULATOR_HOST
   and GOOGLE_CLOUD_PROJECT; the first two default to .sheetsync/local.json of npm start)
`;

export async function runSyncCommand(command: 'attach' | 'reconcile', args: string[]): Promise<number> {
  let values: { link?: string; config?: string; json?: boolean; 'dry-run'?: boolean };
  try {
    values = parseArgs({
      args,
      options: {
        link: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`sheetsync ${command}: ${(error as Error).message}\n\n${SYNC_USAGE}`);
    return 2;
  }
  const configFile = values.config ?? process.env.SHEETSYNC_CONFIG;
  if (command === 'attach' && values['dry-run']) {
    process.stderr.write(`sheetsync attach: --dry-run is an option of reconcile\n\n${SYNC_USAGE}`);
    return 2;
  }
  if (!values.link || !configFile) {
    process.stderr.write(
      `sheetsync ${command}: --link and --config (or SHEETSYNC_CONFIG) are required\n\n${SYNC_USAGE}`,
    );
    return 2;
  }
  const config = loadConfigFile(configFile);
  const index = config.links.findIndex((l) => l.name === values.link);
  const link = config.links[index];
  if (!link) {
    throw new SheetsyncError(
      'SHEETSYNC_E101',
      `no link named "${values.link}" in ${configFile} (it has ${config.links.map((l) => `"${l.name}"`).join(', ')})`,
    );
  }
  const local = existsSync('.sheetsync/local.json')
    ? (JSON.parse(readFileSync('.sheetsync/local.json', 'utf8')) as Record<string, string>)
    : {};
  const databaseUrl = process.env.DATABASE_URL ?? local.databaseUrl;
  const sheetsApiUrl = process.env.SHEETSYNC_SHEETS_API_URL ?? local.sheetsApiUrl;
  if (!databaseUrl) throw new SheetsyncError('SHEETSYNC_E101', 'DATABASE_URL is not set');
  const logger = createLogger({ level: 'WARNING' } as never);
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  const firestore = new Firestore({ projectId: process.env.GOOGLE_CLOUD_PROJECT ?? 'sheetsync-local' });
  const store = new FirestoreVersionStore({ firestore });
  const sheetsApi = new SheetsApi({ ...(sheetsApiUrl ? { rootUrl: sheetsApiUrl } : {}), logger });
  const bar = progressBar(command, values.json === true);
  try {
    await checkLink(command, { sql, sheetsApi }, link, index, configFile);
    const deps = { sql, sheetsApi, store, link, onProgress: bar.update };
    if (command === 'attach') {
      const result = await attachLink(deps).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'SHEETSYNC_E250') throw error;
        // Both sides empty of it: no table, and no sheet rows to create one from.
        throw new LinkCheckError(configFile, [
          {
            field: `links[${index}].table`,
            code: 'SHEETSYNC_E250',
            message: `link "${link.name}": ${(error as Error).message}; the tab holds no rows to create it from`,
          },
        ]);
      });
      bar.end();
      write(values.json, result, () => {
        if (result.mode === 'table-to-sheet')
          return `attached ${link.name}: ${result.rows} rows copied from the table to the sheet`;
        if (result.mode === 'sheet-to-table')
          return `attached ${link.name}: ${result.rows} rows copied from the sheet to the table${result.createdTable ? ' (table created)' : ''}, ${result.idsAssigned} ids assigned`;
        if (result.mode === 'nothing') return `attached ${link.name}: both sides are empty`;
        return `attached ${link.name}: both sides hold rows; reconciled\n${summary(result.reconcile)}`;
      });
      return 0;
    }
    const dryRun = values['dry-run'] === true;
    const result = await reconcileLink({ ...deps, dryRun });
    bar.end();
    write(values.json, result, () => summary(result));
    return dryRun && driftFound(result) ? 3 : 0;
  } finally {
    bar.end();
    await sql.end({ timeout: 5 });
    await firestore.terminate();
  }
}

/**
 * The start-up checks of `sheetsync start` (links.ts) for the one link a command works on, so a
 * wrong table or tab stops it with a message naming the field (`links[i].table`,
 * `links[i].sheet`). attach creates a missing table from the sheet, so for attach only a table
 * without a primary key is a table problem.
 */
async function checkLink(
  command: 'attach' | 'reconcile',
  services: LinkServices,
  link: LinkConfig,
  index: number,
  source: string,
): Promise<void> {
  try {
    await checkLinks({ links: [link] }, services, source);
  } catch (error) {
    if (!(error instanceof LinkCheckError)) throw error;
    const problems = error.problems
      .filter((p) => command === 'reconcile' || p.code !== 'SHEETSYNC_E250')
      .map((p) => ({ ...p, field: p.field.replace(/^links\[0\]/, `links[${index}]`) }));
    if (problems.length > 0) throw new LinkCheckError(source, problems);
  }
}

function summary(r: Awaited<ReturnType<typeof reconcileLink>>): string {
  const verb = r.dryRun ? 'would write' : 'wrote';
  return [
    `${r.rowsCompared} rows compared${r.dryRun ? ' (dry run: nothing changed)' : ''}`,
    `  cells: ${verb} ${r.cellsToDb} to the table, ${r.cellsToSheet} to the sheet; ${r.conflicts} conflicts`,
    `  rows: ${r.rowsInsertedInDb} inserted in the table, ${r.rowsAppendedToSheet} appended to the sheet, ` +
      `${r.rowsDeletedFromDb} deleted from the table, ${r.rowsDeletedFromSheet} deleted from the sheet`,
    `  ids assigned: ${r.idsAssigned}; sheet cells that do not fit their column: ${r.badCells.length}`,
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
