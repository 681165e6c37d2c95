/**
 * One attach or reconcile of one link, wherever it runs: in the `sheetsync` CLI process (its own
 * connections) or inside a running `npm start` (its dashboard's /api/attach and /api/reconcile,
 * for the in-process version store that only that process holds). Both run the same checks and
 * return the same result, so the command prints the same output either way.
 */
import type postgres from 'postgres';
import { heldChangeNotOpen } from '../../functions/src/adapters/held-change-errors.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import type { SyncDatabase } from '../../functions/src/ports/sync-database.ts';
import type { VersionStore } from '../../functions/src/ports.ts';
import { type AttachResult, attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { type DecidedChange, decideHeld } from '../../functions/src/sync-jobs/held-decisions.ts';
import { type ReconcileResult, reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import type { LinkConfig, SheetsyncConfig } from '../../functions/src/wire/config.ts';
import { checkLinks, LinkCheckError, type LinkServices } from './links.ts';

/** attach, reconcile, and a person's decision on a held change (which runs reconcile). */
export type SyncCommand = 'attach' | 'reconcile' | 'approve' | 'discard';
export type SyncResult = AttachResult | ReconcileResult | DecidedChange;

export interface SyncServices {
  sql: postgres.Sql;
  /** MySQL: the link tables' database (ports/sync-database.ts); PostgreSQL's on `sql` otherwise. */
  database?: SyncDatabase;
  sheetsApi: SheetsApi;
  store: VersionStore;
  config: SheetsyncConfig;
  /** Where the config came from (a file name), for messages. */
  source: string;
}

/** The link named `name` and its index in the config; SHEETSYNC_E101 naming the links there are. */
export function findLink(
  config: SheetsyncConfig,
  name: string,
  source: string,
): { link: LinkConfig; index: number } {
  const index = config.links.findIndex((l) => l.name === name);
  const link = config.links[index];
  if (!link) {
    throw new SheetsyncError(
      'SHEETSYNC_E101',
      `no link named "${name}" in ${source} (it has ${config.links.map((l) => `"${l.name}"`).join(', ')})`,
    );
  }
  return { link, index };
}

/**
 * The link holding held change `id` (`linkName` when given), or SHEETSYNC_E421 naming where it
 * was looked for.
 */
export async function findHeldLink(services: SyncServices, id: string, linkName?: string): Promise<string> {
  const names = linkName ? [linkName] : services.config.links.map((l) => l.name);
  for (const name of names) if (await services.store.heldChange(name, id)) return name;
  throw heldChangeNotOpen(names.join(', '), id, undefined);
}

export async function runSync(
  services: SyncServices,
  command: SyncCommand,
  linkName: string,
  options: { dryRun: boolean; heldId?: string; onProgress?: (done: number, total: number) => void },
): Promise<SyncResult> {
  const { sql, database, sheetsApi, store, source } = services;
  const { link, index } = findLink(services.config, linkName, source);
  await checkLink(command, { sql, sheetsApi, ...(database ? { database } : {}) }, link, index, source);
  const deps = {
    sql,
    ...(database ? { database } : {}),
    sheetsApi,
    store,
    link,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  try {
    if (command === 'reconcile') return await reconcileLink({ ...deps, dryRun: options.dryRun });
    if (command === 'approve' || command === 'discard')
      return await decideHeld({ ...deps, id: options.heldId ?? '', decision: command });
    return await attachLink(deps).catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'SHEETSYNC_E250') throw error;
      // Both sides empty of it: no table, and no sheet rows to create one from.
      throw new LinkCheckError(source, [
        {
          field: `links[${index}].table`,
          code: 'SHEETSYNC_E250',
          message: `link "${link.name}": ${(error as Error).message}; the tab holds no rows to create it from`,
        },
      ]);
    });
  } finally {
    // The sheet changed behind applyToSheet's kept snapshot (rows appended, deleted, cells
    // written): make it read the tab again, as the webhook does for a person's edits.
    if (!(command === 'reconcile' && options.dryRun)) await store.bumpSheetEpoch(link.name).catch(() => {});
  }
}

/**
 * The start-up checks of `sheetsync start` (links.ts) for the one link a command works on, so a
 * wrong table or tab stops it with a message naming the field (`links[i].table`,
 * `links[i].sheet`). attach creates a missing table from the sheet, so for attach only a table
 * without a primary key is a table problem.
 */
async function checkLink(
  command: SyncCommand,
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
      .filter((p) => command !== 'attach' || p.code !== 'SHEETSYNC_E250')
      .map((p) => ({ ...p, field: p.field.replace(/^links\[0\]/, `links[${index}]`) }));
    if (problems.length > 0) throw new LinkCheckError(source, problems);
  }
}
