/** The shapes applyToDb's parts pass each other (apply-to-db.ts says how a flush goes). */
import type { SheetValue } from '../../core/coercion.ts';
import type { ConflictPolicy } from '../../core/conflict-policy.ts';
import type { ErrorCode } from '../../error-codes.ts';
import type { Logger } from '../../log.ts';
import type { Table } from '../../ports/table.ts';
import type { VersionStore } from '../../ports.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';

export interface SheetDelivery {
  /** The changes of one message, in order (wire/sheet-change.ts parseSheetChanges). */
  message: SheetChangeMessage[];
  /** Pub/Sub delivery attempt, 1 the first time. */
  attempt: number;
}

/** A problem with one row or cell, for the people editing the sheet (never retried). */
export interface RowProblem {
  link: string;
  rowId: string;
  row?: number | undefined;
  column?: string;
  value?: SheetValue;
  code: ErrorCode;
  /** For the errors tab: it may quote the value (the sheet's readers see it anyway); never logged. */
  message: string;
  /** PostgreSQL's SQLSTATE, for a row the database refused. */
  sqlState?: string;
  /** When the change was made in the sheet, ms since the epoch. */
  time?: number;
}

/** A link as applyToDb sees it: its table, conflict policy, the columns it syncs (default: all). */
export interface DbLink {
  table: string;
  policy: ConflictPolicy;
  columns?: readonly string[];
  key?: readonly string[];
  /** A header the table lacks becomes a table column (apply-to-db/missing-columns.ts). */
  addMissingColumns?: boolean;
  /** The table column each sheet change writes its editor's email to (links[].attribution). */
  attribution?: { column: string };
}

export interface ApplyToDbDeps {
  /** The database of the links' tables (Table port). */
  table: Table;
  store: VersionStore;
  /** link name → its table, conflict policy, and the columns it syncs (default: all). */
  links: Map<string, DbLink>;
  logger: Logger;
  now?: () => number;
  /**
   * Where per-cell and per-row problems go (the sheet's errors tab), once per flush; every
   * problem is also logged. A rejection is logged and does not fail the flush.
   */
  reportProblems?: (problems: RowProblem[]) => Promise<void>;
  /**
   * Where the flush's cell marks go (refused cells marked, marks of cells that synced cleared:
   * adapters/sheets/cell-marker.ts), once per flush beside `reportProblems`. A rejection is
   * logged (SHEETSYNC_E431) and does not fail the flush.
   */
  markCells?: (marks: LinkCellMark[]) => Promise<void>;
  /**
   * Rewrites the `_sheetsync_conflicts` tab of the links' spreadsheets (sync-jobs/show-conflicts.ts),
   * after a flush that recorded conflicts or applied a resolution. A rejection is logged
   * (SHEETSYNC_E432) and does not fail the flush.
   */
  showConflicts?: (links: string[]) => Promise<void>;
  /**
   * Version-store write calls (createRows, commitRows) in flight at once, across flushes.
   * Default STORE_CONCURRENCY (flush-kernel.ts commitDocuments says why).
   */
  storeConcurrency?: number;
}

/** A cell of a link's tab to mark (with a note) or clear (without), by sync id and header (marks.ts). */
export interface LinkCellMark {
  link: string;
  rowId: string;
  column: string;
  note?: string;
}
