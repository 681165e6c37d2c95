/**
 * Issue 18, "Done when": a link with `columns: ["name", "email"]` on a table that also has
 * `secret`: an UPDATE of `secret` never reaches the sheet, and a `secret` header typed in the
 * sheet never writes the table. Through the whole pipeline: the real Apps Script in the local
 * sheet, the webhook, Pub/Sub and Firestore emulators, applyToDb, the relay and applyToSheet.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe("a link's columns", () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.people',
    headers: ['id', 'name', 'email'],
    link: { columns: ['name', 'email'] },
    createTable: (sql) =>
      sql`create table public.people (id int primary key, name text, email text, secret text default 'hunter2')`,
  });
  const rowOf = (id: number) => h.tabValues().find((r) => r[0] === id);

  it('an UPDATE of a column outside the list never reaches the sheet, nor its header', async () => {
    await h.sql`insert into public.people (id, name, email) values (1, 'Ada', 'ada@example.com')`;
    await waitFor('the row on the sheet', async () => rowOf(1));
    await h.sql`update public.people set secret = 'rotated-s3cret', name = 'Ada L.' where id = 1`;
    await waitFor('the name on the sheet', async () => rowOf(1)?.[1] === 'Ada L.');
    // A later change flushes after it: the secret had its chance to arrive.
    await h.sql`update public.people set email = 'ada@lovelace.example' where id = 1`;
    await waitFor('the email on the sheet', async () => rowOf(1)?.[2] === 'ada@lovelace.example');
    const values = h.tabValues();
    expect(values[0]).not.toContain('secret');
    expect(JSON.stringify(values)).not.toContain('s3cret');
    expect(JSON.stringify(values)).not.toContain('hunter2');
  });

  it('a header typed with the name of a column outside the list never writes it', async () => {
    await h.act([{ type: 'edit', range: 'Rows!E1', values: [['secret']] }]);
    await h.act([
      { type: 'edit', range: 'Rows!A3:E3', values: [[2, 'Grace', 'grace@example.com', '', 'typed']] },
    ]);
    await h.act([{ type: 'edit', range: 'Rows!E2', values: [['from the sheet']] }]);
    await waitFor('the new row in the table', async () => {
      const [row] = await h.sql`select name from public.people where id = 2`;
      return row?.name === 'Grace';
    });
    await waitFor('the problem reported', async () => h.problems.some((p) => p.code === 'SHEETSYNC_E415'));
    expect(await h.sql`select id, secret from public.people order by id`).toEqual([
      { id: 1, secret: 'rotated-s3cret' },
      { id: 2, secret: 'hunter2' },
    ]);
    const reported = h.problems.filter((p) => p.code === 'SHEETSYNC_E415');
    expect(reported[0]).toMatchObject({ column: 'secret' });
    expect(reported[0]!.message).not.toContain('from the sheet');
  });
});

describe('a column added to the table later', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.staff',
    headers: ['id', 'name'],
    createTable: (sql) => sql`create table public.staff (id int primary key, name text)`,
  });

  it('reaches the sheet only when the link sets addMissingHeaders (default: not)', async () => {
    await h.sql`insert into public.staff values (1, 'Ada')`;
    await waitFor('the row on the sheet', async () => h.tabValues().some((r) => r[0] === 1));
    await h.sql`alter table public.staff add column pin text`;
    await h.sql`update public.staff set pin = 'PIN-4711', name = 'Ada L.' where id = 1`;
    await waitFor('the name on the sheet', async () => h.tabValues().some((r) => r[1] === 'Ada L.'));
    expect(h.tabValues()[0]).not.toContain('pin');
    expect(JSON.stringify(h.tabValues())).not.toContain('PIN-4711');
  });
});
