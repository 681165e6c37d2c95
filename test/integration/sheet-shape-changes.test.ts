/**
 * Changes of shape in the sheet never lose data and never stop the sync (issue 19, item 3): a
 * person inserts, moves and deletes columns, clears cells and pastes rows, in the local sheet's
 * user actions, which fire the triggers Google fires for them (onEdit for value changes, onChange
 * INSERT_COLUMN / REMOVE_COLUMN / OTHER: https://developers.google.com/apps-script/guides/triggers/events).
 * Through the real apps-script/, the webhook, Google's Pub/Sub and Firestore emulators, applyToDb,
 * applyToSheet and PostgreSQL. Headers are matched by name, never by position.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';
import { ID_HEADER } from '../support/sheet-sync-harness.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('changes of shape in the sheet', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.people',
    headers: ['id', 'name', 'email', 'company'],
    createTable: (sql) =>
      sql`create table public.people (id int primary key, name text not null, email text, company text)`,
  });

  /** The sheet's rows as objects by header, found by the `id` column wherever it is now. */
  const sheetRows = (): Map<number, Record<string, unknown>> => {
    const [headers, ...rows] = h.tabValues() as unknown[][];
    const byId = new Map<number, Record<string, unknown>>();
    for (const values of rows) {
      const record: Record<string, unknown> = {};
      headers!.forEach((header, i) => {
        if (typeof header === 'string' && header !== '' && header !== ID_HEADER) record[header] = values[i];
      });
      if (typeof record.id === 'number') byId.set(record.id, record);
    }
    return byId;
  };
  const column = (name: string): string => {
    const index = (h.tabValues()[0] as unknown[]).indexOf(name);
    if (index < 0) throw new Error(`no header ${name}`);
    return String.fromCharCode(65 + index);
  };
  /** The 1-based sheet row that shows the row of `id`. */
  const rowOf = (id: number): number => {
    const [headers, ...rows] = h.tabValues() as unknown[][];
    const at = headers!.indexOf('id');
    const index = rows.findIndex((r) => r[at] === id);
    if (index < 0) throw new Error(`no row with id ${id}`);
    return index + 2;
  };
  const tableRow = async (id: number) => (await h.sql`select * from public.people where id = ${id}`)[0];

  it('starts from the table', async () => {
    await h.sql`insert into public.people values
      (1, 'Ada', 'ada@example.com', 'Analytical'),
      (2, 'Ben', 'ben@example.com', 'Bakery'),
      (3, 'Cy', 'cy@example.com', 'Cycles'),
      (4, 'Di', 'di@example.com', 'Dairy')`;
    await waitFor('four rows on the sheet', async () => sheetRows().size === 4);
  });

  it('a column inserted between data columns: every other column keeps syncing', async () => {
    const results = await h.act([{ type: 'insertColumns', sheet: h.tab, index: 2, count: 1 }]);
    expect(results[0]!.triggers.map((t) => `${t.functionName}:${t.status}`)).toContain(
      'handleChange:COMPLETED',
    );
    await h.act([
      { type: 'edit', range: `${h.tab}!${column('email')}${rowOf(1)}`, values: [['ada@lovelace.org']] },
    ]);
    await waitFor(
      'the new email in the table',
      async () => (await tableRow(1))?.email === 'ada@lovelace.org',
    );
    // A database change lands under its header, not in the inserted column.
    await h.sql`update public.people set company = 'Engines' where id = 1`;
    await waitFor('Engines under company', async () => sheetRows().get(1)?.company === 'Engines');
    const inserted = (h.tabValues() as unknown[][]).map((r) => r[2]);
    expect(inserted.every((v) => v === '' || v == null)).toBe(true);
  });

  it('a column moved: edits of it and of the others reach their own table columns', async () => {
    const from = (h.tabValues()[0] as unknown[]).indexOf('company');
    await h.act([{ type: 'moveColumns', sheet: h.tab, index: from, count: 1, destinationIndex: 1 }]);
    expect(column('company')).toBe('B');
    await h.act([
      { type: 'edit', range: `${h.tab}!${column('company')}${rowOf(2)}`, values: [['Bread & Co']] },
      { type: 'edit', range: `${h.tab}!${column('name')}${rowOf(2)}`, values: [['Benjamin']] },
    ]);
    await waitFor('both edits in the table', async () => {
      const row = await tableRow(2);
      return row?.company === 'Bread & Co' && row?.name === 'Benjamin';
    });
    expect((await tableRow(2))?.email).toBe('ben@example.com');
  });

  it('a cleared cell sets the column to NULL', async () => {
    await h.act([{ type: 'clear', range: `${h.tab}!${column('email')}${rowOf(3)}` }]);
    await waitFor('a NULL email', async () => (await tableRow(3))?.email === null);
    expect((await tableRow(3))?.name).toBe('Cy');
  });

  it('a cleared NOT NULL cell is refused, reported, and shows the table value again', async () => {
    const before = h.problems.length;
    await h.act([{ type: 'clear', range: `${h.tab}!${column('name')}${rowOf(4)}` }]);
    await waitFor('the refusal reported', async () => h.problems.length > before);
    await waitFor('Di back on the sheet', async () => sheetRows().get(4)?.name === 'Di');
    expect((await tableRow(4))?.name).toBe('Di');
  });

  it('a data column deleted in the sheet deletes nothing in the table; the others keep syncing', async () => {
    const before = await h.sql`select * from public.people order by id`;
    const at = (h.tabValues()[0] as unknown[]).indexOf('email');
    const results = await h.act([{ type: 'deleteColumns', sheet: h.tab, index: at, count: 1 }]);
    expect(results[0]!.triggers.map((t) => `${t.functionName}:${t.status}`)).toContain(
      'handleChange:COMPLETED',
    );
    await h.act([{ type: 'edit', range: `${h.tab}!${column('name')}${rowOf(1)}`, values: [['Ada L.']] }]);
    await waitFor('the name edit in the table', async () => (await tableRow(1))?.name === 'Ada L.');
    const after = await h.sql`select * from public.people order by id`;
    expect(after.map((r) => r.email)).toEqual(before.map((r) => r.email));
    expect(after).toHaveLength(before.length);
  });

  it('every cell a person sees in a row cleared: the table row is deleted, like deleting the row', async () => {
    const row = rowOf(3);
    await h.act([
      {
        type: 'clear',
        range: `${h.tab}!A${row}:${String.fromCharCode(64 + (h.tabValues()[0] as unknown[]).indexOf(ID_HEADER))}${row}`,
      },
    ]);
    await waitFor('row 3 gone from the table', async () => (await tableRow(3)) === undefined);
    expect((await h.sql`select count(*)::int as n from public.people`)[0]!.n).toBe(3);
  });
});
