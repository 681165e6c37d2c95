/**
 * The Pub/Sub emulator killed (SIGKILL) and started again on the same port while changes flow both
 * ways (issue 17, fault suite). The test runs an emulator of its own, never the global setup's,
 * under the whole pipeline (the local sheet with the real apps-script/, the webhook, applyToDb,
 * the relay, applyToSheet). The restarted emulator knows no topic, subscription or message: the
 * pipeline must declare its topics and subscriptions again before it publishes into them (a
 * message published to a topic with no subscription is dropped), and repair what the emulator
 * held when it died. Afterwards the table equals the sheet, every value typed in the sheet is in
 * the table once and was written there once, and every table row is on the sheet once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SyncHarness, startSyncHarness } from '../../bench/sheet-sync-harness.ts';
import { type RunningEmulator, startEmulator } from '../../cli/src/services/gcloud-emulator.ts';
import { createLogger } from '../../functions/src/log.ts';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };
const SHEET_ROWS = 16;
const TABLE_ROWS = 30;

describe('chaos: the Pub/Sub emulator restarted under load', () => {
  const db = useTestDatabase();
  let pubsub: RunningEmulator | undefined;
  let h: SyncHarness | undefined;
  /** The codes the pipeline logged at WARNING and above. */
  const codes: string[] = [];

  beforeAll(async () => {
    pubsub = await startEmulator('pubsub');
    h = await startSyncHarness({
      databaseUrl: db.url,
      pubsubEmulatorHost: pubsub.host,
      firestoreEmulatorHost: inject('firestoreEmulatorHost'),
      table: 'public.items',
      headers: COLUMNS,
      // The script's queue flush every 3 s instead of every minute.
      timeScale: 0.05,
      logger: createLogger({
        level: 'WARNING',
        write: (line) => {
          const code = (JSON.parse(line) as { code?: string }).code;
          if (code) codes.push(code);
        },
      }),
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
    await pubsub?.stop();
  });

  it('loses nothing and applies nothing twice across a restart', async () => {
    const harness = h!;
    const port = Number(pubsub!.host.split(':')[1]);

    // Before the fault: the sheet's rows, typed by a person.
    await harness.act([
      {
        type: 'edit',
        range: `Rows!A2:C${SHEET_ROWS + 1}`,
        values: Array.from({ length: SHEET_ROWS }, (_, i) => [`s-${i}`, `sheet ${i}`, i]),
      },
    ]);
    await waitForConvergence(harness, TABLE, COLUMNS, SHEET_ROWS);

    // Then a person renames the sheet's rows one by one, every ~150 ms, while a program
    // inserts a row (appended to the sheet) and updates the one before, every ~100 ms. Nobody
    // inserts or moves rows in the sheet: their positions stay where the person types.
    const sheetTyping = (async () => {
      for (let i = 0; i < SHEET_ROWS; i++) {
        await harness.act([{ type: 'edit', range: `Rows!B${i + 2}`, values: [[`sheet ${i} v2`]] }]);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const tableWrites = (async () => {
      for (let i = 0; i < TABLE_ROWS; i++) {
        await harness.sql`insert into public.items values (${`d-${i}`}, ${`table ${i}`}, ${i})`;
        if (i >= 1) await harness.sql`update public.items set qty = qty + 1000 where sku = ${`d-${i - 1}`}`;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const onSheet = (prefix: string) =>
      harness.tabValues().filter((r) => String(r[0] ?? '').startsWith(prefix)).length;
    const renamed = async () =>
      Number((await harness.sql`select count(*)::int as n from public.items where name like '% v2'`)[0]?.n);
    await waitFor('both directions under way', async () => (await renamed()) >= 3 && onSheet('d-') >= 4);
    await pubsub!.stop();
    await new Promise((r) => setTimeout(r, 500));
    pubsub = await startEmulator('pubsub', { port });

    await Promise.all([sheetTyping, tableWrites]);
    // The pipeline found its topics and subscriptions gone, and declared them again.
    expect(codes).toContain('SHEETSYNC_E306');
    await waitForConvergence(harness, TABLE, COLUMNS, SHEET_ROWS + TABLE_ROWS, 45_000);

    // Every row once on the sheet (no append sent twice), every sheet value once in the table.
    const skus = harness
      .tabValues()
      .slice(1)
      .map((r) => String(r[0] ?? ''))
      .filter(Boolean);
    expect(skus.length).toBe(SHEET_ROWS + TABLE_ROWS);
    expect(new Set(skus).size).toBe(skus.length);
    // Each row the sheet typed was written into the table exactly once.
    const writes = await harness.sql<{ name: string; n: number }[]>`
      select name, count(*)::int as n from public.writes where sku like 's-%' group by name`;
    expect(writes.filter((w) => w.n !== 1)).toEqual([]);
    const typed = Array.from({ length: SHEET_ROWS }, (_, i) => [`sheet ${i}`, `sheet ${i} v2`]);
    expect(writes.map((w) => w.name).sort()).toEqual(typed.flat().sort());
    // And the table's final values: the renames and the program's updates.
    const table = await harness.sql<{ sku: string; name: string; qty: number }[]>`
      select sku, name, qty from public.items`;
    const bySku = new Map(table.map((r) => [r.sku, r]));
    for (let i = 0; i < SHEET_ROWS; i++) expect(bySku.get(`s-${i}`)?.name).toBe(`sheet ${i} v2`);
    for (let i = 0; i < TABLE_ROWS; i++)
      expect(bySku.get(`d-${i}`)?.qty).toBe(i < TABLE_ROWS - 1 ? i + 1000 : i);
    expect(harness.problems).toEqual([]);
  }, 90_000);
});
