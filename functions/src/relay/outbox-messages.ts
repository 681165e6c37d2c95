/**
 * From outbox rows (one statement's chunk of changes, sql/install.sql) to bus messages, one per
 * changed row. Pure: no I/O, no clock.
 */

import type { BusMessage } from '../ports.ts';
import {
  DB_CHANGES_TOPIC,
  type DbChangeMessage,
  dbChangeId,
  dbChangeOrderingKey,
} from '../wire/db-change.ts';

type CellMap = DbChangeMessage['cells'];

/** One change as the capture trigger stores it (short keys keep large statements small). */
export interface StoredChange {
  /** key after the change */
  k: CellMap;
  /** cells: INSERT all columns, UPDATE the changed ones */
  c?: CellMap;
  /** the old row: DELETE, and an UPDATE that changed the key */
  o?: CellMap;
  /** the key before, when an UPDATE changed it */
  pk?: CellMap;
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
  return row.changes.map((stored, index) => ({
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
  }));
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
