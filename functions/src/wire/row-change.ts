/**
 * The row change: the unit that travels between the two sides (DESIGN.md §2). Changes carry
 * changed cells only, never whole rows, so edits of different cells of one row never conflict.
 *
 * Three shapes share the schema:
 * - a sheet change (webhook → applyToDb): origin `sheet`, the Apps Script's `eventId`, no dot yet
 *   (applyToDb assigns `sheet:n` on first application and remembers it under the event id);
 * - a DB change (outbox → applyToSheet): origin `db`, `outboxId`, dot `db:<outboxId>`;
 * - an echo (outbox → applyToSheet of a write applyToDb made): origin `sheet`, `outboxId`, and the
 *   dot applyToDb set with `SET LOCAL sheetsync.dot`.
 */
import * as v from 'valibot';
import type { CellValue } from '../core/cell-value.ts';

const wholeNumber = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

export const HlcSchema = v.object({ wall: wholeNumber, logical: wholeNumber });

export const CellValueSchema: v.GenericSchema<CellValue> = v.lazy(() =>
  v.union([
    v.null(),
    v.string(),
    v.pipe(v.number(), v.finite()),
    v.boolean(),
    v.array(CellValueSchema),
    v.record(v.string(), CellValueSchema),
  ]),
);

export const DotSchema = v.pipe(
  v.string(),
  v.regex(/^(sheet|db):[1-9][0-9]{0,15}$/, 'a dot is sheet:<n> or db:<n>'),
);

export const RowChangeSchema = v.pipe(
  v.object({
    link: v.pipe(v.string(), v.minLength(1)),
    rowId: v.pipe(v.string(), v.uuid('rowId must be the row’s _sheetsync_id UUID')),
    op: v.picklist(['upsert', 'delete']),
    cells: v.record(v.pipe(v.string(), v.minLength(1)), CellValueSchema),
    origin: v.picklist(['sheet', 'db']),
    dot: v.optional(DotSchema),
    outboxId: v.optional(v.pipe(wholeNumber, v.minValue(1))),
    time: HlcSchema,
    eventId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  }),
  v.check(
    (c) => (c.outboxId === undefined ? c.origin === 'sheet' && c.eventId !== undefined && !c.dot : !!c.dot),
    'a sheet change needs an eventId and no dot; a change from the outbox needs its outboxId and dot',
  ),
  v.check((c) => c.origin !== 'db' || c.dot === `db:${c.outboxId}`, 'a DB change’s dot is db:<outboxId>'),
  v.check((c) => c.origin !== 'sheet' || !c.dot || c.dot.startsWith('sheet:'), 'an echo carries a sheet dot'),
);

export type RowChange = v.InferOutput<typeof RowChangeSchema>;
