/**
 * applyToSheet after in-place edits in the sheet (the webhook bumps the `values` sheet epoch for
 * an edit of rows that all had their sync id): it keeps the tab's row positions instead of
 * reading the whole tab, and reads again only the rows a flush writes, whose ids prove the
 * positions. When a row moved anyway (a cut and paste reported as an edit), the ids say so and
 * the whole tab is read, so the database's change still lands on its row.
 * Real PostgreSQL, capture trigger, relay, Pub/Sub and Firestore emulators, the local sheet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbToSheetStack, startDbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { waitFor } from '../support/wait.ts';

describe('database → sheet after in-place edits of the sheet', () => {
  const db = useTestDatabase();
  let stack: DbToSheetStack;

  beforeAll(async () => {
    stack = await startDbToSheetStack(db.sql, {
      table: 'public.leads',
      headers: ['id', 'name', 'email'],
      createTable: (sql) => sql`create table public.leads (id int primary key, name text, email text)`,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const rows = () => tabValues(stack.emulator, stack.spreadsheetId, 'Leads!A2:D10');
  const edit = (range: string, values: unknown[][]) =>
    stack.api.client.spreadsheets.values.update({
      spreadsheetId: stack.spreadsheetId,
      range: `Leads!${range}`,
      valueInputOption: 'RAW',
      requestBody: { values },
    });

  it('reads only the written rows after an edit, and the whole tab when a row moved', async () => {
    await db.sql`insert into leads values (1, 'Ada', 'ada@x'), (2, 'Grace', 'grace@x'), (3, 'Alan', 'alan@x')`;
    await waitFor('three rows on the sheet', async () => rows().length === 3);
    // The first write added the id column, after which the tab is read once more: let that happen.
    await db.sql`update leads set email = 'alan@y' where id = 3`;
    await waitFor("Alan's new email", async () => rows()[2]?.[2] === 'alan@y');
    const before = { ...stack.tab.readCounts };

    // A person edits a cell of Grace's row; the webhook reports an in-place edit.
    await edit('C3', [['grace@typed']]);
    await stack.store.bumpSheetEpoch('leads', 'values');
    await db.sql`update leads set name = 'Grace H.' where id = 2`;
    await waitFor("Grace's new name on the sheet", async () => rows()[1]?.[1] === 'Grace H.');
    expect(rows()[1]!.slice(0, 3)).toEqual([2, 'Grace H.', 'grace@typed']);
    expect(stack.tab.readCounts.apiReads).toBe(before.apiReads); // no whole-tab read
    expect(stack.tab.readCounts.verifiedRows).toBe(before.verifiedRows + 1);

    // A person swaps Ada's and Grace's rows, ids and all, by pasting, and the webhook again
    // reports only an in-place edit. The UPDATE of Ada must land where Ada is now: row 3.
    const [ada, grace] = [rows()[0]!, rows()[1]!];
    await edit('A2:D3', [grace, ada]);
    await stack.store.bumpSheetEpoch('leads', 'values');
    await db.sql`update leads set name = 'Ada L.' where id = 1`;
    await waitFor("Ada's new name on the sheet", async () => rows().some((r) => r[1] === 'Ada L.'));
    expect(rows().map((r) => r.slice(0, 3))).toEqual([
      [2, 'Grace H.', 'grace@typed'],
      [1, 'Ada L.', 'ada@x'],
      [3, 'Alan', 'alan@y'],
    ]);
    expect(stack.tab.readCounts.apiReads).toBe(before.apiReads + 1); // the ids did not match
  });

  it('shows a DB value again over an edit (sheetsync.reshow, applyToDb at its deferral cap)', async () => {
    await waitFor("Alan's row on the sheet", async () => rows()[2]?.[2] === 'alan@y');
    const rowId = String(rows()[2]![3]);
    const before = (await stack.store.readRows('leads', [rowId])).get(rowId)?.cells.email;
    expect(before?.dot).toMatch(/^db:/);
    // A person types over Alan's email, which the table keeps (applyToDb kept the DB value it
    // had not seen after 5 deliveries of the edit): the value is sent to the sheet again.
    await edit('C4', [['alan@typed']]);
    await stack.store.bumpSheetEpoch('leads', 'values');
    expect(
      await db.sql`select sheetsync.reshow('public.leads'::regclass, '[{"id": 3}]'::jsonb, array['email'])`,
    ).toEqual([{ reshow: 1 }]);
    await waitFor("Alan's kept email back on the sheet", async () => rows()[2]?.[2] === 'alan@y');
    expect(rows().map((r) => r.slice(0, 3))).toEqual([
      [2, 'Grace H.', 'grace@typed'],
      [1, 'Ada L.', 'ada@x'],
      [3, 'Alan', 'alan@y'],
    ]);
    // The row document still credits the value to the DB write that made it (dot and time). It
    // is committed after the sheet write: wait for the commit that records the new showing.
    const email = async () => (await stack.store.readRows('leads', [rowId])).get(rowId)?.cells.email;
    await waitFor(
      'the reshow recorded',
      async () => ((await email())?.sheetWrittenAt ?? 0) > before!.sheetWrittenAt,
    );
    const after = await email();
    expect(after).toMatchObject({
      value: 'alan@y',
      dot: before!.dot,
      time: before!.time,
      sheetValue: 'alan@y',
    });
    expect(after!.sheetWrittenAt).toBeGreaterThan(before!.sheetWrittenAt);
  });
});
