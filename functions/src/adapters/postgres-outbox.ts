/**
 * The relay's queries on sheetsync.outbox, on one reserved connection that also holds the
 * relay's advisory lock: if the connection dies, the lock goes with it, and so does any
 * transaction that was claiming rows, so a second relay can take over without overlap.
 *
 * Claiming is commit-safe: rows are visible only once their transaction commits, and outbox ids
 * are NOT in commit order, so we never remember "the last id"; each batch takes the unpublished
 * rows that exist now, lowest id first, FOR UPDATE SKIP LOCKED, and deletes them in the same
 * transaction after the bus acknowledged them. A row that commits later with a lower id is
 * simply taken by a later batch. Rows of one key are in id order (see sql/install.sql).
 */
import type postgres from 'postgres';
import { SheetsyncError } from '../errors.ts';
import type { OutboxRow, StoredChange } from '../relay/outbox-messages.ts';
import { asCaptureError } from './postgres-schema.ts';

/** The advisory lock key that makes one relay active per database ("sheetsync.relay"). */
export const RELAY_LOCK_KEY = 0x73_68_65_65_74_72_6cn; // 'sheetrl' in ASCII

export async function tryRelayLock(conn: postgres.Sql): Promise<boolean> {
  const [row] = await conn<
    { locked: boolean }[]
  >`select pg_try_advisory_lock(${RELAY_LOCK_KEY.toString()}::bigint) as locked`;
  return row?.locked === true;
}

export async function releaseRelayLock(conn: postgres.Sql): Promise<void> {
  await conn`select pg_advisory_unlock(${RELAY_LOCK_KEY.toString()}::bigint)`;
}

/**
 * Within an open transaction: locks the oldest unpublished outbox rows, up to about
 * `maxChanges` changes (at least one row), and reads them.
 */
export async function claimOutboxRows(conn: postgres.Sql, maxChanges: number): Promise<OutboxRow[]> {
  let heads: { id: string; change_count: number }[];
  try {
    // Order by the bigint column (outbox.id), never by the text alias `id`: ORDER BY prefers an
    // output column's name, and text order ('10' < '9') broke per-key order.
    heads = await conn<{ id: string; change_count: number }[]>`
      select id::text as id, change_count from sheetsync.outbox
       order by outbox.id limit ${maxChanges} for update skip locked`;
  } catch (error) {
    throw asCaptureError(error);
  }
  const ids: string[] = [];
  let changes = 0;
  for (const head of heads) {
    if (ids.length > 0 && changes + head.change_count > maxChanges) break;
    ids.push(head.id);
    changes += head.change_count;
  }
  if (ids.length === 0) return [];
  return readOutboxRows(conn, ids);
}

/** Reads outbox rows by id, in id order (without locking them: claimOutboxRows locks). */
export async function readOutboxRows(conn: postgres.Sql, ids: readonly string[]): Promise<OutboxRow[]> {
  const rows = await conn<
    {
      id: string;
      link: string;
      table_name: string;
      op: OutboxRow['op'];
      origin: string;
      dot: string | null;
      txid: string;
      time: string;
      key_columns: string[];
      column_types: Record<string, string>;
      changes: StoredChange[] | null;
      body: string | null;
    }[]
  >`
    select id::text as id, link, table_name, op, origin, dot, txid::text as txid,
           to_char(changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as time,
           key_columns, column_types, changes, body
      from sheetsync.outbox where id = any(${ids as string[]}::bigint[]) order by outbox.id`;
  return rows.map((r) => ({
    id: r.id,
    link: r.link,
    tableName: r.table_name,
    op: r.op,
    origin: r.origin,
    dot: r.dot,
    txid: r.txid,
    time: r.time,
    keyColumns: r.key_columns,
    columnTypes: r.column_types,
    changes: r.body === null ? (r.changes ?? []) : parseBody(r.id, r.body),
  }));
}

/** An outbox row's body: the JSON text of its changes (sql/install.sql). */
function parseBody(id: string, body: string): StoredChange[] {
  try {
    const changes: unknown = JSON.parse(body);
    if (Array.isArray(changes)) return changes as StoredChange[];
  } catch {
    // reported below
  }
  throw new SheetsyncError(
    'SHEETSYNC_E207',
    `Outbox row ${id} does not hold a JSON array of changes; the relay stops at it rather than skip it. ` +
      'Inspect it (select body from sheetsync.outbox where id = ...), report it, and delete it to go on',
    'permanent',
  );
}

/**
 * Outside a transaction: records a SCHEMA outbox row for each watched table whose columns were
 * renamed, dropped or retyped and that no write has touched since (sql/install.sql
 * note_schemas). Returns how many it recorded; 0 on an install older than note_schemas.
 */
export async function noteSchemaChanges(conn: postgres.Sql): Promise<number> {
  try {
    const [row] = await conn<{ n: number }[]>`select sheetsync.note_schemas() as n`;
    return row?.n ?? 0;
  } catch (error) {
    if ((error as { code?: unknown }).code === '42883') return 0; // undefined_function
    throw error;
  }
}

/** Within the claiming transaction: removes rows the bus has acknowledged. */
export async function deleteOutboxRows(conn: postgres.Sql, ids: readonly string[]): Promise<void> {
  await conn`delete from sheetsync.outbox where id = any(${ids as string[]}::bigint[])`;
}

export interface OutboxDepth {
  /** Outbox rows waiting (one statement's chunk each). */
  rows: number;
  /** Row changes waiting. */
  changes: number;
  /** Age of the oldest waiting change in ms (0 when empty). */
  oldestAgeMs: number;
}

/** How much is waiting; for `status` and the relay's counters. */
export async function outboxDepth(sql: postgres.Sql): Promise<OutboxDepth> {
  const [row] = await sql<{ rows: string; changes: string; age_ms: number | null }[]>`
    select count(*)::text as rows, coalesce(sum(change_count), 0)::text as changes,
           (extract(epoch from clock_timestamp() - min(changed_at)) * 1000)::float8 as age_ms
      from sheetsync.outbox`;
  return {
    rows: Number(row?.rows ?? 0),
    changes: Number(row?.changes ?? 0),
    oldestAgeMs: Math.max(0, row?.age_ms ?? 0),
  };
}
