/**
 * From a claimed MySQL outbox row (one row change, adapters/mysql/mysql-relay-store.ts) to the
 * bus's DbChangeMessage, the same message the PostgreSQL relay publishes (wire/db-change.ts):
 * - change id `outbox id × 1000` (index 0: a MySQL outbox row holds one change), so the db-side
 *   dot is `db:<changeId>` as for PostgreSQL, stable across redeliveries;
 * - origin and dot as the writer's session set them (`sheet` and its dot for applyToDb's writes);
 * - values already canonical (mysql-outbox.ts), and `types` the PostgreSQL names of their core
 *   types (coreTypeName), so applyToSheet reads them as it reads PostgreSQL's.
 * Differences: no `old` row on a DELETE (the trigger records the key only; nothing downstream
 * needs more), and `txid` is "0" (MySQL gives a trigger no transaction id).
 */
import { coreTypeName } from '../adapters/mysql/mysql-column-type.ts';
import type { ClaimedMysqlChange, WatchedTable } from '../adapters/mysql/mysql-relay-store.ts';
import { type DbChangeMessage, dbChangeId } from '../wire/db-change.ts';

export function mysqlChangeMessage(
  change: ClaimedMysqlChange,
  { link, table }: WatchedTable,
): DbChangeMessage {
  return {
    outboxId: change.id,
    index: 0,
    changeId: dbChangeId(change.id, 0),
    link,
    table: `${table.schema}.${table.name}`,
    op: change.op,
    keyColumns: table.primaryKey,
    key: change.key,
    ...(change.previousKey ? { previousKey: change.previousKey } : {}),
    cells: change.cells,
    types: Object.fromEntries(table.columns.map((c) => [c.name, coreTypeName(c.mysqlType)])),
    origin: change.origin,
    dot: change.dot,
    txid: '0',
    time: change.time,
  };
}
