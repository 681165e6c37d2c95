/**
 * What attach, attach-from-sheet, reconcile and the held-change decisions share: the services a
 * link's sync runs with, and the columns it syncs. A module of its own so that they need not
 * import each other for it (attach calls reconcile, which would otherwise import attach back).
 */
import type postgres from 'postgres';
import type { SheetsApi } from '../adapters/sheets/sheets-api.ts';
import { postgresSyncDatabase } from '../adapters/table/postgres-sync-database.ts';
import type { TableSchema } from '../adapters/table/table-schema.ts';
import type { Logger } from '../log.ts';
import type { SyncDatabase } from '../ports/sync-database.ts';
import type { VersionStore } from '../ports.ts';
import type { LinkConfig } from '../wire/config.ts';

/** The services and settings of one link's attach or reconcile. */
export interface SyncDeps {
  /** PostgreSQL: the link's database (and, without `database`, what attach and reconcile use). */
  sql: postgres.Sql;
  /**
   * The link's table's database for attach and reconcile (ports/sync-database.ts): MySQL's
   * (adapters/mysql/mysql-sync-database.ts). Default: PostgreSQL's on `sql`.
   */
  database?: SyncDatabase;
  sheetsApi: SheetsApi;
  store: VersionStore;
  link: LinkConfig;
  /** Where held mass deletes are reported (SHEETSYNC_E420). */
  logger?: Logger;
  /** Called as rows are done: (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Rows per cursor fetch and per sheet write. Default 4000. */
  chunkRows?: number;
  now?: () => number;
}

/** The columns a link syncs, in table order. */
export function linkColumns(link: LinkConfig, table: TableSchema) {
  const wanted = link.columns ? new Set([...link.columns, ...table.primaryKey]) : undefined;
  return table.columns.filter((c) => !wanted || wanted.has(c.name));
}

/** The database attach and reconcile read and write the link's table through. */
export function syncDatabase(deps: Pick<SyncDeps, 'sql' | 'database'>): SyncDatabase {
  return deps.database ?? postgresSyncDatabase(deps.sql);
}
