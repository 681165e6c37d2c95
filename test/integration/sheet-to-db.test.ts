/**
 * Sheet → database end to end: user actions in the local sheet run the real apps-script/, which
 * posts signed events to sheetWebhook (functions-framework); the Pub/Sub emulator carries the row
 * changes to applyToDb, which writes PostgreSQL and the Firestore emulator's version store.
 * After each action the table must equal the sheet by sync id, in every column.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SyncHarness, startSyncHarness, tableVsSheet } from '../../bench/sheet-sync-harness.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty', 'price', 'note', 'color'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };

describe('sheet → database', () => {
  const db = useTestDatabase();
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({
      databaseUrl: db.url,
      pubsubEmulatorHost: inject('pubsubEmulatorHost'),
      firestoreEmulatorHost: inject('firestoreEmulatorHost'),
      table: 'public.items',
      headers: COLUMNS,
      createTable: (sql) =>
        sql`create table public.items (sku text primary key, name text, qty integer, price numeric(10,2), note text, color text)`,
    });
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  /** Waits until the table equals the sheet and holds `rows` rows. */
  async function converged(rows: number, timeoutMs = 30_000): Promise<void> {
    let last: string[] = [];
    try {
      await waitFor(
        `the table to equal the sheet with ${rows} rows`,
        async () => {
          last = await tableVsSheet(h, TABLE, COLUMNS);
          const [{ count }] = await h.sql`select count(*)::int as count from public.items`;
          if (count !== rows) last.push(`table has ${count} rows, expected ${rows}`);
          return last.length === 0;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${last.slice(0, 10).join('\n')}`);
    }
    expect(last).toEqual([]);
  }

  it('typing a value', async () => {
    await h.act([
      { type: 'edit', range: 'Rows!A2:F2', values: [['A-1', 'Anvil', 3, 9.5, 'heavy', 'black']] },
    ]);
    await converged(1);
    await h.act([{ type: 'edit', range: 'Rows!C2', values: [[4]] }]);
    await waitFor('qty 4', async () => (await h.sql`select qty from items where sku = 'A-1'`)[0]?.qty === 4);
    await converged(1);
  });
});
