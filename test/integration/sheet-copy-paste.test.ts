/**
 * Copy-paste of whole rows (issue 19): a copy of rows carries their hidden `_sheetsync_id` cells
 * (the local sheet's `copyPaste` user action pastes hidden cells too, as Google does, and fires
 * one onEdit for the pasted range: https://developers.google.com/apps-script/guides/triggers/events).
 * A copy is a row of its own: it never shares a sync id with another row, it is never linked to
 * the table row whose key it carries (SHEETSYNC_E416), and a row pasted over is not deleted: its
 * table values go back to the sheet. Through the real apps-script/, the webhook, Google's Pub/Sub
 * and Firestore emulators, applyToDb, applyToSheet and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';
import { ID_HEADER } from '../support/sheet-sync-harness.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('copy-paste of whole rows', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.people',
    headers: ['id', 'name', 'email'],
    createTable: (sql) =>
      sql`create table public.people (id int primary key, name text not null, email text)`,
  });

  const headers = () => h.tabValues()[0] as unknown[];
  const letter = (index: number) => String.fromCharCode(65 + index);
  /** The data rows (2..) with their sync id and values by header. */
  const rows = () =>
    (h.tabValues().slice(1) as unknown[][])
      .map((values, i) => {
        const record: Record<string, unknown> = { row: i + 2 };
        headers().forEach((header, c) => {
          if (typeof header === 'string' && header !== '') record[header] = values[c];
        });
        return record;
      })
      .filter((r) => r.id !== '' && r.id != null);
  const rowOf = (id: number) => {
    const found = rows().filter((r) => r.id === id);
    if (found.length === 0) throw new Error(`no row with id ${id}`);
    return found[0]!.row as number;
  };
  /** Row `row` from A to the hidden id column: what selecting the whole row copies. */
  const wholeRow = (row: number) => `${h.tab}!A${row}:${letter(headers().indexOf(ID_HEADER))}${row}`;
  const table = async () => h.sql`select id, name, email from public.people order by id`;
  const idColumn = () => headers().indexOf('id');
  const syncIds = () => rows().map((r) => r[ID_HEADER]);
  const e416 = () => h.problems.filter((p) => p.code === 'SHEETSYNC_E416');

  it('starts from the table', async () => {
    await h.sql`insert into public.people values (1, 'Ada', 'ada@example.com'), (2, 'Ben', 'ben@example.com'), (3, 'Cy', 'cy@example.com')`;
    await waitFor('three rows on the sheet', async () => rows().length === 3);
  });

  it('a copy pasted below whose key the table holds is refused, not linked to that row', async () => {
    const last = h.tabValues().length;
    const results = await h.act([
      { type: 'copyPaste', source: wholeRow(rowOf(2)), destination: `${h.tab}!A${last + 1}` },
    ]);
    expect(results[0]!.triggers.map((t) => `${t.functionName}:${t.status}`)).toContain(
      'handleEdit:COMPLETED',
    );
    await waitFor('the copy reported', async () => e416().length === 1);
    // Never two rows with one sync id: the copy got its own.
    const ids = syncIds();
    expect(new Set(ids).size).toBe(ids.length);
    expect(rows().filter((r) => r.id === 2)).toHaveLength(2);
    expect(e416()[0]!.message).toContain('id');
    expect(e416()[0]!.message).not.toContain('Ben');
    // The table row it was copied from is untouched; nothing was added.
    expect(await table()).toEqual([
      { id: 1, name: 'Ada', email: 'ada@example.com' },
      { id: 2, name: 'Ben', email: 'ben@example.com' },
      { id: 3, name: 'Cy', email: 'cy@example.com' },
    ]);
  });

  it('the copy given a key of its own becomes a new table row with every value it kept', async () => {
    const copyRow = rows().filter((r) => r.id === 2)[1]!.row as number;
    await h.act([{ type: 'edit', range: `${h.tab}!${letter(idColumn())}${copyRow}`, values: [[20]] }]);
    await waitFor('row 20 in the table', async () => (await table()).length === 4);
    expect((await table()).find((r) => r.id === 20)).toEqual({
      id: 20,
      name: 'Ben',
      email: 'ben@example.com',
    });
    // Editing the copy now changes only its own row, and the original only its own.
    await h.act([
      {
        type: 'edit',
        range: `${h.tab}!${letter(headers().indexOf('name'))}${rowOf(20)}`,
        values: [['Ben II']],
      },
      {
        type: 'edit',
        range: `${h.tab}!${letter(headers().indexOf('email'))}${rowOf(2)}`,
        values: [['b@b.org']],
      },
    ]);
    await waitFor('both edits in the table', async () => {
      const t = await table();
      return t.find((r) => r.id === 20)?.name === 'Ben II' && t.find((r) => r.id === 2)?.email === 'b@b.org';
    });
    const t = await table();
    expect(t.find((r) => r.id === 2)).toEqual({ id: 2, name: 'Ben', email: 'b@b.org' });
    expect(t.find((r) => r.id === 20)).toEqual({ id: 20, name: 'Ben II', email: 'ben@example.com' });
  });

  it('a copy pasted below with a key the table does not hold is a new row', async () => {
    // Copy row 3, then paste it below and give it key 30 in the same paste's row: two steps a
    // person takes; the paste alone is refused (key 3 is held), the key edit inserts it.
    const last = h.tabValues().length;
    await h.act([{ type: 'copyPaste', source: wholeRow(rowOf(3)), destination: `${h.tab}!A${last + 1}` }]);
    await waitFor('the second copy reported', async () => e416().length === 2);
    await h.act([{ type: 'edit', range: `${h.tab}!${letter(idColumn())}${last + 1}`, values: [[30]] }]);
    await waitFor('row 30 in the table', async () => (await table()).some((r) => r.id === 30));
    expect((await table()).find((r) => r.id === 30)).toEqual({ id: 30, name: 'Cy', email: 'cy@example.com' });
    expect((await table()).find((r) => r.id === 3)).toEqual({ id: 3, name: 'Cy', email: 'cy@example.com' });
  });

  it('a whole row pasted over another: its duplicate key is refused, nothing is deleted, the row pasted over comes back', async () => {
    const before = await table();
    const reported = e416().length;
    await h.act([{ type: 'copyPaste', source: wholeRow(rowOf(1)), destination: `${h.tab}!A${rowOf(3)}` }]);
    await waitFor('the paste reported', async () => e416().length === reported + 1);
    // Row 3's table values are on the sheet again (with its own sync id), and no row was deleted.
    await waitFor('row 3 back on the sheet', async () => rows().some((r) => r.id === 3 && r.name === 'Cy'));
    expect(await table()).toEqual(before);
    const ids = syncIds();
    expect(new Set(ids).size).toBe(ids.length);
    // A later structure event (a row deleted elsewhere) deletes only that row.
    await h.act([{ type: 'deleteRows', sheet: h.tab, index: rowOf(30) - 1, count: 1 }]);
    await waitFor('row 30 deleted', async () => !(await table()).some((r) => r.id === 30));
    expect((await table()).map((r) => r.id)).toEqual([1, 2, 3, 20]);
  });
});
