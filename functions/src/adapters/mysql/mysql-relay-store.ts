/**
 * The MySQL relay's queries on sheetsync's outbox (sql/mysql/install.sql), on one connection of
 * its own that holds the relay's named lock (GET_LOCK: one relay per outbox database; the lock
 * goes with the session, so a relay whose connection died is replaced without overlap).
 *
 * Claiming is commit-safe as on PostgreSQL (adapters/postgres-outbox.ts): outbox ids are taken
 * at insert, so they are not in commit order, and the relay never remembers a last id. Each
 * batch locks the committed rows that exist now, lowest id first, FOR UPDATE SKIP LOCKED
 * (MySQL 8.0.1+, MariaDB 10.6+), and deletes them in the same transaction after the bus has
 * acknowledged them. Rows of one key are in commit order by id (install.sql).
 */
import { SheetsyncError } from '../../errors.ts';
import type { MysqlConnection, MysqlPool } from './mysql-connection.ts';
import { decodeOutboxBody, type MysqlCapturedChange } from './mysql-outbox.ts';
import { describeMysqlTable, type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';
import { chunks } from './mysql-statements.ts';

/** The lock's name: per outbox database, under MySQL's 64 characters. */
function lockName(outboxDatabase: string): string {
  return `sheetsync.relay.${outboxDatabase}`.slice(0, 64);
}

/** Takes the relay lock without waiting; true when this session holds it. */
export async function tryMysqlRelayLock(
  connection: MysqlConnection,
  outboxDatabase: string,
): Promise<boolean> {
  const [[row]] = (await connection.query('select get_lock(?, 0) as locked', [
    lockName(outboxDatabase),
  ])) as unknown as [[{ locked: number | null }]];
  return Number(row.locked) === 1;
}

export async function releaseMysqlRelayLock(
  connection: MysqlConnection,
  outboxDatabase: string,
): Promise<void> {
  await connection.query('select release_lock(?)', [lockName(outboxDatabase)]);
}

/** A watched table as the relay decodes its outbox rows. */
export interface WatchedTable {
  link: string;
  table: MysqlTableSchema;
}

/**
 * The watched tables by watched id, described from the catalog. An outbox row holds values by
 * position in the column list of the triggers that wrote it (its `changed` string has one
 * character per column), so it decodes by the catalog's columns as long as those start with
 * the triggers' columns: columns added at the end since (`ADD COLUMN` without `AFTER`) are
 * simply not in older rows. A column dropped, renamed or moved, or a new key, cannot be
 * decoded safely: SHEETSYNC_E780.
 */
export class WatchedTables {
  private readonly known = new Map<number, (WatchedTable & { fingerprint: string }) | null>();

  constructor(
    private readonly pool: MysqlPool,
    private readonly own: string,
  ) {}

  /** The table of watched id `id`, or null when nothing is watched under it any more. */
  async get(id: number): Promise<WatchedTable | null> {
    if (this.known.has(id)) return this.known.get(id)!;
    const [rows] = (await this.pool.execute(
      `select table_schema, table_name, link, column_names, key_columns, fingerprint
         from ${this.own}.${mysqlIdent('watched')} where id = ?`,
      [id],
    )) as unknown as [
      Array<{
        table_schema: string;
        table_name: string;
        link: string;
        column_names: string;
        key_columns: string;
        fingerprint: string;
      }>,
    ];
    const row = rows[0];
    if (!row) {
      this.known.set(id, null);
      return null;
    }
    const where = `${row.table_schema}.${row.table_name}`;
    let table: MysqlTableSchema;
    try {
      table = await describeMysqlTable(this.pool, where);
    } catch (error) {
      throw new SheetsyncError(
        'SHEETSYNC_E780',
        `the MySQL relay cannot describe ${where}, whose changes wait in the outbox (${(error as Error).message}); ` +
          'restore the table, or delete its outbox rows and its sheetsync.watched row',
        'permanent',
        { cause: error },
      );
    }
    const same = (a: unknown, b: readonly string[]) => JSON.stringify(a) === JSON.stringify(b);
    const columns = parseNames(row.column_names) as string[];
    const names = table.columns.map((c) => c.name);
    if (
      !same(columns, names.slice(0, columns.length)) ||
      !same(parseNames(row.key_columns), table.primaryKey)
    ) {
      throw new SheetsyncError(
        'SHEETSYNC_E780',
        `the columns or key of ${where} changed since its capture triggers were made; the relay stops ` +
          'at its outbox rows rather than decode them by the new columns. Watch the table again (start ' +
          'sheetsync), then reconcile the link',
        'permanent',
      );
    }
    const watched = { link: row.link, table, fingerprint: row.fingerprint };
    this.known.set(id, watched);
    return watched;
  }

  /** Forgets the tables watched again (new triggers) or no longer since they were described. */
  async refresh(): Promise<void> {
    if (this.known.size === 0) return;
    const [rows] = (await this.pool.query(
      `select id, fingerprint from ${this.own}.${mysqlIdent('watched')}`,
    )) as unknown as [Array<{ id: number; fingerprint: string }>];
    const now = new Map(rows.map((r) => [r.id, r.fingerprint]));
    for (const [id, watched] of this.known) {
      if ((watched?.fingerprint ?? null) !== (now.get(id) ?? null)) this.known.delete(id);
    }
  }

  /** Forgets every description (after a failed batch: a table may have been watched again). */
  clear(): void {
    this.known.clear();
  }
}

function parseNames(json: unknown): unknown {
  return typeof json === 'string' ? JSON.parse(json) : json;
}

/** A claimed outbox row, decoded, with its watched table (null: no longer watched). */
export interface ClaimedMysqlChange extends MysqlCapturedChange {
  watched: WatchedTable | null;
  /** changed_at, ISO 8601 UTC with microseconds. */
  time: string;
}

/**
 * Within an open transaction on `connection`: locks the oldest unpublished outbox rows, at
 * most `limit`, and decodes them.
 */
export async function claimMysqlOutbox(
  connection: MysqlConnection,
  own: string,
  tables: WatchedTables,
  limit: number,
): Promise<ClaimedMysqlChange[]> {
  const [rows] = (await connection.query(
    `select id, watched_id, op, origin, dot, body, changed_at from ${own}.${mysqlIdent('outbox')}
      order by id limit ${Math.max(1, Math.floor(limit))} for update skip locked`,
  )) as unknown as [
    Array<{
      id: string | number;
      watched_id: number;
      op: MysqlCapturedChange['op'];
      origin: string;
      dot: string | null;
      body: string;
      changed_at: string;
    }>,
  ];
  const claimed: ClaimedMysqlChange[] = [];
  if (rows.length > 0) await tables.refresh();
  for (const row of rows) {
    const watched = await tables.get(row.watched_id);
    const id = String(row.id);
    const time = `${row.changed_at.replace(' ', 'T')}Z`;
    const base = {
      id,
      watchedId: row.watched_id,
      op: row.op,
      origin: row.origin,
      dot: row.dot,
      time,
      watched,
    };
    if (!watched) {
      claimed.push({ ...base, key: {}, cells: {} });
      continue;
    }
    const body = parseBody(id, row.body);
    if (String(body[0]).length > watched.table.columns.length) {
      throw new SheetsyncError(
        'SHEETSYNC_E780',
        `outbox row ${id} of ${watched.table.qualified} holds more columns than the table has now; a column was ` +
          'dropped since it was written, and the relay stops rather than decode it by the wrong columns',
        'permanent',
      );
    }
    claimed.push({ ...base, ...decodeOutboxBody(row.op, body, watched.table) });
  }
  return claimed;
}

function parseBody(id: string, body: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(body);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw new SheetsyncError(
    'SHEETSYNC_E207',
    `Outbox row ${id} does not hold a JSON array; the relay stops at it rather than skip it. ` +
      'Inspect it (select body from sheetsync.outbox where id = ...), report it, and delete it to go on',
    'permanent',
  );
}

/** Within the claiming transaction: removes rows the bus has acknowledged. */
export async function deleteMysqlOutboxRows(
  connection: MysqlConnection,
  own: string,
  ids: readonly string[],
): Promise<void> {
  for (const part of chunks(ids, 1)) {
    await connection.execute(
      `delete from ${own}.${mysqlIdent('outbox')} where id in (${part.map(() => '?').join(', ')})`,
      [...part],
    );
  }
}

/** Row changes waiting, and the oldest one's age; for `status` and the relay's counters. */
export async function mysqlOutboxDepth(
  db: MysqlPool | MysqlConnection,
  own: string,
): Promise<{ rows: number; changes: number; oldestAgeMs: number }> {
  const [[row]] = (await db.query(
    `select count(*) as n, timestampdiff(microsecond, min(changed_at), current_timestamp(6)) as age
       from ${own}.${mysqlIdent('outbox')}`,
  )) as unknown as [[{ n: string | number; age: string | number | null }]];
  const n = Number(row.n);
  return { rows: n, changes: n, oldestAgeMs: Math.max(0, Number(row.age ?? 0) / 1000) };
}
