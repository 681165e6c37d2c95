/**
 * The message on topic `sheetsync-sheet-changes`: one row's change as the sheet made it, keyed
 * by header (applyToDb maps headers to the table's columns). Ordering key: `${link}/${rowId}`.
 */
import * as v from 'valibot';
import { SheetsyncError } from '../errors.ts';
import { SheetCell } from './webhook.ts';

export const SHEET_CHANGES_TOPIC = 'sheetsync-sheet-changes';

export const SheetChangeMessage = v.strictObject({
  v: v.literal(1),
  link: v.string(),
  rowId: v.pipe(v.string(), v.uuid()),
  op: v.picklist(['upsert', 'delete']),
  /** Header → value of the changed cells; empty for a delete. */
  cells: v.record(v.string(), SheetCell),
  /** True when the script just gave the row its id (a typed or pasted new row). */
  isNew: v.boolean(),
  /** The Apps Script's event id: a retried event is the same change. */
  eventId: v.pipe(v.string(), v.uuid()),
  /** When the sheet side saw the change, ms since the epoch. */
  time: v.number(),
  /** The row's 1-based position when the event was made (not identity; for messages to people). */
  row: v.optional(v.number()),
});
export type SheetChangeMessage = v.InferOutput<typeof SheetChangeMessage>;

export function sheetChangeOrderingKey(message: Pick<SheetChangeMessage, 'link' | 'rowId'>): string {
  return `${message.link}/${message.rowId}`;
}

/** Parses a message body from `sheetsync-sheet-changes`; a malformed one is SHEETSYNC_E310. */
export function parseSheetChangeMessage(data: Uint8Array | string): SheetChangeMessage {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new SheetsyncError('SHEETSYNC_E310', 'A sheetsync-sheet-changes message is not JSON', 'permanent', {
      cause: error,
    });
  }
  const result = v.safeParse(SheetChangeMessage, json);
  if (!result.success) {
    const issue = result.issues[0];
    throw new SheetsyncError(
      'SHEETSYNC_E310',
      `A sheetsync-sheet-changes message is malformed at ${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`,
      'permanent',
    );
  }
  return result.output;
}
