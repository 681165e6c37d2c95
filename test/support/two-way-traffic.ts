/**
 * Changes flowing both ways through the sync harness, for the chaos tests that inject a fault
 * under them (test/chaos/pubsub-restart.test.ts, firestore-storms.test.ts), and what they check
 * afterwards. The table `public.items (sku, name, qty)` logs every write it takes into
 * `public.writes`, so a change applied twice shows as two writes. Sheet rows are `s-N`, typed
 * before the traffic and then renamed in place (nobody inserts or moves sheet rows, so a
 * person's cell stays where they type); table rows are `d-N`, inserted (appended to the sheet)
 * and each then updated once (qty + 1000).
 */
import { expect } from 'vitest';
import { waitForConvergence } from './converged.ts';
import type { SyncHarness } from './sheet-sync-harness.ts';

/**
 * Whether the chaos tests that still find divergence run (CHAOS_UNSTABLE=1): in fresh-clone CI
 * runs of the full suite they sometimes end with a table-inserted row whose key cells are empty
 * on the sheet (open in issue 17), and a test failing on a known bug would stop everything else
 * landing. They pass alone, also at load average 16.
 */
export const UNSTABLE_CHAOS = process.env.CHAOS_UNSTABLE === '1';

export const COLUMNS = ['sku', 'name', 'qty'];
export const TABLE = { schema: 'public', name: 'items', key: ['sku'] };

/** The harness's `createTable`: the items table and its write log. */
export async function createItemsTable(sql: SyncHarness['sql']): Promise<void> {
  await sql`create table public.items (sku text primary key, name text, qty integer)`;
  await sql`create table public.writes (sku text, name text, qty integer)`;
  await sql`create function public.log_write() returns trigger language plpgsql as $$
    begin insert into public.writes values (new.sku, new.name, new.qty); return new; end $$`;
  await sql`create trigger log_write after insert or update on public.items
    for each row execute function public.log_write()`;
}

/** A person types `rows` sheet rows (s-0 …) in one paste; resolves once the table has them. */
export async function typeSheetRows(h: SyncHarness, rows: number): Promise<void> {
  await h.act([
    {
      type: 'edit',
      range: `Rows!A2:C${rows + 1}`,
      values: Array.from({ length: rows }, (_, i) => [`s-${i}`, `sheet ${i}`, i]),
    },
  ]);
  await waitForConvergence(h, TABLE, COLUMNS, rows);
}

/** A person renames sheet rows `from` … rows-1 to `sheet N v2`, one every ~`pauseMs`. */
export async function renameSheetRows(h: SyncHarness, from: number, rows: number, pauseMs: number) {
  for (let i = from; i < rows; i++) {
    await h.act([{ type: 'edit', range: `Rows!B${i + 2}`, values: [[`sheet ${i} v2`]] }]);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** A program inserts `rows` table rows (d-0 …) and updates the one before, every ~`pauseMs`. */
export async function writeTableRows(h: SyncHarness, rows: number, pauseMs: number) {
  for (let i = 0; i < rows; i++) {
    await h.sql`insert into public.items values (${`d-${i}`}, ${`table ${i}`}, ${i})`;
    if (i >= 1) await h.sql`update public.items set qty = qty + 1000 where sku = ${`d-${i - 1}`}`;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/**
 * After convergence: every row once on the sheet, each name in `names` written to a sheet row
 * of the table exactly once (and no other name; writes of a negative qty are a test's own
 * conflicting writes, left out), and each table row's last update in the table.
 */
export async function expectEachChangeOnce(
  h: SyncHarness,
  { sheetRows, tableRows, names }: { sheetRows: number; tableRows: number; names: string[] },
) {
  const skus = h
    .tabValues()
    .slice(1)
    .map((r) => String(r[0] ?? ''))
    .filter(Boolean);
  expect(skus.length).toBe(sheetRows + tableRows);
  expect(new Set(skus).size).toBe(skus.length);
  const writes = await h.sql<{ name: string; n: number }[]>`
    select name, count(*)::int as n from public.writes where sku like 's-%' and qty >= 0 group by name`;
  expect(writes.filter((w) => w.n !== 1)).toEqual([]);
  expect(writes.map((w) => w.name).sort()).toEqual([...names].sort());
  const table = await h.sql<{ sku: string; qty: number }[]>`select sku, qty from public.items`;
  const qty = new Map(table.map((r) => [r.sku, r.qty]));
  for (let i = 0; i < tableRows; i++) expect(qty.get(`d-${i}`)).toBe(i < tableRows - 1 ? i + 1000 : i);
}
