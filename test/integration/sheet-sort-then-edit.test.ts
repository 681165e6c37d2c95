/**
 * A person sorts the visible columns (not the hidden id column) and types into a sorted row
 * before the script has written the ids that follow the rows. The typed cell reaches the sheet
 * while the sort's trigger waits for the webhook's answer; the edit's own trigger waits for the
 * script lock. The ids must still follow the rows, and the typed value must reach the row it was
 * typed into, not the row whose id stayed in that position. Through the real apps-script/, the
 * webhook, Google's Pub/Sub and Firestore emulators, applyToDb and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty', 'note'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };

describe('typing into rows sorted without their ids, before the ids follow', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.items',
    headers: COLUMNS,
    createTable: (sql) =>
      sql`create table public.items (sku text primary key, name text, qty integer, note text)`,
  });

  const converged = (rows: number) => waitForConvergence(h, TABLE, COLUMNS, rows);

  /**
   * Sorts A2:D7 (the visible columns) as a person would, and runs `meanwhile` once while
   * the webhook looks at that sort: when it reads the rows' documents in its check for rows
   * sorted without their ids (sheet-webhook/handler.ts), not when applyToSheet reads them for
   * the echoes of earlier edits. Returns whether `meanwhile` ran.
   */
  async function sortWhile(
    sortSpec: { dimensionIndex: number; sortOrder: 'ASCENDING' | 'DESCENDING' },
    meanwhile: (link: string) => Promise<void>,
  ): Promise<boolean> {
    const readRows = h.store.readRows.bind(h.store);
    let ran = false;
    h.store.readRows = async (link: string, ids: readonly string[]): Promise<Map<string, RowDocument>> => {
      if (!ran && new Error().stack?.includes('sortedWithoutIds')) {
        ran = true;
        await meanwhile(link);
      }
      return readRows(link, ids);
    };
    try {
      await h.act([{ type: 'sortRange', range: 'Rows!A2:D7', sortSpecs: [sortSpec] }]);
    } finally {
      h.store.readRows = readRows;
    }
    return ran;
  }

  /** Writes cells through the Sheets API, as a person's typing that no trigger has seen yet. */
  async function typeSilently(range: string, values: unknown[][]): Promise<void> {
    const response = await fetch(
      `${h.emulator.url}/v4/spreadsheets/${h.spreadsheetId}/values/${encodeURIComponent(range)}?valueInputOption=USER_ENTERED`,
      { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values }) },
    );
    if (!response.ok) throw new Error(`writing ${range} failed: ${await response.text()}`);
  }

  it('the ids follow the rows and the typed value reaches the row it was typed into', async () => {
    await h.act([
      {
        type: 'edit',
        range: 'Rows!A2:D7',
        values: [
          ['S-1', 'one', 1, ''],
          ['S-2', 'two', 2, ''],
          ['S-3', 'three', 3, ''],
          ['S-4', 'four', 4, ''],
          ['S-5', 'five', 5, ''],
          ['S-6', 'six', 6, ''],
        ],
      },
    ]);
    await converged(6);

    // While the webhook looks at the sort (it reads the rows' documents), the person types into
    // the first sorted row: S-6 after a descending sort by qty, in the position S-1's id stayed.
    const typed = await sortWhile({ dimensionIndex: 2, sortOrder: 'DESCENDING' }, () =>
      typeSilently('Rows!D2', [['typed right after the sort']]),
    );
    expect(typed).toBe(true);
    // The edit's trigger runs after the sort's (the script lock): the same cell, as typed.
    await h.act([{ type: 'edit', range: 'Rows!D2', values: [['typed right after the sort']] }]);

    await waitFor(
      'the note on S-6',
      async () =>
        (await h.sql`select note from items where sku = 'S-6'`)[0]?.note === 'typed right after the sort',
      30_000,
    );
    await converged(6);
    expect(
      h
        .tabValues()
        .slice(1)
        .map((r) => r[0]),
    ).toEqual(['S-6', 'S-5', 'S-4', 'S-3', 'S-2', 'S-1']);
    const notes = await h.sql`select sku, note from items where note <> '' order by sku`;
    expect(notes).toEqual([{ sku: 'S-6', note: 'typed right after the sort' }]);
  }, 120_000);

  it('a second sort before the ids follow: its own event re-identifies the rows', async () => {
    const before = await h.sql`select * from items order by sku`;
    // While the webhook looks at a sort by name, the person sorts again, by sku: the rows hold
    // other sorted rows' values when the script comes to write the ids.
    const sortedAgain = await sortWhile({ dimensionIndex: 1, sortOrder: 'ASCENDING' }, async () => {
      const response = await fetch(`${h.emulator.url}/v4/spreadsheets/${h.spreadsheetId}:batchUpdate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          requests: [
            {
              sortRange: {
                range: {
                  sheetId: 0,
                  startRowIndex: 1,
                  endRowIndex: 7,
                  startColumnIndex: 0,
                  endColumnIndex: 4,
                },
                sortSpecs: [{ dimensionIndex: 0, sortOrder: 'ASCENDING' }],
              },
            },
          ],
        }),
      });
      if (!response.ok) throw new Error(`the second sort failed: ${await response.text()}`);
    });
    expect(sortedAgain).toBe(true);
    // The second sort's own trigger (it sorts what is already sorted: the same values).
    await h.act([
      { type: 'sortRange', range: 'Rows!A2:D7', sortSpecs: [{ dimensionIndex: 0, sortOrder: 'ASCENDING' }] },
    ]);
    await converged(6);
    expect(
      h
        .tabValues()
        .slice(1)
        .map((r) => r[0]),
    ).toEqual(['S-1', 'S-2', 'S-3', 'S-4', 'S-5', 'S-6']);
    expect(await h.sql`select * from items order by sku`).toEqual(before);
  }, 120_000);

  it('a database change of a sorted row waits for the ids, then lands in that row', async () => {
    // While the webhook looks at a sort by qty (descending), the table renames S-3: the position
    // that holds S-3's id holds another row's values until the script has written the ids.
    const renamed = await sortWhile({ dimensionIndex: 2, sortOrder: 'DESCENDING' }, async (link) => {
      await waitFor('the write hold', async () => (await h.store.sheetEpochs(link)).holdUntil > Date.now());
      await h.sql`update items set name = 'three, renamed' where sku = 'S-3'`;
      // Time for the change to reach applyToSheet (relay, Pub/Sub, its flush) and be written.
      await new Promise((resolve) => setTimeout(resolve, 2000));
    });
    expect(renamed).toBe(true);
    await waitFor('the new name on the sheet', async () =>
      h.tabValues().some((r) => r[0] === 'S-3' && r[1] === 'three, renamed'),
    );
    await converged(6);
    expect(
      h
        .tabValues()
        .slice(1)
        .map((r) => [r[0], r[1]]),
    ).toEqual([
      ['S-6', 'six'],
      ['S-5', 'five'],
      ['S-4', 'four'],
      ['S-3', 'three, renamed'],
      ['S-2', 'two'],
      ['S-1', 'one'],
    ]);
    // The hold ended with the script's layout event.
    expect((await h.store.sheetEpochs(h.link)).holdUntil).toBe(0);
  }, 120_000);
});
