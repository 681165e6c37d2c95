/**
 * The Table port: what the functions need from the database a link syncs, engine-neutral.
 * Adapters: adapters/table/postgres-table.ts (PostgreSQL); a MySQL one implements it too.
 *
 * Identifiers come only from the catalog (describe), never from sheet text; values are always
 * parameters. Every write of a sheet change runs in a sheet transaction, whose writes the
 * engine's capture records with origin 'sheet' and the statement's dot, so applyToSheet
 * recognises their echoes (docs/design/apply-functions.md).
 */
import type { Cells } from '../core/cell-value.ts';
import type { ErrorCode } from '../error-codes.ts';

export interface TableColumn {
  name: string;
  /** The engine's full type, e.g. `integer`, `numeric(10,2)`, `text[]`, `timestamp with time zone`. */
  type: string;
  /** The base type's name (for arrays, the element's), e.g. `int4`, `timestamptz`. */
  baseType: string;
  isArray: boolean;
  nullable: boolean;
  /** True when an INSERT may leave it out: a default, identity or generated value exists. */
  hasDefault: boolean;
  /** Generated columns cannot be written. */
  generated: boolean;
}

export interface TableSchema {
  schema: string;
  name: string;
  /** The table's name quoted for messages (SQL uses the driver's identifier escaping). */
  qualified: string;
  columns: TableColumn[];
  primaryKey: string[];
  /**
   * The columns a row new to the table is matched on (a link's `key`: a unique, not-null column
   * set the sheet shows, when the primary key is a number people never see). A new sheet row
   * whose key the table holds updates that row instead of adding another. Default: the primary
   * key. Row identity inside sheetsync stays the primary key.
   */
  matchKey?: string[];
}

export type Key = Record<string, unknown>;

export interface RowUpsert {
  rowId: string;
  /** The change's dot, recorded by the capture so applyToSheet recognises the echo. */
  dot: string;
  /** The row's key as sheetsync last synced it, or undefined for a row new to the table. */
  key: Key | undefined;
  /** Column → value, already coerced to a JSON value the engine casts to the column's type. */
  cells: Record<string, unknown>;
}

export interface RowDelete {
  rowId: string;
  dot: string;
  key: Key;
}

/** How a row the table refused is reported: E409 its values, E413 a privilege, E414 the engine. */
export type RowRefusalCode = Extract<ErrorCode, 'SHEETSYNC_E409' | 'SHEETSYNC_E413' | 'SHEETSYNC_E414'>;

export interface RowError {
  rowId: string;
  /** What the database refused: writing the row's values, or deleting it. */
  op: 'upsert' | 'delete';
  /** The engine's SQLSTATE, e.g. 23505 unique violation, 23502 not null, 22P02 invalid text. */
  sqlState: string;
  /** The problem code it is reported with. */
  code: RowRefusalCode;
  message: string;
  column?: string;
}

export interface WriteResult {
  /** rowId → the row's key after the write (new rows get their DB-assigned key here). */
  keys: Map<string, Key>;
  /** rowIds of rows that no longer exist (deleted now, or already gone). */
  deleted: Set<string>;
  errors: RowError[];
}

/** The database of the links' tables. */
export interface Table {
  /**
   * The table `name` (`schema.table`, or `table` in the default schema) from the catalog, with
   * the link's `key` as its match key (SHEETSYNC_E111 when `key` is no unique key).
   */
  describe(name: string, link: { name: string; key?: readonly string[] | undefined }): Promise<TableSchema>;
  /**
   * Runs `fn` in one transaction whose writes are recorded with origin 'sheet'. `immediate`:
   * every constraint is checked per statement, so a row a deferred constraint refuses fails its
   * own statement instead of the commit.
   */
  inSheetTransaction<T>(
    fn: (tx: SheetTransaction) => Promise<T>,
    options?: { immediate?: boolean },
  ): Promise<T>;
  /**
   * Whether an error that failed a whole transaction is one row's refusal (a deferred
   * constraint at commit), not a transient fault: the transaction is then run `immediate`.
   */
  isRowRefusal(error: unknown): boolean;
  /** Whether an error means the table is not what it was described as (dropped, renamed, altered). */
  isTableChanged(error: unknown): boolean;
  /**
   * Adds `columns` the table lacks (a link's `addMissingColumns`): names checked by the caller
   * (apply-to-db/missing-columns.ts SAFE_COLUMN_NAME) and quoted, types from a fixed list. An
   * engine without it leaves new headers reported (SHEETSYNC_E408).
   */
  addColumns?(
    table: TableSchema,
    columns: ReadonlyArray<{ name: string; type: 'text' | 'numeric' | 'boolean' }>,
  ): Promise<void>;
}

/** What a sheet transaction does. */
export interface SheetTransaction {
  /** Locks the rows of `keys` and reads them, by keyId (core/key-id.ts); absent rows are left out. */
  readForUpdate(table: TableSchema, keys: readonly Cells[]): Promise<Map<string, Cells>>;
  /**
   * Upserts and deletes, set-based; a row the table refuses is reported in `errors` and the
   * others apply. A transient fault rejects (the transaction fails whole).
   */
  write(table: TableSchema, upserts: RowUpsert[], deletes: RowDelete[]): Promise<WriteResult>;
  /** The keys of rows sheetsync inserted for sync ids `rowIds` of `link` (its row id map). */
  insertedKeys(link: string, rowIds: readonly string[]): Promise<Map<string, Cells>>;
  /** Records sync id → key of rows just inserted. */
  recordRowIds(link: string, rows: ReadonlyArray<{ rowId: string; key: Key }>): Promise<void>;
  /** Forgets the sync ids of rows just deleted. */
  forgetRowIds(link: string, rowIds: readonly string[]): Promise<void>;
  /** Records the rows of `keys` as inserted once more (their delete was refused: back to the sheet). */
  restore(table: TableSchema, keys: readonly Key[]): Promise<void>;
  /** Records `columns` of the rows of `keys` as changed once more (kept DB values, to the sheet). */
  reshow(table: TableSchema, keys: readonly unknown[], columns: readonly string[]): Promise<void>;
}
