/**
 * From an event's row changes to the batch messages sheetWebhook publishes (wire/sheet-change.ts
 * explains the shape and why): one message per link and key bucket, split further only to stay
 * under MAX_BATCH_BYTES (the DB side's cap, relay/outbox-messages.ts); ordering key
 * `${link}/b${bucket}`. A bucket's changes keep the event's order. Pure: no I/O.
 */
import { chunkBySize } from '../../core/chunk-by-size.ts';
import { KEY_BUCKETS, MAX_BATCH_BYTES } from '../../relay/outbox-messages.ts';
import {
  type SheetChangeBatch,
  type SheetChangeMessage,
  sheetChangeOrderingKey,
} from '../../wire/sheet-change.ts';

export interface SheetBatchMessage {
  data: SheetChangeBatch;
  orderingKey: string;
}

export function sheetChangesToBatches(
  changes: readonly SheetChangeMessage[],
  options: { buckets?: number; maxBytes?: number } = {},
): SheetBatchMessage[] {
  const buckets = options.buckets ?? KEY_BUCKETS;
  const maxBytes = options.maxBytes ?? MAX_BATCH_BYTES;
  const groups = new Map<string, SheetChangeMessage[]>();
  for (const change of changes) {
    const key = sheetChangeOrderingKey(change, buckets);
    const group = groups.get(key);
    if (group) group.push(change);
    else groups.set(key, [change]);
  }
  const messages: SheetBatchMessage[] = [];
  for (const [orderingKey, group] of groups) {
    const parts = chunkBySize(group, {
      sizeOf: (change) => Buffer.byteLength(JSON.stringify(change)) + 1,
      maxSize: maxBytes,
      // `{"changes":[` + `]}`; the comma between changes is in each change's size.
      overhead: 14,
    });
    for (const part of parts) messages.push({ data: { changes: part }, orderingKey });
  }
  return messages;
}
