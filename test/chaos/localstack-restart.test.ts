/**
 * The one-machine stack (`sheetsync start`) restarted on the same state directory, as a child
 * process with Google's emulators and PostgreSQL (issue 17, "Restart forgets"):
 * - stopped with Ctrl-C and started again with `--config`: an UPDATE of an existing row updates
 *   its sheet row (the row documents that map keys to sync ids were lost, and the UPDATE was
 *   appended as a partial duplicate row under a new sync id); with Google's emulators and with
 *   the in-process stand-ins;
 * - killed with SIGKILL in the middle of a burst of sheet edits (a person's actions in the local
 *   sheet) and table writes (SQL, which go on while the stack is down), started again: it
 *   converges with no manual step. Every table row is on the sheet exactly once, with the
 *   table's values, and every sheet row is in the table.
 */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalInfo } from '../../cli/src/local-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import {
  interrupt,
  type StackProcess,
  startStack,
  tabValues,
  userActions,
} from '../support/stack-process.ts';
import { waitFor } from '../support/wait.ts';

const SPREADSHEET = 'sheetsync-demo';
const TAB = 'Leads';
const COLUMNS = ['id', 'name', 'email', 'company', 'status', 'score'] as const;

/** A small deterministic generator (mulberry32), so a failing run can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));

describe('the local stack restarted on the same state directory', () => {
  const db = useTestDatabase();
  let stack: StackProcess | undefined;

  afterEach(async () => {
    if (stack) await interrupt(stack);
    stack = undefined;
  });

  function linksFile(dir: string): string {
    const file = join(dir, 'links.json');
    writeFileSync(
      file,
      JSON.stringify({
        links: [{ name: 'leads', spreadsheetId: SPREADSHEET, sheet: TAB, table: 'public.leads' }],
      }),
    );
    return file;
  }

  /** The sheet's data rows as text by column name (empty rows left out), and the id column. */
  async function sheetRows(info: LocalInfo) {
    const [headers = [], ...rows] = await tabValues(info.sheetsApiUrl, SPREADSHEET, TAB);
    const at = (name: string) => headers.indexOf(name);
    return rows
      .filter((row) => row.some((v) => text(v) !== ''))
      .map((row) => ({
        syncId: text(row[at('_sheetsync_id')]),
        cells: Object.fromEntries(COLUMNS.map((c) => [c, text(row[at(c)])])),
      }));
  }

  async function tableRows() {
    const rows = await db.sql<Record<string, unknown>[]>`select * from public.leads order by id`;
    return rows.map((row) => Object.fromEntries(COLUMNS.map((c) => [c, text(row[c])])));
  }

  /**
   * What is wrong between the sheet and the table, or '' when they agree: every table row on the
   * sheet exactly once with the table's values, every sheet row in the table, each sync id once;
   * the script's queue and the outbox drained (nothing still on its way).
   */
  async function disagreement(info: LocalInfo): Promise<string> {
    const sheet = await sheetRows(info);
    const table = await tableRows();
    const problems: string[] = [];
    const ids = sheet.map((r) => r.syncId);
    if (new Set(ids).size !== ids.length || ids.includes('')) problems.push(`sync ids not unique: ${ids}`);
    const onSheet = new Map<string, number>();
    for (const row of sheet) onSheet.set(row.cells.id!, (onSheet.get(row.cells.id!) ?? 0) + 1);
    const byKey = new Map(table.map((row) => [row.id!, row]));
    for (const row of sheet) {
      const expected = byKey.get(row.cells.id!);
      if (!expected) problems.push(`sheet row not in the table: ${JSON.stringify(row.cells)}`);
      else if (JSON.stringify(expected) !== JSON.stringify(row.cells))
        problems.push(`sheet ${JSON.stringify(row.cells)} ≠ table ${JSON.stringify(expected)}`);
    }
    for (const row of table) {
      const count = onSheet.get(row.id!) ?? 0;
      if (count !== 1) problems.push(`table row ${row.id} is on the sheet ${count} times`);
    }
    const queued = (await tabValues(info.sheetsApiUrl, SPREADSHEET, '_sheetsync_queue')).filter((r) =>
      r.some((v) => text(v) !== ''),
    );
    if (queued.length > 0) problems.push(`${queued.length} rows in the script's queue`);
    const [outbox] = await db.sql<[{ n: number }]>`select count(*)::int as n from sheetsync.outbox`;
    if (outbox!.n > 0) problems.push(`${outbox!.n} outbox rows not relayed`);
    return problems.join('\n');
  }

  /** Waits until the sheet and the table agree, and still agree a moment later. */
  async function converged(info: LocalInfo, timeoutMs: number): Promise<void> {
    let last = '';
    let polls = 0;
    await waitFor(
      'the sheet and the table to agree',
      async () => {
        // Two reads a poll: well under the local sheet's 60 reads a minute for this reader.
        if (polls++ > 0) await new Promise((r) => setTimeout(r, 2_500));
        last = await disagreement(info);
        if (last !== '') return false;
        await new Promise((r) => setTimeout(r, 1_500));
        last = await disagreement(info);
        return last === '';
      },
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${last}\nstack output:\n${stack?.stderr()}`);
    });
  }

  /**
   * A first start (the demo), Ctrl-C, a start with --config on the same state, then an UPDATE of
   * an existing row: its own sheet row shows it, and no row is added.
   */
  async function updateAfterCleanRestart(env: NodeJS.ProcessEnv = {}): Promise<string> {
    const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-restart-'));
    stack = startStack(stateDir, { databaseUrl: db.url, env });
    await stack.ready();
    expect((await interrupt(stack)).code).toBe(0);

    stack = startStack(stateDir, { databaseUrl: db.url, env, args: ['--config', linksFile(stateDir)] });
    const info = await stack.ready();
    const before = await sheetRows(info);
    expect(before).toHaveLength(4);
    await db.sql`update public.leads set status = 'closed' where name = 'Grace Hopper'`;
    const after = await waitFor(
      'the update on the sheet',
      async () => {
        await new Promise((r) => setTimeout(r, 1_000)); // the local sheet allows 60 reads a minute
        const rows = await sheetRows(info);
        return rows.some((r) => r.cells.status === 'closed') && rows;
      },
      60_000,
    );
    // The row it updated, not a row appended with only the new status under a new sync id.
    expect(after.map((r) => r.syncId)).toEqual(before.map((r) => r.syncId));
    expect(after.find((r) => r.cells.status === 'closed')?.cells.name).toBe('Grace Hopper');
    await converged(info, 60_000);
    return stateDir;
  }

  it('stopped with Ctrl-C and started with --config: an UPDATE of a row updates its sheet row, no duplicate', async () => {
    const stateDir = await updateAfterCleanRestart();
    // The files that hold a credential are for this user only (sheets.json: the script's secret).
    for (const file of ['local.json', 'webhook-secret', 'sheets.json']) {
      expect((statSync(join(stateDir, file)).mode & 0o777).toString(8)).toBe('600');
    }
  }, 300_000);

  it('the same with the in-process stand-ins (SHEETSYNC_STANDINS=1): their store is kept in .sheetsync', async () => {
    const stateDir = await updateAfterCleanRestart({ SHEETSYNC_STANDINS: '1' });
    expect((statSync(join(stateDir, 'version-store.json')).mode & 0o777).toString(8)).toBe('600');
  }, 300_000);

  it('killed with SIGKILL in a burst of sheet edits and table writes, started again: converges', async () => {
    const seed = Number(process.env.SHEETSYNC_CHAOS_SEED ?? Date.now() % 1_000_000);
    console.info(`localstack-restart SIGKILL burst: seed ${seed} (SHEETSYNC_CHAOS_SEED replays it)`);
    const next = random(seed);
    const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-sigkill-'));
    stack = startStack(stateDir, { databaseUrl: db.url });
    const info = await stack.ready();
    const first = stack;

    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    const statuses = ['new', 'contacted', 'qualified', 'won', 'lost'];
    let killed = false;
    const burstMs = 4_000;
    const killAt = 1_200 + next() * 1_800;
    const started = Date.now();
    let sheetEdits = 0;
    let tableWrites = 0;
    // A person's edits of existing rows and new rows typed below them, until the stack dies.
    const sheetBurst = (async () => {
      let newRow = 20;
      while (!killed && Date.now() - started < burstMs) {
        const status = next() < 0.5;
        const action =
          next() < 0.75
            ? {
                type: 'edit',
                range: `${TAB}!${status ? 'E' : 'F'}${2 + Math.floor(next() * 4)}`,
                values: [[status ? pick(statuses) : Math.floor(next() * 100)]],
              }
            : {
                type: 'edit',
                range: `${TAB}!B${newRow}:F${newRow}`,
                values: [[`typed ${newRow}`, `t${newRow}@example.com`, 'Sheet Co', pick(statuses), newRow]],
              };
        if (action.range.includes(`B${newRow}`)) newRow++;
        await userActions(info.sheetsApiUrl, SPREADSHEET, [action]).then(
          () => sheetEdits++,
          () => {}, // the stack (and its sheet) died under the request
        );
        await new Promise((r) => setTimeout(r, 40 + next() * 120));
      }
    })();
    // Table writes go on while the stack is down: the outbox keeps them.
    const tableBurst = (async () => {
      while (Date.now() - started < burstMs) {
        if (next() < 0.6) {
          await db.sql`update public.leads set score = ${Math.floor(next() * 100)}, status = ${pick(statuses)}
                       where id = (select id from public.leads order by random() limit 1)`;
        } else {
          await db.sql`insert into public.leads (name, email, company, status, score)
                       values (${`inserted ${tableWrites}`}, ${`i${tableWrites}@example.com`}, 'Table Inc', 'new', ${tableWrites})`;
        }
        tableWrites++;
        await new Promise((r) => setTimeout(r, 40 + next() * 120));
      }
    })();
    await new Promise((r) => setTimeout(r, killAt));
    first.child.kill('SIGKILL');
    await first.exited;
    killed = true;
    await Promise.all([sheetBurst, tableBurst]);
    console.info(
      `killed after ${Math.round(killAt)} ms: ${sheetEdits} sheet edits, ${tableWrites} table writes`,
    );

    stack = startStack(stateDir, { databaseUrl: db.url, args: ['--config', linksFile(stateDir)] });
    const again = await stack.ready();
    // The rows go on changing after the restart, on both sides: every table row at once, and a cell typed.
    await db.sql`update public.leads set score = coalesce(score, 0) + 1000`;
    await userActions(again.sheetsApiUrl, SPREADSHEET, [
      { type: 'edit', range: `${TAB}!D3`, values: [['Edited After Restart']] },
    ]);
    await converged(again, 150_000);
    const table = await tableRows();
    expect(table.find((r) => r.id === '2')?.company).toBe('Edited After Restart');
    expect(table.every((r) => Number(r.score) >= 1000)).toBe(true);
  }, 400_000);
});
