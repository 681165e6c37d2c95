/**
 * A person sorts the tab and deletes rows before the sort's trigger ran (issue 17: triggers run
 * apart from the sheet, so a person's next action can come first). The sort's onEdit carries the
 * sorted range as it was; the script must read the rows the grid still has, not fail with "The
 * coordinates of the range are outside the dimensions of the sheet" and drop the event. The
 * local sheet runs the real apps-script/; sheetWebhook, applyToDb, the relay, applyToSheet,
 * Google's Pub/Sub and Firestore emulators and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { applyUserAction } from '../../emulator/src/user-actions/apply-action.ts';
import type { UserAction } from '../../emulator/src/user-actions/schema.ts';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const ROWS = 12;
const TABLE = { schema: 'public', name: 'towns', key: ['id'] };
const COLUMNS = ['id', 'name', 'qty'];

describe('a sort whose trigger runs after rows were deleted', () => {
  const db = useTestDatabase();
  const h = useSyncHarness(db, {
    table: 'public.towns',
    headers: COLUMNS,
    createTable: (sql) => sql`create table public.towns (id int primary key, name text, qty int)`,
  });

  /** Applies the actions to the sheet at once, then runs each one's triggers in order. */
  async function overlapping(actions: UserAction[]): Promise<string[]> {
    const applied = actions.map((action) => applyUserAction(h.emulator.model, h.spreadsheetId, action));
    const runs: string[] = [];
    for (const [i, a] of applied.entries()) {
      const executions = (await h.emulator.appsScript?.fireUserAction(h.spreadsheetId, a.firing)) ?? [];
      for (const e of executions)
        runs.push(`${actions[i]!.type} ${e.functionName} ${e.status}${e.error ? `: ${e.error}` : ''}`);
    }
    return runs;
  }

  it('sends the rows still there, and the table ends equal to the sheet', async () => {
    for (let id = 1; id <= ROWS; id++)
      await h.sql`insert into public.towns values (${id}, ${`town ${id}`}, ${id})`;
    await waitForConvergence(h, TABLE, COLUMNS, ROWS);
    // The grid ends at the last data row, as a full tab's does: no spare rows below.
    const grid = h.emulator.model.get(h.spreadsheetId).resolveA1(h.tab).sheet;
    await h.act([{ type: 'deleteRows', sheet: h.tab, index: ROWS + 1, count: grid.rowCount - ROWS - 1 }]);
    expect(grid.rowCount).toBe(ROWS + 1);
    const idColumn = String.fromCharCode(64 + (h.tabValues()[0] as string[]).indexOf('_sheetsync_id') + 1);

    // Whole rows sorted by qty descending; rows 2–4 (now qty 12, 11, 10) deleted before the
    // sort's trigger runs.
    const runs = await overlapping([
      {
        type: 'sortRange',
        range: `${h.tab}!A2:${idColumn}${ROWS + 1}`,
        sortSpecs: [{ dimensionIndex: 2, sortOrder: 'DESCENDING' }],
      },
      { type: 'deleteRows', sheet: h.tab, index: 1, count: 3 },
    ]);
    expect(runs.filter((r) => !r.endsWith('COMPLETED'))).toEqual([]);
    expect(runs.some((r) => r.startsWith('sortRange handleEdit'))).toBe(true);

    await waitForConvergence(h, TABLE, COLUMNS, ROWS - 3);
    const table = await h.sql<{ id: number }[]>`select id from public.towns order by id`;
    expect(table.map((r) => r.id)).toEqual(Array.from({ length: ROWS - 3 }, (_, i) => i + 1));

    // A person's edit after it reaches the table: nothing was left stuck behind the sort.
    await h.act([{ type: 'edit', range: `${h.tab}!B2`, values: [['edited after']] }]);
    await waitFor('the edit in the table', async () => {
      const [row] = await h.sql<
        { n: number }[]
      >`select count(*)::int as n from public.towns where name = 'edited after'`;
      return row?.n === 1;
    });
  });
});
