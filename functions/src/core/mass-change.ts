/**
 * The mass-change guard (DESIGN.md §2, "Nothing wiped"). Position and presence on the sheet are
 * evidence, not commands: one event, statement or run that would delete more than a link's
 * threshold of rows is held until a person approves it, and discarding it puts the rows back on
 * the side that lost them. Airbyte once read an API error as "zero rows" and emptied its users'
 * destinations; a sync product must never turn one slip into a wiped table.
 *
 * Pure: the callers (the webhook for structure events, reconcile and attach for their runs) count
 * what would go and keep the held change in the version store (HeldChangeStore).
 */
import { createHash } from 'node:crypto';
import type { Cells } from './cell-value.ts';

/** A link's thresholds (`links[].safety`). */
export interface SafetyLimits {
  /** Hold a change that deletes more than this many rows … */
  maxDeleteRows: number;
  /** … and more than this share (0-1) of the link's live rows. */
  maxDeleteShare: number;
}

/** More than 20 rows and more than 10% of them (DESIGN.md §2). */
export const DEFAULT_SAFETY: SafetyLimits = { maxDeleteRows: 20, maxDeleteShare: 0.1 };

/**
 * Whether deleting `deletes` of a link's `total` live rows must wait for a person. Both limits
 * must be passed: a big tab loses a few rows every day, and a tiny one may lose most of its rows
 * to one deliberate delete.
 */
export function exceedsSafety(deletes: number, total: number, limits: SafetyLimits): boolean {
  return deletes > limits.maxDeleteRows && deletes > limits.maxDeleteShare * Math.max(total, deletes);
}

/** What produced a held change. */
export type HeldSource =
  /** A `structure` event: rows missing from the sheet's id column. */
  | 'structure'
  /** A reconcile run (or an attach of a link whose two sides both hold rows). */
  | 'reconcile';

/** The side whose rows would be deleted: `db` (table rows the sheet lost) or `sheet`. */
export type HeldSide = 'db' | 'sheet';

export type HeldStatus = 'held' | 'approved' | 'discarded';

/** A few of a held change's rows, to show people what would go. */
export interface HeldSample {
  rowId: string;
  key: Cells | null;
}

/** A change held by the guard (`sheetsync status`, the dashboard, `sheetsync approve|discard`). */
export interface HeldChange {
  /** Stable for the change that produced it, so a retried event or run holds it once. */
  id: string;
  link: string;
  source: HeldSource;
  side: HeldSide;
  /** Rows it would delete. */
  count: number;
  /** The link's live rows when it was held. */
  total: number;
  /** Why it was held, for people. */
  reason: string;
  sample: HeldSample[];
  /** When the evidence was read (a structure event's time): later rows are not its to delete. */
  evidenceTime: number;
  heldAt: number;
  status: HeldStatus;
  decidedAt?: number;
}

/** Rows listed in a held change's sample. */
export const HELD_SAMPLE_SIZE = 10;

/**
 * A held change's id: the link, its source and what produced it (a structure event's id, a
 * reconcile run's row set), hashed so it is short and safe in a document path.
 */
export function heldChangeId(link: string, source: HeldSource, origin: string): string {
  return `h${createHash('sha256').update(`${link}\u0000${source}\u0000${origin}`).digest('hex').slice(0, 15)}`;
}

/** The origin of a run's held change: its sorted row ids, so the same drift is held once. */
export function rowSetOrigin(side: HeldSide, rowIds: Iterable<string>): string {
  return `${side}:${[...rowIds].sort().join(',')}`;
}
