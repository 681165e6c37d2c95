/**
 * Sorts of the visible columns whose edit is too big for one request (the script's 4M-character
 * limit is lowered here to a few rows a part, through its Script Properties): the real script
 * sends the parts as one group through its queue, the webhook answers each part with the moves it
 * finds (rows of other parts found by the keys among the values), and the script writes the ids
 * only once the parts together are a permutation. Whole pipeline: the local sheet, the webhook,
 * the Pub/Sub and Firestore emulators, applyToDb, PostgreSQL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/src/log.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tableVsSheet } from '../support/sheet-sync-harness.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['id', 'name', 'qty'];
const TABLE = { schema: 'public', name: 'stock', key: ['id'] };
const ROWS = 40;

describe('a sort of the visible columns sent in parts', () => {
  const db = useTestDatabase();
  /** The webhook's answers: rows re-identified per part, and rows published as edits. */
  let log: Array<{ message: string; rows?: number; count?: number; op?: string }> = [];
  const sortedParts = () => log.filter((e) => e.message.startsWith('webhook found rows sorted'));
  const publishedEdits = () =>
    log.filter((e) => e.message === 'webhook published sheet changes' && e.op === 'edit');

  const h = useSyncHarness(db, {
    table: 'public.stock',
    headers: COLUMNS,
    createTable: (sql) => sql`create table public.stock (id bigint primary key, name text, qty integer)`,
    // About 100 characters a row: parts of 6 rows or so.
    scriptProperties: { SHEETSYNC_EDIT_CHARS: '600' },
    logger: createLogger({ level: 'INFO', write: (line) => log.push(JSON.parse(line)) }),
  });

  beforeAll(async () => {
    await h.sql`insert into public.stock select g, 'item ' || g, (g * 37) % 101 from generate_series(1, ${ROWS}) g`;
    await converged();
  }, 120_000);

  async function converged(): Promise<void> {
    let last: string[] = [];
    await waitFor(
      `the table to equal the sheet with ${ROWS} rows`,
      async () => {
        last = await tableVsSheet(h, TABLE, COLUMNS);
        const [row] = await h.sql`select count(*)::int as n from public.stock`;
        return last.length === 0 && row?.n === ROWS && h.tabValues().length === ROWS + 1;
      },
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${last.slice(0, 10).join('\n')}`);
    });
  }

  const idColumn = () => (h.tabValues()[0] as string[]).indexOf('_sheetsync_id');
  const queued = () => {
    const sheet = h.emulator.model.get(h.spreadsheetId).sheetByTitle('_sheetsync_queue');
    return sheet ? sheet.rows.filter((r) => r && r.length > 0).length : 0;
  };

  it('re-identifies every row across the parts, and later edits land on the right rows', async () => {
    const table = await h.sql`select * from public.stock order by id`;
    const ids = h.tabValues().map((r) => r[idColumn()]);
    log = [];
    await h.act([
      {
        type: 'sortRange',
        range: `Rows!A2:C${ROWS + 1}`,
        sortSpecs: [{ dimensionIndex: 2, sortOrder: 'DESCENDING' }],
      },
    ]);
    expect(queued()).toBe(0);
    // Several parts, each answered with moves (most found in other parts), none published.
    expect(sortedParts().length).toBeGreaterThanOrEqual(4);
    expect(sortedParts().reduce((n, e) => n + Number(e.rows), 0)).toBeGreaterThan(ROWS / 2);
    expect(publishedEdits()).toEqual([]);
    const after = h.tabValues();
    expect(after.map((r) => r[idColumn()])).not.toEqual(ids);
    const qty = after.slice(1).map((r) => Number(r[2]));
    expect(qty).toEqual([...qty].sort((a, b) => b - a));
    await converged();
    expect(await h.sql`select * from public.stock order by id`).toEqual(table);
    const id = Number(after[1]![0]);
    await h.act([{ type: 'edit', range: 'Rows!B2', values: [['top seller']] }]);
    await waitFor(
      'the edit on the sorted row',
      async () => (await h.sql`select name from public.stock where id = ${id}`)[0]?.name === 'top seller',
    );
    await converged();
  });

  it('a big edit of values that are no rows of the tab is applied as edits', async () => {
    const values = h.tabValues().slice(1);
    log = [];
    await h.act([
      {
        type: 'edit',
        range: `Rows!B2:C${ROWS + 1}`,
        values: values.map((r) => [`renamed ${r[0]}`, Number(r[2]) + 1000]),
      },
    ]);
    expect(sortedParts()).toEqual([]);
    expect(publishedEdits().length).toBeGreaterThanOrEqual(4);
    await converged();
    const [row] =
      await h.sql`select count(*)::int as n from public.stock where qty >= 1000 and name like 'renamed %'`;
    expect(row?.n).toBe(ROWS);
  });

  it('parts whose moves are no permutation together (rows copied over others) are applied as edits', async () => {
    // Rows 2–21 copied over rows 22–41 without their ids (ids and names too): every part's rows
    // hold other rows' values, found by key, but no row gives its id back. As edits, the copied
    // keys collide with the rows that hold them (SHEETSYNC_E409), and no id is moved.
    const before = h.tabValues();
    const half = ROWS / 2;
    log = [];
    await h.act([
      {
        type: 'edit',
        range: `Rows!A${half + 2}:C${ROWS + 1}`,
        values: before.slice(1, half + 1).map((r) => [r[0], r[1], r[2]]),
      },
    ]);
    expect(queued()).toBe(0);
    expect(h.tabValues().map((r) => r[idColumn()])).toEqual(before.map((r) => r[idColumn()]));
    // The parts were answered with moves, then sent again as plain edits.
    expect(sortedParts().length).toBeGreaterThanOrEqual(1);
    expect(publishedEdits().reduce((n, e) => n + Number(e.count), 0)).toBe(half);
    await waitFor('the key collisions reported', async () =>
      h.problems.some((p) => p.code === 'SHEETSYNC_E409'),
    );
    const [row] = await h.sql`select count(*)::int as n from public.stock`;
    expect(row?.n).toBe(ROWS);
  });
});
