/**
 * Sheet → database end to end: user actions in the local sheet run the real apps-script/, which
 * posts signed events to sheetWebhook (functions-framework); the Pub/Sub emulator carries the row
 * changes to applyToDb, which writes PostgreSQL and the Firestore emulator's version store.
 * After each action the table must equal the sheet by sync id, in every column.
 */
import { describe, expect, it } from 'vitest';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty', 'price', 'note', 'color'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };

describe('sheet → database', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.items',
    headers: COLUMNS,
    createTable: (sql) =>
      sql`create table public.items (sku text primary key, name text, qty integer, price numeric(10,2), note text, color text)`,
  });

  const converged = (rows: number, timeoutMs?: number) =>
    waitForConvergence(h, TABLE, COLUMNS, rows, timeoutMs);

  it('typing a value', async () => {
    await h.act([
      { type: 'edit', range: 'Rows!A2:F2', values: [['A-1', 'Anvil', 3, 9.5, 'heavy', 'black']] },
    ]);
    await converged(1);
    await h.act([{ type: 'edit', range: 'Rows!C2', values: [[4]] }]);
    await waitFor('qty 4', async () => (await h.sql`select qty from items where sku = 'A-1'`)[0]?.qty === 4);
    await converged(1);
  });

  it('pasting a 500×6 block', async () => {
    const block = Array.from({ length: 500 }, (_, i) => [
      `P-${i}`,
      `pasted ${i}`,
      i,
      i / 4,
      i % 7 === 0 ? '' : `note ${i}`,
      ['red', 'green', 'blue'][i % 3],
    ]);
    await h.act([{ type: 'edit', range: 'Rows!A3:F502', values: block }]);
    await converged(501, 60_000);
  });

  it('inserting rows in the middle, then typing into them', async () => {
    await h.act([{ type: 'insertRows', sheet: 'Rows', index: 100, count: 2 }]);
    await converged(501);
    await h.act([
      {
        type: 'edit',
        range: 'Rows!A101:F102',
        values: [
          ['I-1', 'inserted', 1, 1, '', 'white'],
          ['I-2', 'inserted too', 2, 2, 'x', 'white'],
        ],
      },
    ]);
    await converged(503);
  });

  it('sorting the tab', async () => {
    await h.act([
      {
        type: 'sortRange',
        range: 'Rows!A2:Z504',
        sortSpecs: [{ dimensionIndex: 3, sortOrder: 'DESCENDING' }],
      },
    ]);
    await converged(503);
    await h.act([{ type: 'edit', range: 'Rows!E2', values: [['after the sort']] }]);
    await converged(503);
  });

  it('sorting a range that leaves out the hidden id column re-identifies the rows', async () => {
    // Select the visible columns A:F and sort them: the values move, the ids in G stay. The
    // webhook recognises the rows' own values in another order and the script rewrites the ids
    // (sheet-webhook/reidentify.ts); applied as edits, every sorted row would take another row's
    // values and sku (a rekey into a unique violation).
    const before = await h.sql`select * from items order by sku`;
    const last = h.tabValues().length;
    const idAt = (h.tabValues()[0] as string[]).indexOf('_sheetsync_id');
    expect(idAt).toBe(COLUMNS.length);
    const idsBefore = h.tabValues().map((r) => r[idAt]);
    await h.act([
      {
        type: 'sortRange',
        range: `Rows!A2:F${last}`,
        sortSpecs: [{ dimensionIndex: 2, sortOrder: 'ASCENDING' }],
      },
    ]);
    await waitFor('the ids to follow the sorted rows', async () =>
      h.tabValues().some((r, i) => r[idAt] !== idsBefore[i]),
    );
    await converged(503);
    expect(await h.sql`select * from items order by sku`).toEqual(before);
    // Sorted by qty: the sheet's order is not the one the ids were in.
    const qty = h
      .tabValues()
      .slice(1)
      .map((r) => Number(r[2]));
    expect(qty).toEqual([...qty].sort((a, b) => a - b));
    // An edit of a sorted row reaches that row in the table.
    const sku = String(h.tabValues()[1]![0]);
    await h.act([{ type: 'edit', range: 'Rows!E2', values: [['after the range sort']] }]);
    await waitFor(
      'the note on the sorted row',
      async () =>
        (await h.sql`select note from items where sku = ${sku}`)[0]?.note === 'after the range sort',
    );
    await converged(503);
  });

  it('deleting rows in the middle and at the end', async () => {
    await h.act([{ type: 'deleteRows', sheet: 'Rows', index: 200, count: 10 }]);
    await converged(493);
    const last = h.tabValues().length;
    await h.act([{ type: 'deleteRows', sheet: 'Rows', index: last - 3, count: 3 }]);
    await converged(490);
    // The webhook recorded what it checked, per id bucket (structure-check.ts), in Firestore.
    const checks = await h.store.structureChecks(h.link);
    expect(Object.keys(checks)).toHaveLength(256);
  });

  it('moving a row', async () => {
    const before = h.tabValues()[5];
    await h.act([{ type: 'moveRows', sheet: 'Rows', index: 5, count: 1, destinationIndex: 300 }]);
    expect(h.tabValues()[5]).not.toEqual(before);
    await h.act([{ type: 'edit', range: 'Rows!B10', values: [['moved neighbourhood']] }]);
    await converged(490);
  });

  it('a copied row (duplicate sync id) becomes a new row, not an overwrite', async () => {
    const values = h.tabValues();
    const idAt = (values[0] as string[]).indexOf('_sheetsync_id');
    const source = values[3]!;
    const copy = [...source];
    copy[0] = 'COPY-1';
    // A paste of the whole row including the hidden id column, as copy/paste of a row does.
    const end = String.fromCharCode(65 + idAt);
    const target = values.length + 1;
    await h.act([{ type: 'edit', range: `Rows!A${target}:${end}${target}`, values: [copy] }]);
    await converged(491);
    const after = h.tabValues();
    expect(after[target - 1]![idAt]).not.toBe(source[idAt]);
    const [original] = await h.sql`select * from items where sku = ${String(source[0])}`;
    expect(original?.name).toBe(source[1]);
  });
});
