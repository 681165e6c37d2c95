/**
 * Conflicts under each policy, one suite on PostgreSQL and on MariaDB (test/support/engines.ts),
 * through the real pipeline (the sync harness: real apps-script/, webhook, Pub/Sub and Firestore
 * emulators, the engine's Table, capture and relay). A conflict is planted as a person would
 * meet one: the table changes a cell and, before the sheet shows it, the person types another
 * value there. Per-column policies put every policy on one row: `sheet_wins`, `db_wins`,
 * `manual` (keeps the table's value and records the conflict open), and the link's default
 * last-writer-wins on `lww`, whose outcome depends on the two changes' clocks; a custom resolver on
 * `score` (examples/resolvers/keep-larger.js), whose column types come from the engine's catalog.
 */
import { describe, expect, it } from 'vitest';
import { engines, useEngineDatabase } from '../support/engines.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const HEADERS = ['sku', 'sheet_wins', 'db_wins', 'manual', 'lww', 'score'];

describe.each(engines)('conflicts on %s', (engine) => {
  const db = useEngineDatabase(engine);
  const h = useSyncHarness(db, {
    table: 'parts',
    headers: HEADERS,
    link: {
      conflict: {
        policy: 'last-writer-wins',
        columns: { sheet_wins: 'sheet-wins', db_wins: 'db-wins', manual: 'manual', score: 'custom' },
        // Keeps the larger number (its types come from the engine's catalog, custom-resolver.ts).
        resolver: 'examples/resolvers/keep-larger.js',
      },
    },
    createTable: () =>
      db.exec(
        'create table parts (sku varchar(20) primary key, sheet_wins varchar(40), db_wins varchar(40), manual varchar(40), lww varchar(40), score int)',
      ),
  });

  const tableRow = async () => (await db.rows('select * from parts where sku = ?', ['K-1']))[0] ?? {};
  const sheetRow = () => {
    const row = h.tabValues().find((r) => r[0] === 'K-1') ?? [];
    return Object.fromEntries(HEADERS.map((c, i) => [c, row[i] ?? '']));
  };
  /** Both sides hold `expected` in every column named, for 2 s running (a change may be on its way). */
  const settled = async (expected: Record<string, string | number>) => {
    let since = Date.now();
    await waitFor(
      `both sides to hold ${JSON.stringify(expected)} for 2 s`,
      async () => {
        const [t, s] = [await tableRow(), sheetRow()];
        const agree = Object.entries(expected).every(([c, v]) => t[c] === v && s[c] === v);
        if (!agree) since = Date.now();
        return agree && Date.now() - since >= 2_000;
      },
      45_000,
    );
  };

  it('each column settles by its policy; manual keeps the table value and stays open', async () => {
    await h.act([
      { type: 'edit', range: 'Rows!A2:F2', values: [['K-1', 'base', 'base', 'base', 'base', 5]] },
    ]);
    await settled({ sheet_wins: 'base', db_wins: 'base', manual: 'base', lww: 'base', score: 5 });

    // The table first, then the person, before applyToSheet can show the table's values.
    await db.exec(
      "update parts set sheet_wins = 'db', db_wins = 'db', manual = 'db', score = 7 where sku = 'K-1'",
    );
    await h.act([
      { type: 'edit', range: 'Rows!B2:D2', values: [['sheet', 'sheet', 'sheet']] },
      { type: 'edit', range: 'Rows!F2', values: [[9]] },
    ]);
    // The custom resolver keeps the larger score, the sheet's 9 over the table's 7.
    await settled({ sheet_wins: 'sheet', db_wins: 'db', manual: 'db', score: 9 });

    const open = await waitFor('the manual conflict recorded open', async () => {
      const conflicts = await h.store.listOpenConflicts(h.link);
      return conflicts.length > 0 && conflicts;
    });
    expect(open.map((c) => c.column)).toEqual(['manual']);
    expect(open[0]).toMatchObject({
      policy: 'manual',
      status: 'open',
      outcome: 'db',
      value: 'db',
      sheet: { value: 'sheet' },
      db: { value: 'db' },
    });
    expect(h.problems).toEqual([]);
  });

  it('last-writer-wins: both sides end on one of the two values', async () => {
    await db.exec("update parts set lww = 'db late' where sku = 'K-1'");
    await h.act([{ type: 'edit', range: 'Rows!E2', values: [['sheet late']] }]);
    let since = { value: '', at: Date.now() };
    await waitFor('both sides to agree on lww for 2 s', async () => {
      const t = String((await tableRow()).lww);
      const value = t === sheetRow().lww && ['db late', 'sheet late'].includes(t) ? t : '';
      if (value !== since.value) since = { value, at: Date.now() };
      return value !== '' && Date.now() - since.at >= 2_000;
    });
    // Not a manual column: nothing more is left open.
    expect((await h.store.listOpenConflicts(h.link)).map((c) => c.column)).toEqual(['manual']);
  });
});
