/**
 * From outbox rows (one statement's chunk of changes, sql/install.sql) to bus messages. Pure: no
 * I/O, no clock.
 *
 * Message shape and ordering keys (a deliberate change of DESIGN.md's "ordering key = link +
 * primary key" for the DB side; changesToBusMessages). A relay batch's changes are grouped by
 * link and key bucket (a stable hash of the row's key, KEY_BUCKETS per link) into batch messages
 * (wire/db-change.ts DbChangeBatch), ordering key `${link}/b${bucket}`. Per-row order still
 * holds: every change of a row lands in the same bucket, a message lists them in outbox order,
 * and Pub/Sub delivers one ordering key's messages in publish order (the bus adapter also runs
 * their handlers one after another). Why not one message per row with key link + primary key:
 * - Throughput. A 10,000-row statement became 10,000 messages with 10,000 distinct keys; Google's
 *   emulator took 82 s to accept 5,000 of them (2,000 messages: 245 ms with one key, 3 s with
 *   distinct keys), and on Google each message is billed at least 1 KB and acked on its own.
 *   Batched, the same statement is about 2 relay batches × KEY_BUCKETS messages.
 * - Group commit. applyToSheet flushes what arrives together; a few large messages arrive
 *   together, so a bulk statement costs a couple of flushes (a tab read and ≤ 3 writes each)
 *   instead of one per delivery wave.
 * Why not one key per link: a nacked or deferred message blocks every later message of its
 * ordering key (head-of-line blocking), and Pub/Sub allows 1 MB/s per ordering key. Buckets cap
 * the blocked share of a link at 1/KEY_BUCKETS and give a link KEY_BUCKETS MB/s. A nacked batch
 * is redelivered whole; its already-applied changes are then duplicates (their dots are covered)
 * and dropped, so batching costs no idempotency. Messages stay under MAX_BATCH_BYTES, far below
 * Pub/Sub's 10 MB per message and request; a change larger than that alone is made to fit
 * (oversized-change.ts).
 * Known limit (as before): an UPDATE that changes the primary key is bucketed by its new key, so
 * it is not ordered against earlier changes of the old key in the same relay batch.
 * A TRUNCATE (one change with an empty key) goes to every bucket of its link, after the bucket's
 * earlier changes in the batch: in each bucket it follows every earlier change of every row of
 * that bucket and precedes every later one. So does a SCHEMA change (columns renamed, dropped or
 * retyped): every bucket's later changes name the new columns, and applyToSheet must rename a
 * header before it writes under it; only bucket 0's copy carries `report` (SchemaCells).
 */

import { chunkBySize } from '../core/chunk-by-size.ts';
import { fnv1a } from '../core/stable-hash.ts';
import type { BusMessage } from '../ports.ts';
import {
  DB_CHANGES_TOPIC,
  type DbChangeMessage,
  dbChangeId,
  dbChangeOrderingKey,
} from '../wire/db-change.ts';
import { type FittedChange, fitChange, jsonBytes, MAX_CHANGE_BYTES } from './oversized-change.ts';

/** Ordering keys per link (see the module comment). */
export const KEY_BUCKETS = 16;
/** A batch message's body stays under this (Pub/Sub: 10 MB per message, 1 MB/s per key). */
export const MAX_BATCH_BYTES = 512 * 1024;

type CellMap = DbChangeMessage['cells'];

/** One change as the capture trigger stores it (short keys keep large statements small). */
export interface StoredRowChange {
  /** key after the change */
  k: CellMap;
  /** cells: INSERT all columns, UPDATE the changed ones */
  c?: CellMap;
  /** the old row: DELETE, and an UPDATE that changed the key */
  o?: CellMap;
  /** the key before, when an UPDATE changed it */
  pk?: CellMap;
}

/**
 * An UPDATE that kept the row's key, as the trigger stores it since the outbox's `body`
 * column: the key, then each changed column's name and new value, `[key, "qty", 3, ...]`. Built
 * by plain concatenation in the trigger (no leading-comma trimming per row, sql/install.sql).
 */
export type StoredUpdate = [CellMap, ...CellMap[string][]];

export type StoredChange = StoredRowChange | StoredUpdate;

/** The key, cells, old row and previous key of a stored change, whichever its form. */
export function storedChangeParts(stored: StoredChange): StoredRowChange {
  if (!Array.isArray(stored)) return stored;
  const [k, ...pairs] = stored;
  const c: CellMap = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) c[pairs[i] as string] = pairs[i + 1]!;
  return { k, c };
}

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  id: string;
  link: string;
  tableName: string;
  op: DbChangeMessage['op'];
  origin: string;
  dot: string | null;
  txid: string;
  /** changed_at, ISO 8601 UTC with microseconds */
  time: string;
  keyColumns: string[];
  columnTypes: Record<string, string>;
  changes: StoredChange[];
}

/** The changes of one outbox row, in the order the trigger stored them. */
export function outboxRowToChanges(row: OutboxRow): DbChangeMessage[] {
  return row.changes.map((change, index) => {
    const stored = storedChangeParts(change);
    return {
      outboxId: row.id,
      index,
      changeId: dbChangeId(row.id, index),
      link: row.link,
      table: row.tableName,
      op: row.op,
      keyColumns: row.keyColumns,
      key: stored.k,
      ...(stored.pk ? { previousKey: stored.pk } : {}),
      cells: stored.c ?? {},
      ...(stored.o ? { old: stored.o } : {}),
      types: row.columnTypes,
      origin: row.origin,
      dot: row.dot,
      txid: row.txid,
      time: row.time,
    };
  });
}

/**
 * The bus message for a change. Its ordering key is the link and the row's key after the
 * change, so every later change of the row (which carries that key) is delivered after it; a
 * key-changing UPDATE therefore is not ordered against earlier changes of the old key, which
 * the relay published (and Pub/Sub acknowledged) in an earlier or the same batch.
 * Attributes let subscriptions filter by link, origin and op.
 */
export function changeToBusMessage(change: DbChangeMessage): BusMessage {
  return {
    data: Buffer.from(JSON.stringify(change)),
    orderingKey: dbChangeOrderingKey(change.link, change.keyColumns, change.key),
    attributes: {
      link: change.link,
      origin: change.origin,
      op: change.op,
      changeId: String(change.changeId),
    },
  };
}

export { DB_CHANGES_TOPIC };

export interface FitOptions {
  /** A change's JSON stays at or under this (default MAX_CHANGE_BYTES, under Pub/Sub's 10 MB). */
  maxChangeBytes?: number;
  /** Told of each change whose largest values were replaced to fit (oversized-change.ts). */
  onOversized?: (fitted: FittedChange) => void;
}

/**
 * The bus messages for a relay batch's changes (in outbox order): one batch message per link and
 * key bucket, split further only to stay under MAX_BATCH_BYTES; ordering key `${link}/b${bucket}`.
 * Messages of one key come out in the changes' order. A TRUNCATE goes to each of the link's
 * buckets (the same change, so applying it more than once is a duplicate). A change too large
 * for a Pub/Sub message travels with its largest values replaced (fitChange).
 */
export function changesToBusMessages(
  changes: readonly DbChangeMessage[],
  buckets: number = KEY_BUCKETS,
  { maxChangeBytes = MAX_CHANGE_BYTES, onOversized }: FitOptions = {},
): BusMessage[] {
  const groups = new Map<string, DbChangeMessage[]>();
  const add = (orderingKey: string, change: DbChangeMessage) => {
    const group = groups.get(orderingKey);
    if (group) group.push(change);
    else groups.set(orderingKey, [change]);
  };
  for (const change of changes) {
    if (change.op === 'TRUNCATE') {
      for (let bucket = 0; bucket < buckets; bucket++) add(`${change.link}/b${bucket}`, change);
      continue;
    }
    if (change.op === 'SCHEMA') {
      for (let bucket = 0; bucket < buckets; bucket++)
        add(`${change.link}/b${bucket}`, { ...change, cells: { ...change.cells, report: bucket === 0 } });
      continue;
    }
    const rowKey = dbChangeOrderingKey(change.link, change.keyColumns, change.key);
    add(`${change.link}/b${fnv1a(rowKey) % buckets}`, change);
  }
  const messages: BusMessage[] = [];
  for (const [orderingKey, group] of groups) {
    const jsons = group.map((change) => {
      const json = JSON.stringify(change);
      if (jsonBytes(json, maxChangeBytes) <= maxChangeBytes) return json;
      const fitted = fitChange(change, json, maxChangeBytes);
      onOversized?.(fitted);
      return JSON.stringify(fitted.change);
    });
    // Sized in UTF-16 code units, as always (more bytes for non-ASCII text, far under Pub/Sub's
    // 10 MB), a comma each, and 16 for the `{"changes":[` + `]}` frame.
    const parts = chunkBySize(jsons, {
      sizeOf: (json) => json.length + 1,
      maxSize: MAX_BATCH_BYTES,
      overhead: 16,
    });
    for (const part of parts) {
      messages.push({
        data: Buffer.from(`{"changes":[${part.join(',')}]}`),
        orderingKey,
        attributes: { link: group[0]!.link, changes: String(part.length) },
      });
    }
  }
  return messages;
}
