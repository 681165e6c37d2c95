/**
 * Conflicts in the sheet (issue 22, item 3), through the whole stack: the local sheet running
 * the real apps-script/, the webhook, Pub/Sub and Firestore emulators, PostgreSQL. A `manual`
 * conflict appears in `_sheetsync_conflicts` with both values, their times and sides and the
 * policy, and a strict `take sheet` / `take database` dropdown; picking `take database` there
 * (a person's edit, sent by the script signed like any edit) resolves it on both sides, and
 * the row leaves the tab; `take sheet` carries the sheet's value to the table and the sheet.
 */
import { describe, expect, it } from 'vitest';
import { CONFLICTS_HEADERS, CONFLICTS_TAB } from '../../functions/src/adapters/sheets/conflicts-tab.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['name', 'status'];

describe('the conflicts tab', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.leads',
    headers: COLUMNS,
    link: { conflict: { policy: 'manual' } },
    createTable: (sql) => sql`create table public.leads (name text primary key, status text)`,
  });

  /** The conflicts tab's rows (header first), from the model: polling spends no quota. */
  function conflictsTab(): string[][] {
    if (!h.emulator.model.get(h.spreadsheetId).sheetByTitle(CONFLICTS_TAB)) return [];
    return h.tabValues(CONFLICTS_TAB).map((row) => row.map((v) => String(v ?? '')));
  }
  const statusOf = async (name: string) =>
    (await h.sql<{ status: string }[]>`select status from leads where name = ${name}`)[0]?.status;
  const sheetStatus = (name: string) => h.tabValues().find((r) => r[0] === name)?.[1];
  const rowOf = (name: string) => h.tabValues().findIndex((r) => r[0] === name) + 1;
  /** The note of `name`'s status cell in the data tab, from the model. */
  const statusNote = (name: string) =>
    h.emulator.model
      .get(h.spreadsheetId)
      .sheetByTitle(h.tab)
      ?.getCell(rowOf(name) - 1, 1)?.note;

  /**
   * The DB changes a cell and, before that change reaches the sheet, a person edits the same
   * cell there: under `manual` applyToDb keeps the DB value and records an open conflict.
   */
  async function plantConflict(name: string, dbValue: string, sheetValue: string) {
    const range = `Rows!B${rowOf(name)}`;
    await h.sql`update public.leads set status = ${dbValue} where name = ${name}`;
    await h.act([{ type: 'edit', range, values: [[sheetValue]] }]);
    return waitFor(
      `the conflict on ${name} in the conflicts tab`,
      async () => conflictsTab().find((r) => r[4] === sheetValue),
      30_000,
    );
  }

  it('lists a manual conflict; `take database` there resolves it on both sides', async () => {
    await h.act([
      {
        type: 'edit',
        range: 'Rows!A2:B3',
        values: [
          ['Ada', 'new'],
          ['Grace', 'new'],
        ],
      },
    ]);
    await waitFor('both rows in the table', async () => (await h.sql`select 1 from leads`).length === 2);

    const row = await plantConflict('Ada', 'db-kept', 'sheet-lost');
    // The conflicting cell in the data tab carries a note with its two values while open.
    const note = await waitFor('the conflict note on Ada', async () => statusNote('Ada'), 10_000);
    expect(note).toMatch(/^sheetsync: this cell is in conflict\.\n/);
    expect(note).toContain('"sheet-lost"');
    expect(note).toContain('"db-kept"');
    expect(note).toContain('_sheetsync_conflicts');
    const tab = conflictsTab();
    expect(tab[0]).toEqual([...CONFLICTS_HEADERS]);
    const [conflictId, link, key, column, sheetValue, sheetAt, dbValue, dbAt, kept, policy, choose] = row;
    const open = (await h.store.listOpenConflicts('rows'))[0]!;
    // Planted so, the conflict is decided before applyToSheet saw the DB change (reason
    // `unobserved`, recorded as policy keep-db-unobserved): kept open for a person, as `manual` is.
    expect(open).toMatchObject({ status: 'open', outcome: 'db' });
    expect({
      conflictId,
      link,
      key,
      column,
      sheetValue,
      dbValue,
      kept,
      policy,
      choose: choose ?? '',
    }).toEqual({
      conflictId: open.id,
      link: 'rows',
      key: '{"name":"Ada"}',
      column: 'status',
      sheetValue: 'sheet-lost',
      dbValue: 'db-kept',
      kept: 'database: db-kept',
      policy: open.policy,
      choose: '',
    });
    expect(Date.parse(sheetAt!)).toBeGreaterThan(0);
    expect(dbAt === '' || Date.parse(dbAt!) > 0).toBe(true);
    // The choice column is a strict dropdown of the two choices.
    const at = tab.findIndex((r) => r[0] === open.id);
    const rule = h.emulator.model
      .get(h.spreadsheetId)
      .sheetByTitle(CONFLICTS_TAB)!
      .getCell(at, CONFLICTS_HEADERS.length - 1)?.dataValidation;
    expect(rule).toMatchObject({
      condition: {
        type: 'ONE_OF_LIST',
        values: [{ userEnteredValue: 'take sheet' }, { userEnteredValue: 'take database' }],
      },
      strict: true,
    });
    // Something outside the list is refused by the sheet itself.
    await expect(
      h.act([{ type: 'edit', range: `'${CONFLICTS_TAB}'!K${at + 1}`, values: [['take both']] }]),
    ).rejects.toThrow();

    // A person picks `take database` in the tab: the script sends it, the webhook resolves it.
    await h.act([{ type: 'edit', range: `'${CONFLICTS_TAB}'!K${at + 1}`, values: [['take database']] }]);
    await waitFor(
      'the row gone from the conflicts tab',
      async () => !conflictsTab().some((r) => r[0] === open.id),
    );
    expect(await h.store.listOpenConflicts('rows')).toEqual([]);
    await waitFor('db-kept on the sheet', async () => sheetStatus('Ada') === 'db-kept', 30_000);
    // The script took the conflict note and fill off the data cell (no change came back to do it).
    await waitFor('the conflict note on Ada gone', async () => statusNote('Ada') === undefined, 10_000);
    const cell = h.emulator.model
      .get(h.spreadsheetId)
      .sheetByTitle(h.tab)
      ?.getCell(rowOf('Ada') - 1, 1);
    expect(cell?.format?.backgroundColor).toBeUndefined();
    expect(await statusOf('Ada')).toBe('db-kept');
  });

  it('`take sheet` carries the sheet value to the table and the sheet', async () => {
    const row = await plantConflict('Grace', 'db-lost', 'sheet-kept');
    await waitFor('the conflict note on Grace', async () => statusNote('Grace'), 10_000);
    const at = conflictsTab().findIndex((r) => r[0] === row[0]);
    expect(at).toBeGreaterThan(0);
    await h.act([{ type: 'edit', range: `'${CONFLICTS_TAB}'!K${at + 1}`, values: [['take sheet']] }]);
    await waitFor('sheet-kept in the table', async () => (await statusOf('Grace')) === 'sheet-kept', 30_000);
    await waitFor('sheet-kept on the sheet', async () => sheetStatus('Grace') === 'sheet-kept', 30_000);
    // The value taken synced: the cell's conflict note goes.
    await waitFor('the conflict note gone', async () => statusNote('Grace') === undefined, 10_000);
    await waitFor('the tab emptied', async () => conflictsTab().length === 1);
    expect(await h.store.listOpenConflicts('rows')).toEqual([]);
  });
});
