/**
 * Sheet ↔ database end to end through the real pipeline (cli/src/pipeline.ts), one suite on
 * PostgreSQL and on MariaDB (test/support/engines.ts; MariaDB missing fails it, never skips):
 * user actions in the local sheet run the real apps-script/, whose signed events reach
 * sheetWebhook, the Pub/Sub emulator and applyToDb on the engine's Table; plain SQL on the table
 * fires the engine's capture, and its relay takes the outbox to applyToSheet. The harness and the
 * version store are the sync tests' (test/support/sheet-sync-harness.ts).
 */
import { describe, expect, it } from 'vitest';
import { engines, useEngineDatabase } from '../support/engines.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const HEADERS = ['sku', 'name', 'qty', 'price'];

describe.each(engines)('sheet ↔ %s through the pipeline', (engine) => {
  const db = useEngineDatabase(engine);
  const h = useSyncHarness(db, {
    table: 'items',
    headers: HEADERS,
    // Portable DDL: both engines return DECIMAL as text and INT as a number.
    createTable: () =>
      db.exec(
        'create table items (sku varchar(20) primary key, name varchar(80), qty int, price decimal(10,2))',
      ),
  });

  const row = async (sku: string) =>
    (await db.rows('select sku, name, qty, price from items where sku = ?', [sku]))[0];
  /** The sheet's rows as [sku, name, qty, price], header row left out. */
  const sheetRows = () =>
    h
      .tabValues()
      .slice(1)
      .map((r) => HEADERS.map((_, i) => r[i] ?? ''));

  it('a value typed in the sheet reaches the table row', async () => {
    const started = Date.now();
    await h.act([{ type: 'edit', range: 'Rows!A2:D2', values: [['A-1', 'Anvil', 3, 9.5]] }]);
    expect(await waitFor('row A-1', async () => row('A-1'))).toEqual({
      sku: 'A-1',
      name: 'Anvil',
      qty: 3,
      price: '9.50',
    });
    await h.act([{ type: 'edit', range: 'Rows!C2', values: [[4]] }]);
    await waitFor('qty 4', async () => (await row('A-1'))?.qty === 4);
    // The bar is 2 s per edit on an idle machine; this one is shared, so only logged.
    console.info(`sheet → ${engine}: two edits applied in ${Date.now() - started} ms`);
  });

  it('an UPDATE, an INSERT and a DELETE in the table reach the sheet, and the outbox drains', async () => {
    const started = Date.now();
    await db.exec("update items set name = 'Big anvil', qty = 7 where sku = 'A-1'");
    await waitFor('the UPDATE on the sheet', async () =>
      sheetRows().some((r) => r[0] === 'A-1' && r[1] === 'Big anvil' && r[2] === 7),
    );
    const updated = Date.now() - started;
    await db.exec("insert into items values ('B-2', 'Bolt', 100, 0.25)");
    await waitFor('the INSERT on the sheet', async () =>
      sheetRows().some((r) => r[0] === 'B-2' && r[1] === 'Bolt' && r[2] === 100 && r[3] === 0.25),
    );
    await db.exec("delete from items where sku = 'A-1'");
    await waitFor('the DELETE on the sheet', async () => !sheetRows().some((r) => r[0] === 'A-1'));
    expect(sheetRows().filter((r) => r[0] !== '')).toEqual([['B-2', 'Bolt', 100, 0.25]]);
    console.info(`${engine} → sheet: UPDATE shown in ${updated} ms`);
    // Nothing the sheet applied came back as a change to the table (an echo would rewrite it).
    expect(await row('B-2')).toEqual({ sku: 'B-2', name: 'Bolt', qty: 100, price: '0.25' });
    expect(h.problems).toEqual([]);
    // Every change, the sheet's own included, was published and its outbox row deleted.
    await waitFor('an empty outbox', async () => (await db.outboxChanges()) === 0);
  });

  it('after a sort of the tab, an edit reaches the row it was typed in', async () => {
    await h.act([
      {
        type: 'edit',
        range: 'Rows!A3:D4',
        values: [
          ['C-3', 'Clamp', 5, 3],
          ['D-4', 'Drill', 1, 80],
        ],
      },
    ]);
    await waitFor('C-3 and D-4', async () => (await row('C-3')) && (await row('D-4')));
    await h.act([
      {
        type: 'sortRange',
        range: 'Rows!A2:Z10',
        sortSpecs: [{ dimensionIndex: 3, sortOrder: 'DESCENDING' }],
      },
    ]);
    const at = sheetRows().findIndex((r) => r[0] === 'C-3') + 2;
    await h.act([{ type: 'edit', range: `Rows!B${at}`, values: [['Clamp, sorted']] }]);
    await waitFor('the edit of C-3', async () => (await row('C-3'))?.name === 'Clamp, sorted');
    expect(await row('D-4')).toMatchObject({ name: 'Drill', qty: 1 });
  });

  it('a conflict on one cell ends with the sheet and the table agreeing', async () => {
    const at = sheetRows().findIndex((r) => r[0] === 'D-4') + 2;
    await Promise.all([
      db.exec("update items set name = 'Drill (table)' where sku = 'D-4'"),
      h.act([{ type: 'edit', range: `Rows!B${at}`, values: [['Drill (sheet)']] }]),
    ]);
    /** The value both sides hold, or '' while they differ. */
    const agreed = async (): Promise<string> => {
      const inTable = String((await row('D-4'))?.name);
      const onSheet = String(sheetRows().find((r) => r[0] === 'D-4')?.[1]);
      return inTable === onSheet && ['Drill (table)', 'Drill (sheet)'].includes(inTable) ? inTable : '';
    };
    // Agreeing for a moment is not enough (one side's change may still be on its way): the two
    // sides must agree on one value for 2 s running.
    let since = { value: '', at: Date.now() };
    await waitFor('both sides to agree on D-4 for 2 s', async () => {
      const value = await agreed();
      if (value !== since.value) since = { value, at: Date.now() };
      return value !== '' && Date.now() - since.at >= 2_000;
    });
  });
});
