/**
 * The body the Apps Script (apps-script/) POSTs to sheetWebhook. Signed with HMAC-SHA256 over
 * `timestamp + "." + body` (see functions/src/handlers/sheet-webhook/signature.ts).
 */
import * as v from 'valibot';

const uuid = v.pipe(v.string(), v.uuid('must be a UUID'));

/** A cell as the script reads it: Dates arrive already formatted as ISO text. */
export const SheetCell = v.union([v.string(), v.number(), v.boolean(), v.null()]);
export type SheetCell = v.InferOutput<typeof SheetCell>;

export const WebhookRow = v.strictObject({
  /** The row's `_sheetsync_id`. */
  rowId: uuid,
  /** 1-based row number when the event was made; informational only (position is not identity). */
  row: v.pipe(v.number(), v.integer(), v.minValue(2)),
  /** True when the script just assigned the id: the row is new to sheetsync (typed or pasted). */
  isNew: v.boolean(),
  /**
   * Set on a new row whose id cell was pasted from another row (a copy of whole rows carries the
   * hidden id column): that row's sync id. The copy is a row of its own (issue 19).
   */
  copyOf: v.optional(uuid),
  /** Header → value, for the edited columns (every column for a new row). */
  cells: v.record(v.string(), SheetCell),
});
export type WebhookRow = v.InferOutput<typeof WebhookRow>;

const common = {
  v: v.literal(1),
  /** Made by the script for each event; a retry of the same event keeps it. */
  eventId: uuid,
  spreadsheetId: v.pipe(v.string(), v.minLength(1)),
  sheet: v.pipe(v.string(), v.minLength(1)),
  sheetId: v.pipe(v.number(), v.integer()),
  headers: v.pipe(v.array(v.string()), v.maxLength(18_278)),
  /** When the script saw the change, ms since the epoch (the sheet side's clock). */
  time: v.pipe(v.number(), v.integer(), v.minValue(0)),
};

export const WebhookBody = v.variant('kind', [
  v.strictObject({
    ...common,
    kind: v.literal('edit'),
    rows: v.pipe(v.array(WebhookRow), v.minLength(1)),
    /**
     * The editing person's email (`e.user.getEmail()`), when Apps Script gives it: only for
     * users of the owner's Workspace domain; absent otherwise. For links[].attribution.
     */
    user: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(320))),
    /**
     * Set by scripts that follow a `reidentify` answer (sheet-webhook/reidentify.ts): rows sorted
     * without their ids are then re-identified instead of applied as edits.
     */
    canReidentify: v.optional(v.boolean()),
    /**
     * Set on the parts of an edit the script split (too many characters for one request) that
     * may be a sort: `index` of `count` parts of `group`. A part of a sort is re-identified
     * against rows of the other parts too; the script writes the ids only once every part's
     * answer is in and together they are a permutation.
     */
    part: v.optional(
      v.strictObject({
        group: uuid,
        index: v.pipe(v.number(), v.integer(), v.minValue(0)),
        count: v.pipe(v.number(), v.integer(), v.minValue(2)),
      }),
    ),
  }),
  v.strictObject({
    ...common,
    kind: v.literal('structure'),
    changeType: v.string(),
    /** Every sync id present in the tab after the change: rows missing from it were deleted. */
    ids: v.array(uuid),
    /**
     * Set when a big tab's ids come in 16 events: `ids` then lists the ids present that start
     * with this hex digit, and only rows whose id does are looked at.
     */
    idPrefix: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]$/, 'one lower-case hex digit'))),
    /**
     * Rows of the tab that hold data but no valid sync id (the hidden id column was deleted or
     * cleared): while there are any, a missing id is no evidence of a deleted row, and the
     * webhook holds the deletes for a person (core/mass-change.ts).
     */
    unidentified: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  }),
  v.strictObject({ ...common, kind: v.literal('headers') }),
  /**
   * Rows or columns moved without a data change (empty rows inserted): nothing to publish, but
   * the row positions applyToSheet keeps are stale (the webhook bumps the link's sheet epoch).
   */
  v.strictObject({ ...common, kind: v.literal('layout'), changeType: v.string() }),
  /**
   * A person's choice in the `_sheetsync_conflicts` tab (issue 22 item 3): resolves open conflict
   * `conflictId` of link `link` (one of this spreadsheet's) as `sheetsync conflicts resolve
   * --take` does (sync-jobs/resolve-conflict.ts). `sheet` is the conflicts tab's title.
   */
  v.strictObject({
    ...common,
    kind: v.literal('resolve'),
    link: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    conflictId: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/, 'a conflict id: 32 lower-case hex digits')),
    take: v.picklist(['sheet', 'db']),
  }),
]);
export type WebhookBody = v.InferOutput<typeof WebhookBody>;
