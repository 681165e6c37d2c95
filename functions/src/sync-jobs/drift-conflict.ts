/**
 * The conflict record of drift: a cell both sides changed outside the pipeline (reconcile), or
 * that both sides hold differently for a row whose document was lost (restore-plan.ts). Neither
 * change has a dot or a time, so the record holds both values and the policy's winner; its id
 * is a hash of what was found, so finding the same drift again records nothing new.
 */
import { createHash } from 'node:crypto';
import { type CellValue, stableText } from '../core/cell-value.ts';
import type { ConflictRecord } from '../core/conflict-record.ts';

export function driftConflict(
  link: string,
  policy: string,
  rowId: string,
  column: string,
  sheet: CellValue,
  db: CellValue,
  winner: 'sheet' | 'db',
  at: number,
): ConflictRecord {
  const id = createHash('sha256')
    .update(JSON.stringify(['reconcile', rowId, column, stableText(sheet), stableText(db)]))
    .digest('hex')
    .slice(0, 32);
  return {
    id,
    link,
    rowId,
    column,
    reason: 'concurrent',
    policy,
    sheet: { value: sheet, dot: null, time: null },
    db: { value: db, dot: null, time: null },
    outcome: winner,
    value: winner === 'db' ? db : sheet,
    status: policy === 'manual' ? 'open' : 'resolved',
    detectedAt: at,
    resolution: null,
  };
}
