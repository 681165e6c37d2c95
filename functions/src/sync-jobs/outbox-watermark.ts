/**
 * The outbox as a restore (restore-link.ts) finds it, before the relay starts.
 *
 * The watermark is the largest change id of the rows in the outbox, read under a SHARE lock: the
 * lock waits for every transaction that is writing outbox rows (those writing watched tables)
 * and holds off new ones for the moment of the read, so no row at or below it can commit later
 * (outbox ids come from an identity sequence without a cache: later rows get larger ids), and a
 * table read after it shows every change at or below it. Changes at or below it still in the outbox (not yet published, or published
 * and not acknowledged when the stack died) are published again once the relay starts; the
 * restore compares their rows on both sides first, so their documents are marked as having seen
 * them (`vv.db`), and the replays are dropped as duplicates instead of applied over newer values.
 */
import type postgres from 'postgres';
import { readOutboxRows } from '../adapters/postgres-outbox.ts';
import type { Cells } from '../core/cell-value.ts';
import { fromDb } from '../core/coercion.ts';
import { parseColumnType } from '../core/column-type.ts';
import { SheetsyncError } from '../errors.ts';
import { outboxRowToChanges } from '../relay/outbox-messages.ts';
import { CHANGES_PER_OUTBOX_ROW } from '../wire/db-change.ts';

const LOCK_TRIES = 3;

/** The largest change id committed so far (0 for an outbox never written). */
export async function outboxWatermark(sql: postgres.Sql): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const last = await sql.begin(async (tx) => {
        await tx`set local lock_timeout = '5s'`;
        await tx`lock table sheetsync.outbox in share mode`;
        const [row] = await tx<Array<{ last: string }>>`
          select coalesce(max(id), 0)::text as last from sheetsync.outbox`;
        return Number(row?.last ?? 0);
      });
      return last <= 0 ? 0 : (last + 1) * CHANGES_PER_OUTBOX_ROW - 1;
    } catch (error) {
      // 55P03 lock_not_available: a transaction writing a watched table is still open.
      if ((error as { code?: string }).code !== '55P03') throw error;
      if (attempt >= LOCK_TRIES) {
        throw new SheetsyncError(
          'SHEETSYNC_E757',
          `a transaction that writes a watched table stayed open for ${LOCK_TRIES * 5} s, so sheetsync could not ` +
            'see which of its changes are committed before checking the sheet against the table; nothing was changed. ' +
            'Commit or end that transaction (pg_stat_activity shows it, state "idle in transaction"), then start again.',
          'retry',
        );
      }
    }
  }
}

/**
 * The keys (canonical, as the documents hold them) of the link's changes at or below
 * `watermark` still in the outbox; a key-changing UPDATE gives both keys.
 */
export async function pendingKeys(sql: postgres.Sql, link: string, watermark: number): Promise<Cells[]> {
  const lastRow = Math.floor(watermark / CHANGES_PER_OUTBOX_ROW);
  const ids = (
    await sql<Array<{ id: string }>>`
      select id::text as id from sheetsync.outbox where link = ${link} and id <= ${lastRow} order by id`
  ).map((r) => r.id);
  const keys: Cells[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    for (const row of await readOutboxRows(sql, ids.slice(i, i + 500))) {
      for (const change of outboxRowToChanges(row)) {
        for (const key of [change.key, change.previousKey]) {
          if (!key || Object.keys(key).length === 0) continue; // a TRUNCATE names no row
          keys.push(canonicalKey(key, change.types));
        }
      }
    }
  }
  return keys;
}

function canonicalKey(key: Record<string, unknown>, types: Record<string, string>): Cells {
  const out: Cells = {};
  for (const [column, value] of Object.entries(key)) {
    const coerced = fromDb(value as Cells[string], parseColumnType(types[column] ?? 'text'));
    out[column] = coerced.ok ? coerced.value : (value as Cells[string]);
  }
  return out;
}
