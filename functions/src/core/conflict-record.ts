/**
 * Conflict records: every conflict, resolved automatically or not, keeps both values, both dots
 * and the policy applied, so no losing value is silently dropped. `manual` conflicts, and those
 * decided without seeing the DB change's metadata, stay open until a person resolves them.
 */
import { createHash } from 'node:crypto';
import type { CellValue } from './cell-value.ts';
import type { Hlc } from './hlc.ts';

export type ConflictReason =
  /** Both sides changed the cell and neither change had seen the other. */
  | 'concurrent'
  /** The DB value differs from any change sheetsync has seen and could not be waited for. */
  | 'unobserved'
  /** One side deleted the row while the other changed it; the delete wins. */
  | 'deleted';

export interface ConflictRecordSide {
  value: CellValue;
  /** Null when the change is known only by its value (reason `unobserved` or `deleted`). */
  dot: string | null;
  time: Hlc | null;
}

export interface ConflictRecord {
  /** Deterministic, so deciding a redelivered change again writes the same record. */
  id: string;
  link: string;
  rowId: string;
  column: string;
  reason: ConflictReason;
  policy: string;
  sheet: ConflictRecordSide;
  db: ConflictRecordSide;
  /** The side whose value won, or `custom` for a value a resolver computed. */
  outcome: 'sheet' | 'db' | 'custom';
  /** The value both sides converge to. */
  value: CellValue;
  status: 'open' | 'resolved';
  detectedAt: number;
  resolution: { choice: 'sheet' | 'db' | 'custom'; value: CellValue; at: number } | null;
}

export function conflictId(
  rowId: string,
  column: string,
  sheetDot: string | null,
  dbDot: string | null,
): string {
  return createHash('sha256')
    .update(JSON.stringify([rowId, column, sheetDot, dbDot]))
    .digest('hex')
    .slice(0, 32);
}
