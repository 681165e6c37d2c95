/**
 * A header the table lacks (issue 19, item 3): with the opt-in link option `addMissingColumns`,
 * values typed under a new header add a table column (`numeric` when all are numbers, `boolean`
 * when all are true/false, else `text`), the name quoted and checked against a safe pattern;
 * without the option the header is reported (SHEETSYNC_E408) and the table is left alone.
 * Through the real apps-script/, the webhook, Google's Pub/Sub and Firestore emulators,
 * applyToDb, the relay, applyToSheet and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const columnsOf = async (sql: { unsafe: (q: string) => Promise<unknown[]> }) =>
  Object.fromEntries(
    (
      (await sql.unsafe(
        `select column_name, data_type from information_schema.columns
          where table_schema = 'public' and table_name = 'stock' order by ordinal_position`,
      )) as Array<{ column_name: string; data_type: string }>
    ).map((r) => [r.column_name, r.data_type]),
  );

describe('a new sheet header with addMissingColumns', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.stock',
    headers: ['id', 'name'],
    link: { addMissingColumns: true },
    createTable: (sql) => sql`create table public.stock (id int primary key, name text)`,
  });
  const row = async (id: number) => (await h.sql`select * from public.stock where id = ${id}`)[0];

  it('starts from the table', async () => {
    await h.sql`insert into public.stock values (1, 'bolt'), (2, 'nut')`;
    await waitFor('two rows on the sheet', async () => h.tabValues().length >= 3);
    expect(h.tabValues()[0]!.slice(0, 2)).toEqual(['id', 'name']);
  });

  it('numbers under a new header add a numeric column, and the values reach it', async () => {
    // The id column (C) is hidden after the data columns: the new header goes in D.
    const at = h.tabValues()[0]!.length;
    const letter = String.fromCharCode(65 + at);
    await h.act([{ type: 'edit', range: `${h.tab}!${letter}1`, values: [['unit_price']] }]);
    await h.act([{ type: 'edit', range: `${h.tab}!${letter}2:${letter}3`, values: [[1.5], [2]] }]);
    // The rows travel apart (one key bucket each): wait for both.
    await waitFor(
      'both prices in the table',
      async () => String((await row(1))?.unit_price) === '1.5' && String((await row(2))?.unit_price) === '2',
    );
    expect(String((await row(1))?.unit_price)).toBe('1.5');
    expect(await columnsOf(h.sql)).toMatchObject({ unit_price: 'numeric' });
  });

  it('true/false under a new header add a boolean column; other values a text column', async () => {
    // Rows travel apart (a key bucket each), so each row's values alone must suggest the type.
    const at = h.tabValues()[0]!.length;
    const [b, t] = [String.fromCharCode(65 + at), String.fromCharCode(66 + at)];
    await h.act([{ type: 'edit', range: `${h.tab}!${b}1:${t}1`, values: [['in_stock', 'notes']] }]);
    await h.act([
      {
        type: 'edit',
        range: `${h.tab}!${b}2:${t}3`,
        values: [
          [true, 'top shelf'],
          [false, 'bin 4'],
        ],
      },
    ]);
    await waitFor(
      'the flags and notes in the table',
      async () => (await row(1))?.notes === 'top shelf' && (await row(2))?.notes === 'bin 4',
    );
    expect(await columnsOf(h.sql)).toMatchObject({ in_stock: 'boolean', notes: 'text' });
    expect((await row(1))?.in_stock).toBe(true);
    expect((await row(2))?.in_stock).toBe(false);
    expect((await row(1))?.notes).toBe('top shelf');
  });

  it('a header that is no safe column name is reported, and adds nothing', async () => {
    const at = h.tabValues()[0]!.length;
    const letter = String.fromCharCode(65 + at);
    const before = await columnsOf(h.sql);
    await h.act([
      { type: 'edit', range: `${h.tab}!${letter}1`, values: [['unit cost"; drop table stock; --']] },
    ]);
    await h.act([{ type: 'edit', range: `${h.tab}!${letter}2`, values: [[3]] }]);
    await waitFor('an E426 report', async () => h.problems.some((p) => p.code === 'SHEETSYNC_E426'));
    expect(await columnsOf(h.sql)).toEqual(before);
    const problem = h.problems.find((p) => p.code === 'SHEETSYNC_E426')!;
    expect(problem.message).toContain('letters, digits and underscores');
  });
});

describe('a new sheet header without addMissingColumns', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.stock',
    headers: ['id', 'name'],
    createTable: (sql) => sql`create table public.stock (id int primary key, name text)`,
  });

  it('is reported as a header not in the table, and the table keeps its columns', async () => {
    await h.sql`insert into public.stock values (1, 'bolt')`;
    await waitFor('the row on the sheet', async () => h.tabValues().length >= 2);
    const at = h.tabValues()[0]!.length;
    const letter = String.fromCharCode(65 + at);
    await h.act([{ type: 'edit', range: `${h.tab}!${letter}1`, values: [['unit_price']] }]);
    await h.act([{ type: 'edit', range: `${h.tab}!${letter}2`, values: [[1.5]] }]);
    await waitFor('an E408 report', async () =>
      h.problems.some((p) => p.code === 'SHEETSYNC_E408' && p.column === 'unit_price'),
    );
    expect(Object.keys(await columnsOf(h.sql))).toEqual(['id', 'name']);
  });

  it('a header renamed to a name the table lacks is reported; the column keeps its values', async () => {
    await h.act([{ type: 'edit', range: `${h.tab}!B1`, values: [['full_name']] }]);
    await h.act([{ type: 'edit', range: `${h.tab}!B2`, values: [['bolt M6']] }]);
    await waitFor('an E408 report for full_name', async () =>
      h.problems.some((p) => p.code === 'SHEETSYNC_E408' && p.column === 'full_name'),
    );
    expect((await h.sql`select name from public.stock where id = 1`)[0]?.name).toBe('bolt');
    expect(Object.keys(await columnsOf(h.sql))).toEqual(['id', 'name']);
  });
});
