/**
 * Schema changes in the database keep the sync going without a restart (issue 19, item 2): a
 * column added reaches the sheet (with `addMissingHeaders`) and edits of it reach the table; a
 * column's type changed: new values are coerced to the new type. applyToDb describes a link's
 * table again within TABLE_DESCRIPTION_MS, and at once when a write finds the table changed.
 * Through the real apps-script/, the webhook, Google's Pub/Sub and Firestore emulators, applyToDb,
 * the relay, applyToSheet and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { TABLE_DESCRIPTION_MS } from '../../functions/src/handlers/apply-to-db/decode.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('schema changes in the database, without a restart', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.parts',
    headers: ['id', 'name', 'qty'],
    link: { addMissingHeaders: true },
    createTable: (sql) => sql`create table public.parts (id int primary key, name text, qty integer)`,
  });

  const column = (name: string): string => {
    const index = (h.tabValues()[0] as unknown[]).indexOf(name);
    if (index < 0) throw new Error(`no header ${name}`);
    return String.fromCharCode(65 + index);
  };
  const sheetRow = (id: number): number => h.tabValues().findIndex((r) => r[0] === id) + 1;
  const tableRow = async (id: number) => (await h.sql`select * from public.parts where id = ${id}`)[0];
  const settle = TABLE_DESCRIPTION_MS * 3;

  it('starts from the table', async () => {
    await h.sql`insert into public.parts values (1, 'bolt', 10), (2, 'nut', 20)`;
    await waitFor('two rows on the sheet', async () => sheetRow(2) > 0);
    // applyToDb describes the table now (the description the schema change makes stale).
    await h.act([{ type: 'edit', range: `${h.tab}!${column('name')}${sheetRow(1)}`, values: [['bolt M6']] }]);
    await waitFor('the first edit', async () => (await tableRow(1))?.name === 'bolt M6');
  });

  it('a column added: its header comes to the sheet, and its edits reach the table', async () => {
    await h.sql`alter table public.parts add column bin text`;
    await h.sql`update public.parts set bin = 'A-1' where id = 1`;
    await waitFor('the bin header and value', async () => {
      const at = (h.tabValues()[0] as unknown[]).indexOf('bin');
      return at >= 0 && h.tabValues()[sheetRow(1) - 1]?.[at] === 'A-1';
    });
    await h.act([{ type: 'edit', range: `${h.tab}!${column('bin')}${sheetRow(2)}`, values: [['B-7']] }]);
    await waitFor('B-7 in the table', async () => (await tableRow(2))?.bin === 'B-7', settle);
  });

  it("a column's type changed: new values are coerced to the new type", async () => {
    await h.sql`alter table public.parts alter column qty type numeric(8,2)`;
    await h.act([{ type: 'edit', range: `${h.tab}!${column('qty')}${sheetRow(2)}`, values: [[2.5]] }]);
    // Typed before applyToDb described the table again, 2.5 was not an integer: typed again
    // after, it is a numeric(8,2).
    await new Promise((resolve) => setTimeout(resolve, TABLE_DESCRIPTION_MS));
    await h.act([{ type: 'edit', range: `${h.tab}!${column('qty')}${sheetRow(2)}`, values: [[3.25]] }]);
    await waitFor('3.25 in the table', async () => String((await tableRow(2))?.qty) === '3.25', settle);
    expect((await tableRow(1))?.qty).toBe('10.00');
  });

  it('a column dropped: the sheet keeps its values, and the other columns keep syncing', async () => {
    await h.sql`alter table public.parts drop column bin`;
    await h.act([{ type: 'edit', range: `${h.tab}!${column('name')}${sheetRow(1)}`, values: [['bolt M8']] }]);
    await waitFor('bolt M8 in the table', async () => (await tableRow(1))?.name === 'bolt M8', settle);
    expect(h.tabValues()[sheetRow(2) - 1]?.[(h.tabValues()[0] as unknown[]).indexOf('bin')]).toBe('B-7');
  });
});
