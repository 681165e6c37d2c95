/**
 * What the restore at start (sync-jobs/restore-link.ts) and reconcile need of sheetsync's own MySQL
 * tables (sql/mysql/install.sql): the row-id map (`row_ids`), the outbox watermark, and the
 * keys of changes still in the outbox. The PostgreSQL counterparts are sync-jobs/row-ids.ts and
 * sync-jobs/outbox-watermark.ts; the semantics are theirs.
 */
import type { Cells } from '../../core/cell-value.ts';
import { SheetsyncError } from '../../errors.ts';
import { CHANGES_PER_OUTBOX_ROW } from '../../wire/db-change.ts';
import type { MysqlPool } from './mysql-connection.ts';
import { serverErrno } from './mysql-errors.ts';
import { decodeOutboxBody, type MysqlCapturedChange } from './mysql-outbox.ts';
import { WatchedTables } from './mysql-relay-store.ts';
import { mysqlIdent } from './mysql-schema.ts';
import { chunks } from './mysql-statements.ts';

/** row_ids.row_id holds sync ids only: an id typed over on the sheet has no row to find. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOCK_SECONDS = 5;
const LOCK_TRIES = 3;
/** ER_LOCK_WAIT_TIMEOUT: also what a metadata lock wait past lock_wait_timeout answers. */
const LOCK_WAIT_TIMEOUT = 1205;

export function mysqlRestoreStore(pool: MysqlPool, outboxDatabase = 'sheetsync') {
  const own = mysqlIdent(outboxDatabase);
  const rowIds = `${own}.${mysqlIdent('row_ids')}`;
  let installed = false;
  /**
   * Whether sheetsync's tables exist: attach also runs on a server capture was never installed
   * on (a first attach before the pipeline starts), where no applyToDb looks for row ids.
   */
  const hasRowIds = async () => {
    if (installed) return true;
    const [rows] = (await pool.execute(
      'select 1 from information_schema.tables where table_schema = ? and table_name = ?',
      [outboxDatabase, 'row_ids'],
    )) as unknown as [unknown[]];
    installed = rows.length > 0;
    return installed;
  };

  return {
    hasRowIds,

    async readRowIds(link: string, ids: readonly string[]): Promise<Map<string, Cells>> {
      const found = new Map<string, Cells>();
      const wanted = ids.filter((id) => UUID.test(id));
      if (wanted.length === 0 || !(await hasRowIds())) return found;
      for (const part of chunks(wanted, 1)) {
        const [rows] = (await pool.execute(
          `select row_id, row_key from ${rowIds} where link = ? and row_id in (${part.map(() => '?').join(', ')})`,
          [link, ...part],
        )) as unknown as [Array<{ row_id: string; row_key: string }>];
        for (const r of rows) found.set(r.row_id, JSON.parse(r.row_key) as Cells);
      }
      return found;
    },

    /** `keep` leaves a row id already recorded as it is; `update` replaces its key. */
    async recordRowIds(
      link: string,
      rows: ReadonlyArray<{ rowId: string; key: Cells }>,
      onConflict: 'update' | 'keep',
    ): Promise<void> {
      const wanted = rows.filter((r) => UUID.test(r.rowId));
      if (wanted.length === 0 || !(await hasRowIds())) return;
      const onDuplicate = onConflict === 'update' ? 'row_key = values(row_key)' : 'row_key = row_key';
      for (const part of chunks(wanted, 3)) {
        await pool.execute(
          `insert into ${rowIds} (link, row_id, row_key) values ${part.map(() => '(?, ?, ?)').join(', ')}
           on duplicate key update ${onDuplicate}`,
          part.flatMap((r) => [link, r.rowId, JSON.stringify(r.key)]),
        );
      }
    },

    /**
     * The largest change id committed so far (0 for an empty outbox). `LOCK TABLES … READ` asks
     * for a metadata lock that waits for every transaction that wrote the outbox (a watched
     * table's trigger holds a shared-write lock on it until its transaction ends) and holds off
     * new ones while the largest id is read
     * (https://dev.mysql.com/doc/refman/8.0/en/metadata-locking.html). AUTO_INCREMENT ids are
     * handed out in order, so no row at or below the watermark can commit later. The relay's
     * change id is `outbox id × 1000` (relay/mysql-changes.ts).
     */
    async outboxWatermark(): Promise<number> {
      if (!(await hasRowIds())) return 0;
      for (let attempt = 1; ; attempt++) {
        const connection = await pool.getConnection();
        let last: number;
        try {
          await connection.query(`set session lock_wait_timeout = ${LOCK_SECONDS}`);
          try {
            await connection.query(`lock tables ${own}.${mysqlIdent('outbox')} read`);
            const [rows] = (await connection.query(
              `select coalesce(max(id), 0) as last from ${own}.${mysqlIdent('outbox')}`,
            )) as unknown as [Array<{ last: string | number }>];
            last = Number(rows[0]?.last ?? 0);
          } finally {
            await connection.query('unlock tables').catch(() => {});
          }
        } catch (error) {
          if (serverErrno(error) !== LOCK_WAIT_TIMEOUT) throw error;
          if (attempt >= LOCK_TRIES) {
            throw new SheetsyncError(
              'SHEETSYNC_E783',
              `a transaction that writes a watched MySQL table stayed open for ${LOCK_TRIES * LOCK_SECONDS} s, so ` +
                'sheetsync could not see which of its changes are committed before checking the sheet against the ' +
                'table; nothing was changed. Commit or end that transaction (information_schema.innodb_trx shows ' +
                'it), then start again.',
              'retry',
            );
          }
          continue;
        } finally {
          // Not back to the pool with the session's lock timeout changed.
          connection.destroy();
        }
        return last <= 0 ? 0 : (last + 1) * CHANGES_PER_OUTBOX_ROW - 1;
      }
    },

    /**
     * The keys (canonical) of `link`'s changes at or below `watermark` still in the outbox; a
     * key-changing UPDATE gives both keys.
     */
    async pendingKeys(link: string, watermark: number): Promise<Cells[]> {
      if (watermark <= 0 || !(await hasRowIds())) return [];
      const lastRow = Math.floor(watermark / CHANGES_PER_OUTBOX_ROW);
      const tables = new WatchedTables(pool, own);
      const keys: Cells[] = [];
      let after = '0';
      for (;;) {
        const [rows] = (await pool.execute(
          `select o.id, o.watched_id, o.op, o.body
             from ${own}.${mysqlIdent('outbox')} o join ${own}.${mysqlIdent('watched')} w on w.id = o.watched_id
            where w.link = ? and o.id > ? and o.id <= ? order by o.id limit 1000`,
          [link, after, String(lastRow)],
        )) as unknown as [
          Array<{ id: string | number; watched_id: number; op: MysqlCapturedChange['op']; body: string }>,
        ];
        for (const row of rows) {
          const watched = await tables.get(row.watched_id);
          if (!watched) continue;
          const decoded = decodeOutboxBody(row.op, JSON.parse(row.body) as unknown[], watched.table);
          for (const key of [decoded.key, decoded.previousKey]) if (key) keys.push(key);
        }
        if (rows.length < 1000) return keys;
        after = String(rows[rows.length - 1]!.id);
      }
    },
  };
}
