/**
 * Rows inserted in the sheet move the rows below them without any data change; applyToSheet
 * writes by the row positions it last read (its kept snapshot). The real apps-script/ sends a
 * `layout` event on onChange INSERT_ROW, the webhook bumps the link's sheet epoch, and the next
 * database change lands in its own row. The local sheet's user actions, sheetWebhook, the Pub/Sub
 * and Firestore emulators, real PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';
import { ID_HEADER } from '../support/sheet-sync-harness.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('rows inserted in the sheet, then a database change', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.towns',
    headers: ['id', 'name'],
    createTable: (sql) => sql`create table public.towns (id int primary key, name text)`,
  });

  const row = (id: number) => h.tabValues().find((r) => r[0] === id);

  it('an UPDATE after empty rows were inserted above its row lands in that row', async () => {
    await h.sql`insert into public.towns values (1, 'Oslo'), (2, 'Lima'), (3, 'Pune')`;
    await waitFor('three rows on the sheet', async () => [1, 2, 3].every((id) => row(id)?.[1] !== undefined));
    // applyToSheet has a kept snapshot of the tab now; warm it with one more change.
    await h.sql`update public.towns set name = 'Oslo.' where id = 1`;
    await waitFor('Oslo.', async () => row(1)?.[1] === 'Oslo.');

    const results = await h.act([{ type: 'insertRows', sheet: h.tab, index: 1, count: 2 }]);
    expect(results[0]!.triggers.map((t) => `${t.functionName}:${t.status}`)).toContain(
      'handleChange:COMPLETED',
    );
    await h.sql`update public.towns set name = 'Lima, Peru' where id = 2`;
    await waitFor('Lima, Peru in its own row', async () => row(2)?.[1] === 'Lima, Peru');
    const values = h.tabValues();
    const idAt = (values[0] as string[]).indexOf(ID_HEADER);
    // The two inserted rows are still empty, and no other row took Lima's value.
    expect(values.slice(1, 3).every((r) => r.slice(0, idAt).every((v) => v === '' || v == null))).toBe(true);
    expect(
      values
        .slice(1)
        .map((r) => r.slice(0, 2))
        .filter((r) => r[0] !== '' && r[0] != null),
    ).toEqual([
      [1, 'Oslo.'],
      [2, 'Lima, Peru'],
      [3, 'Pune'],
    ]);
  });
});
