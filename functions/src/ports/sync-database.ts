/**
 * What attach and reconcile need from the database of a link's table, engine-neutral: the
 * PostgreSQL-specific parts they held (a postgres.js cursor, `count(*)::int8`, `CREATE TABLE`
 * with PostgreSQL's types, `sql.begin` around the row reads and writes) behind one interface.
 * Adapters: adapters/table/postgres-sync-database.ts, adapters/mysql/mysql-sync-database.ts;
 * sync-jobs/link-sync-deps.ts picks one for a link's deps.
 *
 * Identifiers come only from the catalog (describe) or, for a table created from a sheet, from
 * its headers turned into column names and quoted by the engine's identifier escaping; values
 * are always parameters.
 */
import type { Cells } from '../core/cell-value.ts';
import type { LinkConfig } from '../wire/config.ts';
import type { RowDelete, RowUpsert, TableSchema, WriteResult } from './table.ts';

/** A column's type as inferred from a sheet's values (attach-from-sheet.ts). */
export type InferredType = 'integer' | 'bigint' | 'numeric' | 'boolean' | 'date' | 'timestamptz' | 'text';

export interface NewTable {
  /** The link's `table`: `schema.table` (PostgreSQL), `database.table` (MySQL), or `table`. */
  name: string;
  columns: ReadonlyArray<{ name: string; type: InferredType }>;
  /**
   * `column`: the named column (all values present and distinct) is the primary key;
   * undefined: an `id` column of database-assigned numbers is added as the key.
   */
  key?: string;
}

export interface SyncDatabase {
  /** The table from the catalog (SHEETSYNC_E250 when it does not exist). */
  describe(name: string, link: Pick<LinkConfig, 'name' | 'key'>): Promise<TableSchema>;
  countRows(table: TableSchema): Promise<number>;
  /**
   * Every row of `table` (its `columns` only) in primary-key order, `chunkRows` at a time, from
   * one read-only snapshot; `onChunk` is awaited before the next chunk is read, so memory stays
   * bounded by a chunk.
   */
  scanRows(table: TableSchema, chunkRows: number, onChunk: (rows: Cells[]) => Promise<void>): Promise<void>;
  /** The rows of `keys` (locked in a transaction of their own): keyId → canonical cells. */
  readRows(table: TableSchema, keys: readonly Cells[]): Promise<Map<string, Cells>>;
  /**
   * Writes sheet values to the table as applyToDb does (origin 'sheet', each change's dot), in
   * one transaction that also records the sync ids of the rows it inserted (row_ids).
   */
  writeFromSheet(
    table: TableSchema,
    link: string,
    upserts: RowUpsert[],
    deletes: RowDelete[],
  ): Promise<WriteResult>;
  /** Creates a table for a sheet's columns (attach from a sheet). */
  createTable(table: NewTable): Promise<void>;

  // The row-id map and the outbox as the restore at start sees them (sync-jobs/restore-link.ts);
  // nothing when sheetsync's tables are not installed.
  /** The recorded keys of sync ids `rowIds` (rowId → key). */
  readRowIds(link: string, rowIds: readonly string[]): Promise<Map<string, Cells>>;
  /** Records sync id → key; `keep` leaves an id already recorded as it is. */
  recordRowIds(
    link: string,
    rows: ReadonlyArray<{ rowId: string; key: Cells }>,
    onConflict: 'update' | 'keep',
  ): Promise<void>;
  /**
   * The largest change id committed so far, read once no transaction writing a watched table
   * is open (0 for an empty outbox), before the table is read.
   */
  outboxWatermark(): Promise<number>;
  /** The keys of `link`'s changes at or below `watermark` still in the outbox. */
  pendingKeys(link: string, watermark: number): Promise<Cells[]>;
}
