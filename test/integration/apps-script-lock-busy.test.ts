/**
 * An edit or a rows change whose trigger cannot get the script lock in time (another execution
 * holds it: a big paste, a slow webhook) is kept and sent by the next execution that holds the
 * lock; it used to fail the trigger (waitLock's exception), so the edit never reached the table.
 * Through the real apps-script/ in the local sheet's Apps Script runtime, whose LockService
 * serialises concurrent executions as Google's does, the webhook, Google's Pub/Sub and Firestore
 * emulators, and applyToDb.
 */
import { describe, expect, it } from 'vitest';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';

const COLUMNS = ['sku', 'name', 'qty'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };

describe('a trigger that finds the script lock busy', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.items',
    headers: COLUMNS,
    createTable: (sql) => sql`create table public.items (sku text primary key, name text, qty integer)`,
    // Triggers wait 300 ms for the lock (30 s by default); the minute trigger stays out of the way.
    scriptProperties: { SHEETSYNC_LOCK_WAIT_MS: '300' },
    timeScale: 1_000,
    scriptFiles: {
      'hold-lock.js':
        'function holdLock(ms) { const lock = LockService.getScriptLock(); lock.waitLock(10000); Utilities.sleep(ms); lock.releaseLock(); }\n',
    },
  });

  const converged = (rows: number) => waitForConvergence(h, TABLE, COLUMNS, rows);
  const qtyOf = async (sku: string) =>
    (await h.sql<{ qty: number }[]>`select qty from items where sku = ${sku}`)[0]?.qty;

  it('keeps the edit and the rows change, and the next execution holding the lock sends them', async () => {
    await h.act([
      {
        type: 'edit',
        range: 'Rows!A2:C4',
        values: [
          ['A-1', 'anvil', 1],
          ['B-2', 'bolt', 2],
          ['C-3', 'chain', 3],
        ],
      },
    ]);
    await converged(3);

    const holding = h.runScript('holdLock', [6_000]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the lock is held now
    const started = Date.now();
    const results = await h.act([
      { type: 'edit', range: 'Rows!C2', values: [[10]] },
      { type: 'deleteRows', sheet: 'Rows', index: 2, count: 1 }, // B-2
    ]);
    // The triggers gave up waiting (they did not wait for the lock, nor fail).
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(results.flatMap((r) => r.triggers.map((t) => t.status))).not.toContain('FAILED');
    await holding;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await qtyOf('A-1')).toBe(1);
    expect((await h.sql`select count(*)::int as n from items`)[0]!.n).toBe(3);

    // The minute trigger (or any edit's trigger) holds the lock next: it sends both.
    await h.runScript('flushQueue');
    await converged(2);
    expect(await qtyOf('A-1')).toBe(10);
    expect((await h.sql`select sku from items order by sku`).map((r) => r.sku)).toEqual(['A-1', 'C-3']);

    // Sent once: a later run sends nothing again, and edits go through as before.
    await h.runScript('flushQueue');
    await h.act([{ type: 'edit', range: 'Rows!B3', values: [['chain, long']] }]);
    await converged(2);
    expect(h.problems).toEqual([]);
  }, 120_000);
});
