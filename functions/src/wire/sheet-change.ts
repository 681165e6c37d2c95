/**
 * The messages on topic `sheetsync-sheet-changes`: row changes as the sheet made them, keyed by
 * header (applyToDb maps headers to the table's columns).
 *
 * Shape and ordering key (a deliberate change of DESIGN.md's "ordering key = link/rowId", like
 * the DB side's, relay/outbox-messages.ts). sheetWebhook splits an event's rows into batch
 * messages `{"changes": [...]}`, one per link and key bucket (a stable hash of the rowId into
 * KEY_BUCKETS buckets per link), split further only to stay under MAX_BATCH_BYTES; ordering key
 * `${link}/b${bucket}` (sheet-webhook/batches.ts). Per-row order still holds: a row always lands
 * in the same bucket, a message lists an event's rows in order, the webhook publishes an event
 * only after the previous one was acked, and Pub/Sub delivers one key's messages in order (the
 * bus adapter runs their handlers one after another). Why: one message per row with its own key
 * made a 500-row paste 500 messages with 500 distinct ordering keys, and Google's Pub/Sub
 * emulator is very slow with many distinct keys (2,000 messages: 245 ms with one key, 3 s with
 * distinct keys), so pastes ran at about 28 rows/s; on Google each message is also billed at
 * least 1 KB and acked on its own. Why not one key per link: a deferred (nacked) message blocks
 * its key's later messages; buckets cap that at 1/KEY_BUCKETS of a link. A redelivered batch
 * repeats its applied changes, which applyToDb drops as duplicates (by event id), so batching
 * costs no idempotency.
 *
 * A single-change body (what earlier webhooks published, ordering key `${link}/${rowId}`) still
 * parses, so messages in flight during an upgrade are applied.
 */
import * as v from 'valibot';
import { fnv1a } from '../core/stable-hash.ts';
import { SheetsyncError } from '../errors.ts';
import { KEY_BUCKETS } from '../relay/outbox-messages.ts';
import { issueText } from './issue-text.ts';
import { SheetCell } from './webhook.ts';

export const SHEET_CHANGES_TOPIC = 'sheetsync-sheet-changes';

export const SheetChangeMessage = v.strictObject({
  v: v.literal(1),
  link: v.string(),
  rowId: v.pipe(v.string(), v.uuid()),
  /**
   * `restore`: the row's id was pasted over (a copy of whole rows put another row's id in its
   * cells), so the row is missing from the sheet without being deleted: its table values go to
   * the sheet again, with its sync id (issue 19).
   */
  op: v.picklist(['upsert', 'delete', 'restore']),
  /** Header → value of the changed cells; empty for a delete. */
  cells: v.record(v.string(), SheetCell),
  /** True when the script just gave the row its id (a typed or pasted new row). */
  isNew: v.boolean(),
  /** A new row pasted as a copy of this row (its id cell came with the paste): not to be linked to its key. */
  copyOf: v.optional(v.pipe(v.string(), v.uuid())),
  /** The Apps Script's event id: a retried event is the same change. */
  eventId: v.pipe(v.string(), v.uuid()),
  /** When the sheet side saw the change, ms since the epoch. */
  time: v.number(),
  /** The row's 1-based position when the event was made (not identity; for messages to people). */
  row: v.optional(v.number()),
  /** Who made the edit, when the script knew (wire/webhook.ts `user`; links[].attribution). */
  user: v.optional(v.pipe(v.string(), v.maxLength(320))),
});
export type SheetChangeMessage = v.InferOutput<typeof SheetChangeMessage>;

/** A message on the topic: changes of one link and key bucket, in the order they must apply. */
export const SheetChangeBatch = v.strictObject({
  changes: v.pipe(v.array(SheetChangeMessage), v.minLength(1)),
});
export type SheetChangeBatch = v.InferOutput<typeof SheetChangeBatch>;

/** The key bucket of a row: a stable hash of `${link}/${rowId}`. */
export function sheetChangeBucket(link: string, rowId: string, buckets: number = KEY_BUCKETS): number {
  return fnv1a(`${link}/${rowId}`) % buckets;
}

/** The ordering key of a row's changes: `${link}/b${bucket}` (see the module comment). */
export function sheetChangeOrderingKey(
  message: Pick<SheetChangeMessage, 'link' | 'rowId'>,
  buckets: number = KEY_BUCKETS,
): string {
  return `${message.link}/b${sheetChangeBucket(message.link, message.rowId, buckets)}`;
}

/**
 * Parses a message body from `sheetsync-sheet-changes` into its changes, in order: a batch
 * (`{"changes": [...]}`) or a single change as earlier webhooks published it. A malformed body is
 * a permanent SHEETSYNC_E310.
 */
export function parseSheetChanges(data: Uint8Array | string): SheetChangeMessage[] {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new SheetsyncError('SHEETSYNC_E310', 'A sheetsync-sheet-changes message is not JSON', 'permanent', {
      cause: error,
    });
  }
  if (json !== null && typeof json === 'object' && 'changes' in json) {
    return validated(SheetChangeBatch, json).changes;
  }
  return [validated(SheetChangeMessage, json)];
}

/** Parses a single-change body (the pre-batch format); a malformed one is SHEETSYNC_E310. */
export function parseSheetChangeMessage(data: Uint8Array | string): SheetChangeMessage {
  const changes = parseSheetChanges(data);
  if (changes.length !== 1) {
    throw new SheetsyncError(
      'SHEETSYNC_E310',
      `A sheetsync-sheet-changes message holds ${changes.length} changes where one was expected`,
      'permanent',
    );
  }
  return changes[0]!;
}

function validated<S extends v.GenericSchema>(schema: S, json: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, json);
  if (!result.success) {
    const issue = result.issues[0];
    throw new SheetsyncError(
      'SHEETSYNC_E310',
      `A sheetsync-sheet-changes message is malformed at ${issueText(issue)}`,
      'permanent',
    );
  }
  return result.output;
}
