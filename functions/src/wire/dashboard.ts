/**
 * The local dashboard's HTTP API (`sheetsync start` serves it; `sheetsync status` and
 * `sheetsync conflicts` call it): the resolve request body and the status report.
 */
import * as v from 'valibot';
import { SheetsyncError } from '../errors.ts';
import { CellValueSchema } from './row-change.ts';

/** POST /api/conflicts/{id}/resolve: take one side's value, or set another one. */
export const ResolveConflictRequest = v.union([
  v.strictObject({ take: v.picklist(['sheet', 'db']) }),
  v.strictObject({ value: CellValueSchema }),
]);
export type ResolveConflictRequest = v.InferOutput<typeof ResolveConflictRequest>;

export function parseResolveConflictRequest(json: unknown): ResolveConflictRequest {
  const result = v.safeParse(ResolveConflictRequest, json);
  if (!result.success) {
    throw new SheetsyncError(
      'SHEETSYNC_E751',
      'A conflict resolution must be {"take": "sheet" | "db"} or {"value": <cell value>}',
      'permanent',
    );
  }
  return result.output;
}

const count = v.pipe(v.number(), v.minValue(0));

/** GET /api/status: what the running stack can tell about itself. */
export const StatusReport = v.object({
  at: v.number(),
  uptimeMs: count,
  links: v.array(v.string()),
  bus: v.picklist(['pubsub-emulator', 'in-process']),
  relay: v.nullable(
    v.object({ active: v.boolean(), lagMs: count, published: count, errors: count, outboxDepth: count }),
  ),
  /** Read from sheetsync.outbox when the report was made; null when PostgreSQL did not answer. */
  outbox: v.nullable(v.object({ rows: count, changes: count, oldestAgeMs: v.nullable(count) })),
  /** Published and not yet acknowledged by the subscriber, since start (per topic). */
  inFlight: v.object({ sheetChanges: count, dbChanges: count }),
  /** Null: the local subscriptions have no dead-letter topic, so nothing can tell this. */
  deadLettered: v.null(),
  openConflicts: count,
  totals: v.object({ sheetToDb: count, dbToSheet: count, redeliveries: count, errors: count }),
  series: v.record(v.string(), v.array(v.number())),
  lastErrors: v.array(v.object({ at: v.number(), message: v.string(), code: v.nullable(v.string()) })),
  /** Mass changes held for a person (core/mass-change.ts: HeldChange), oldest first. */
  held: v.array(
    v.object({
      id: v.string(),
      link: v.string(),
      source: v.picklist(['structure', 'reconcile']),
      side: v.picklist(['db', 'sheet']),
      count,
      total: count,
      reason: v.string(),
      sample: v.array(v.object({ rowId: v.string(), key: v.nullable(v.record(v.string(), v.unknown())) })),
      evidenceTime: v.number(),
      heldAt: v.number(),
      status: v.picklist(['held', 'approved', 'discarded']),
      decidedAt: v.optional(v.number()),
    }),
  ),
});
export type StatusReport = v.InferOutput<typeof StatusReport>;
