/**
 * A table column renamed or dropped in PostgreSQL (issue 19, item 2): renamed, the sheet's header
 * is renamed and the column keeps syncing both ways; dropped, the sheet keeps the column and its
 * values, the errors tab says once that it no longer syncs, and nothing else changes. Capture and
 * the relay record a SCHEMA outbox row (sql/install.sql note_schema), applyToSheet renames the
 * header before it writes under the new name. Through the real apps-script/, the webhook, Google's
 * Pub/Sub and Firestore emulators, applyToDb, the relay, applyToSheet and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { TABLE_DESCRIPTION_MS } from '../../functions/src/handlers/apply-to-db/decode.ts';
import { SCHEMA_CHECK_MS } from '../../functions/src/relay/outbox-relay.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

describe('a table column renamed or dropped in the database', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.bins',
    headers: ['id', 'name', 'qty', 'bin'],
    createTable: (sql) =>
      sql`create table public.bins (id int primary key, name text, qty integer, bin text)`,
  });

  const headers = () => h.tabValues()[0] as unknown[];
  const column = (name: string): string => {
    const index = headers().indexOf(name);
    if (index < 0) throw new Error(`no header ${name}`);
    return String.fromCharCode(65 + index);
  };
  const cell = (id: number, header: string) =>
    h.tabValues().find((r) => r[0] === id)?.[headers().indexOf(header)];
  const sheetRow = (id: number): number => h.tabValues().findIndex((r) => r[0] === id) + 1;
  const tableRow = async (id: number) => (await h.sql`select * from public.bins where id = ${id}`)[0];
  const errorsTabCodes = (code: string) =>
    h.tabValues('_sheetsync_errors').filter((r) => r.some((c) => String(c).startsWith(code)));
  const settle = TABLE_DESCRIPTION_MS * 3;

  it('starts from the table', async () => {
    await h.sql`insert into public.bins values (1, 'bolt', 10, 'A-1'), (2, 'nut', 20, 'B-2')`;
    await waitFor('two rows on the sheet', async () => sheetRow(2) > 0);
    await h.act([{ type: 'edit', range: `${h.tab}!${column('name')}${sheetRow(1)}`, values: [['bolt M6']] }]);
    await waitFor('the first edit', async () => (await tableRow(1))?.name === 'bolt M6');
  });

  it('renamed with no write after it: the header is renamed, and the column syncs both ways', async () => {
    await h.sql`alter table public.bins rename column name to title`;
    // No write follows: the relay notices the change when idle (SCHEMA_CHECK_MS).
    await waitFor('the header renamed', async () => headers().includes('title'), SCHEMA_CHECK_MS * 5);
    expect(headers()).not.toContain('name');
    expect(cell(1, 'title')).toBe('bolt M6');
    await h.sql`update public.bins set title = 'bolt M8' where id = 1`;
    await waitFor('bolt M8 on the sheet', async () => cell(1, 'title') === 'bolt M8');
    await h.act([{ type: 'edit', range: `${h.tab}!${column('title')}${sheetRow(2)}`, values: [['nut M8']] }]);
    await waitFor('nut M8 in the table', async () => (await tableRow(2))?.title === 'nut M8', settle);
    expect(headers().filter((x) => x !== '')).toEqual(['id', 'title', 'qty', 'bin', '_sheetsync_id']);
  });

  it('renamed and written at once: the value lands under the renamed header, no column added', async () => {
    await h.sql`alter table public.bins rename column qty to quantity`;
    await h.sql`update public.bins set quantity = 11 where id = 1`;
    await waitFor('11 under quantity', async () => cell(1, 'quantity') === 11);
    expect(headers()).not.toContain('qty');
    expect(cell(2, 'quantity')).toBe(20);
    await h.act([{ type: 'edit', range: `${h.tab}!${column('quantity')}${sheetRow(2)}`, values: [[21]] }]);
    // An edit made while the rename's re-recorded values travel may be shown overwritten for a
    // moment (a conflict the sheet's later edit wins): both sides end with it.
    await waitFor(
      '21 on both sides',
      async () => (await tableRow(2))?.quantity === 21 && cell(2, 'quantity') === 21,
      settle,
    );
    expect(headers().filter((x) => x !== '')).toEqual(['id', 'title', 'quantity', 'bin', '_sheetsync_id']);
  });

  it('dropped: the sheet keeps its values, one errors-tab entry, the rest keeps syncing', async () => {
    const before = h.tabValues().map((r) => [...r]);
    await h.sql`alter table public.bins drop column bin`;
    await waitFor(
      'one E423 in the errors tab',
      async () => errorsTabCodes('SHEETSYNC_E423').length > 0,
      SCHEMA_CHECK_MS * 5,
    );
    // Nothing else on the sheet changed.
    expect(h.tabValues()).toEqual(before);
    await h.sql`update public.bins set title = 'bolt M10' where id = 1`;
    await waitFor('bolt M10 on the sheet', async () => cell(1, 'title') === 'bolt M10');
    await h.act([
      { type: 'edit', range: `${h.tab}!${column('title')}${sheetRow(2)}`, values: [['nut M10']] },
    ]);
    await waitFor('nut M10 in the table', async () => (await tableRow(2))?.title === 'nut M10', settle);
    // No error loop: after more writes and the relay's idle checks, still one report.
    await new Promise((resolve) => setTimeout(resolve, SCHEMA_CHECK_MS * 2));
    expect(errorsTabCodes('SHEETSYNC_E423')).toHaveLength(1);
    expect(h.problems.filter((p) => p.code === 'SHEETSYNC_E423')).toHaveLength(1);
    expect(errorsTabCodes('SHEETSYNC_E423')[0]).toContain('bin');
    expect(cell(1, 'bin')).toBe('A-1');
    expect(cell(2, 'bin')).toBe('B-2');
  });
});
