/**
 * Storms of ABORTED and UNAVAILABLE from Firestore under the version store (issue 17, fault
 * suite), injected at the client boundary (test/support/firestore-storm.ts): transactions,
 * batch commits and reads fail, some after their commit applied with the answer lost. Under the
 * whole pipeline (the local sheet with the real apps-script/, the webhook, applyToDb, the relay,
 * applyToSheet), while a person edits the sheet and a program writes the table; once a full
 * outage while both sides change one cell. Afterwards the table equals the sheet, every value
 * typed in the sheet was written to the table once, and the concurrent change is decided with
 * the losing value recorded.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SyncHarness, startSyncHarness } from '../../bench/sheet-sync-harness.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { waitForConvergence } from '../support/converged.ts';
import { type Storm, stormyFirestore } from '../support/firestore-storm.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };
const SHEET_ROWS = 16;
const TABLE_ROWS = 24;

describe('chaos: Firestore ABORTED and UNAVAILABLE storms', () => {
  const db = useTestDatabase();
  let h: SyncHarness | undefined;
  let storm: Storm;
  let firestore: Firestore;

  beforeAll(async () => {
    h = await startSyncHarness({
      databaseUrl: db.url,
      pubsubEmulatorHost: inject('pubsubEmulatorHost'),
      firestoreEmulatorHost: inject('firestoreEmulatorHost'),
      table: 'public.items',
      headers: COLUMNS,
      wrapFirestore: (client) => {
        firestore = client;
        const stormy = stormyFirestore(client);
        storm = stormy.storm;
        return stormy.firestore;
      },
      createTable: async (sql) => {
        await sql`create table public.items (sku text primary key, name text, qty integer)`;
        // Every write the table takes, to tell a change applied once from one applied twice.
        await sql`create table public.writes (sku text, name text, qty integer)`;
        await sql`create function public.log_write() returns trigger language plpgsql as $$
          begin insert into public.writes values (new.sku, new.name, new.qty); return new; end $$`;
        await sql`create trigger log_write after insert or update on public.items
          for each row execute function public.log_write()`;
      },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('converges, applies each change once and records the conflict it decides', async () => {
    const harness = h!;
    await harness.act([
      {
        type: 'edit',
        range: `Rows!A2:C${SHEET_ROWS + 1}`,
        values: Array.from({ length: SHEET_ROWS }, (_, i) => [`s-${i}`, `sheet ${i}`, i]),
      },
    ]);
    await waitForConvergence(harness, TABLE, COLUMNS, SHEET_ROWS);

    // A storm: half the store's calls fail, half of those after their commit applied.
    storm.blow({ rate: 0.5, afterCommit: 0.5 });
    const sheetTyping = (async () => {
      for (let i = 1; i < SHEET_ROWS; i++) {
        await harness.act([{ type: 'edit', range: `Rows!B${i + 2}`, values: [[`sheet ${i} v2`]] }]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const tableWrites = (async () => {
      for (let i = 0; i < TABLE_ROWS; i++) {
        await harness.sql`insert into public.items values (${`d-${i}`}, ${`table ${i}`}, ${i})`;
        if (i >= 1) await harness.sql`update public.items set qty = qty + 1000 where sku = ${`d-${i - 1}`}`;
        await new Promise((r) => setTimeout(r, 80));
      }
    })();
    await Promise.all([sheetTyping, tableWrites]);

    // A full outage while both sides change s-0's qty: the sheet first, the table 300 ms later,
    // so last-writer-wins picks the table's value, and the sheet's is the recorded loser.
    storm.blow({ rate: 1, afterCommit: 0 });
    await harness.act([{ type: 'edit', range: 'Rows!C2', values: [[-1]] }]);
    await new Promise((r) => setTimeout(r, 300));
    await harness.sql`update public.items set qty = -2 where sku = 's-0'`;
    await new Promise((r) => setTimeout(r, 1500));
    storm.blow({ rate: 0.5, afterCommit: 0.5 });
    await new Promise((r) => setTimeout(r, 3000));
    storm.calm();

    await waitForConvergence(harness, TABLE, COLUMNS, SHEET_ROWS + TABLE_ROWS, 45_000);
    expect(storm.counts.aborted).toBeGreaterThan(5);
    expect(storm.counts.unavailable).toBeGreaterThan(5);
    expect(storm.counts.afterCommit).toBeGreaterThan(2);

    // Every row once on the sheet (no append sent twice).
    const skus = harness
      .tabValues()
      .slice(1)
      .map((r) => String(r[0] ?? ''))
      .filter(Boolean);
    expect(skus.length).toBe(SHEET_ROWS + TABLE_ROWS);
    expect(new Set(skus).size).toBe(skus.length);
    // Each value typed in the sheet was written into the table exactly once.
    const writes = await harness.sql<{ name: string; n: number }[]>`
      select name, count(*)::int as n from public.writes where sku like 's-%' and qty >= 0 group by name`;
    expect(writes.filter((w) => w.n !== 1)).toEqual([]);
    const typed = Array.from({ length: SHEET_ROWS }, (_, i) =>
      i === 0 ? ['sheet 0'] : [`sheet ${i}`, `sheet ${i} v2`],
    );
    expect(writes.map((w) => w.name).sort()).toEqual(typed.flat().sort());
    const table = await harness.sql<{ sku: string; qty: number }[]>`select sku, qty from public.items`;
    const qty = new Map(table.map((r) => [r.sku, r.qty]));
    for (let i = 0; i < TABLE_ROWS; i++) expect(qty.get(`d-${i}`)).toBe(i < TABLE_ROWS - 1 ? i + 1000 : i);

    // The concurrent change: the table's later value won on both sides, the sheet's is recorded.
    expect(qty.get('s-0')).toBe(-2);
    const idAt = harness.tabValues()[0]!.indexOf('_sheetsync_id');
    const row = harness.tabValues().find((r) => r[0] === 's-0')!;
    expect(row[2]).toBe(-2);
    const conflicts = await waitFor('the conflict record', async () => {
      const found = await firestore.collectionGroup('conflicts').where('rowId', '==', row[idAt]).get();
      return found.size > 0 ? found.docs.map((d) => d.data() as unknown as ConflictRecord) : undefined;
    });
    expect(conflicts).toHaveLength(1);
    // Decided by last-writer-wins, or, when the outage outlasted the sheet change's five deliveries
    // while the table's change was unknown, kept open for a person (sync-core.md): either way
    // the table's value stands and the sheet's is recorded.
    const [conflict] = conflicts;
    expect(conflict).toMatchObject({ column: 'qty', outcome: 'db' });
    expect(
      conflict!.policy === 'last-writer-wins' ||
        (conflict!.policy === 'keep-db-unobserved' && conflict!.status === 'open'),
    ).toBe(true);
    expect(JSON.stringify(conflict!.sheet.value)).toContain('-1');
  }, 110_000);
});
