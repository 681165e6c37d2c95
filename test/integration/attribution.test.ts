/**
 * Who changed what (issue 22, item 4), through the whole stack with the real apps-script/: with
 * `attribution: {"column": "updated_by"}` each sheet edit writes the editor's email, as Apps
 * Script gives it in `e.user` (the local sheet's user, user@example.com), to that table column;
 * a link without it leaves the column alone.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('attribution', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.notes',
    headers: ['id', 'body'],
    link: { attribution: { column: 'updated_by' } },
    createTable: (sql) => sql`create table public.notes (id int primary key, body text, updated_by text)`,
  });

  it("writes the editor's email to the attribution column with each sheet change", async () => {
    await h.act([{ type: 'edit', range: 'Rows!A2:B2', values: [[1, 'first']] }]);
    await waitFor('the row in the table', async () => (await h.sql`select 1 from notes`).length === 1);
    expect(await h.sql`select id, body, updated_by from notes`).toEqual([
      { id: 1, body: 'first', updated_by: 'user@example.com' },
    ]);
    // A change made in the database names no one; the next sheet edit names its editor again.
    await h.sql`update notes set updated_by = 'batch-job' where id = 1`;
    await h.act([{ type: 'edit', range: 'Rows!B2', values: [['second']] }]);
    await waitFor(
      'the edit in the table',
      async () => (await h.sql`select body from notes`)[0]?.body === 'second',
    );
    expect((await h.sql`select updated_by from notes`)[0]?.updated_by).toBe('user@example.com');
  });
});
