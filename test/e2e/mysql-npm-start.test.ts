/**
 * `DATABASE_URL=mysql://… npm start` (issue 21): the real `sheetsync start` as a child process on
 * the machine's MariaDB, in-process stand-ins for Pub/Sub and Firestore. The demo table `leads`
 * is created in the URL's database and its rows reach the sheet; a cell typed in the grid
 * reaches the table, an UPDATE in MariaDB reaches the sheet, and a row typed without a key gets
 * its AUTO_INCREMENT key in the sheet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliStack, startCliStack } from '../support/cli-stack.ts';
import { useMysqlDatabase } from '../support/mysql.ts';
import { waitFor } from '../support/wait.ts';

describe('npm start on MariaDB', () => {
  const db = useMysqlDatabase();
  let cli: CliStack;
  let info: Record<string, unknown>;
  let url: string;

  /** The demo tab: header row, then rows as objects by header. */
  async function sheet() {
    const response = await fetch(
      `${info.sheetsApiUrl as string}/v4/spreadsheets/sheetsync-demo/values/Leads`,
    );
    const [header = [], ...rows] = ((await response.json()) as { values?: string[][] }).values ?? [];
    return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  }
  async function act(actions: unknown[]) {
    const response = await fetch(
      `${info.sheetsApiUrl as string}/_emulator/v1/spreadsheets/sheetsync-demo/userActions`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ actions }) },
    );
    expect(response.ok, await response.clone().text()).toBe(true);
  }
  async function lead(name: string) {
    const [rows] = (await db.pool.query('select id, name, status, score from leads where name = ?', [
      name,
    ])) as unknown as [Array<Record<string, unknown>>];
    return rows[0];
  }

  beforeAll(async () => {
    const u = new URL(db.url);
    u.searchParams.set('sheetsyncDatabase', db.name);
    url = u.toString();
    cli = await startCliStack({ DATABASE_URL: url, SHEETSYNC_STANDINS: '1' });
    info = cli.info;
  }, 240_000);
  afterAll(() => cli?.stop());

  it('creates the demo table in the URL’s database, links it, and its rows reach the sheet', async () => {
    expect(info.databaseUrl).toBe(url);
    const links = JSON.parse(readFileSync(join(cli.cwd, '.sheetsync/links.json'), 'utf8'));
    expect(links.links[0]).toMatchObject({ name: 'leads', table: 'leads' });
    const rows = await sheet();
    expect(rows.map((r) => r.name).sort()).toEqual([
      'Ada Lovelace',
      'Alan Turing',
      'Grace Hopper',
      'Katherine Johnson',
    ]);
    expect(rows.find((r) => r.name === 'Ada Lovelace')).toMatchObject({ score: '92', status: 'won' });
  });

  it('a cell typed in the grid reaches the table; an UPDATE in MariaDB reaches the sheet', async () => {
    const rows = await sheet();
    const at = rows.findIndex((r) => r.name === 'Ada Lovelace') + 2;
    let started = Date.now();
    await act([{ type: 'edit', range: `Leads!F${at}`, values: [[97]] }]);
    await waitFor('score 97 in MariaDB', async () => (await lead('Ada Lovelace'))?.score === 97, 30_000);
    const toDb = Date.now() - started;
    started = Date.now();
    await db.pool.query("update leads set status = 'lost' where name = 'Alan Turing'");
    await waitFor(
      'status lost on the sheet',
      async () => (await sheet()).find((r) => r.name === 'Alan Turing')?.status === 'lost',
      30_000,
    );
    console.info(`npm start on MariaDB: grid → table ${toDb} ms, UPDATE → sheet ${Date.now() - started} ms`);
  });

  it('sheetsync status reads the MySQL outbox; reconcile compares the tab with the table', async () => {
    const status = await cli.sheetsync(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ links: ['leads'], outbox: { changes: 0 } });
    // Through the running stack's dashboard API, on the MySQL SyncDatabase (issue 21).
    const reconcile = await cli.sheetsync(['reconcile', '--link', 'leads', '--dry-run', '--json']);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    const result = JSON.parse(reconcile.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ dryRun: true, cellsToDb: 0, cellsToSheet: 0, rowsInsertedInDb: 0 });
    expect(result.rowsCompared).toBe((await sheet()).length);
  });

  it('a row typed without a key gets its AUTO_INCREMENT key in the sheet', async () => {
    const next = (await sheet()).length + 2;
    await act([
      {
        type: 'edit',
        range: `Leads!B${next}:F${next}`,
        values: [['Linus Torvalds', 'linus@example.com', 'Kernel', 'new', 50]],
      },
    ]);
    const row = await waitFor('the typed row in MariaDB', async () => lead('Linus Torvalds'), 30_000);
    await waitFor(
      'its key on the sheet',
      async () => (await sheet()).find((r) => r.name === 'Linus Torvalds')?.id === String(row.id),
      30_000,
    );
  });
});
