/**
 * Stopping the one-machine stack (issue 24, "A quick, clean stop"), with everything it starts of
 * its own: the embedded PostgreSQL and Google's Pub/Sub and Firestore emulators (java processes
 * under gcloud's wrapper).
 * - Ctrl-C (SIGINT): the stack exits 0, and no process it started runs 3 s after the signal;
 *   also in the middle of 3,000 rows on their way to the sheet, which the next start completes.
 * - SIGKILL: nothing it started survives it for long (the reaper stops them), and the next start
 *   on the same state directory works (no PostgreSQL holding the data directory, no emulator),
 *   and it starts from the state the killed one saved.
 */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { descendantPids } from '../../cli/src/services/process-tree.ts';
import { gone, interrupt, type StackProcess, startStack, tabValues } from '../support/stack-process.ts';
import { waitFor } from '../support/wait.ts';

const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
};

describe('stopping the local stack', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-stop-'));
  // The embedded PostgreSQL runs as its own user (as root), which must reach its data directory.
  chmodSync(stateDir, 0o755);
  let stack: StackProcess | undefined;

  afterAll(async () => {
    if (stack) await interrupt(stack);
  });

  /** The processes the stack runs: PostgreSQL's and the emulators' (java and gcloud's python). */
  function services(pid: number): number[] {
    const pids = descendantPids(pid).filter((p) => /^(postgres|java|python)/.test(comm(p)));
    expect(pids.filter((p) => comm(p) === 'java')).toHaveLength(2);
    expect(pids.some((p) => comm(p).startsWith('postgres'))).toBe(true);
    return pids;
  }

  it('Ctrl-C: everything it started is gone within 3 s', async () => {
    stack = startStack(stateDir);
    await stack.ready();
    const pids = services(stack.child.pid!);
    const started = performance.now();
    const { code, ms } = await interrupt(stack);
    const left = await gone(pids, Math.max(0, 3_000 - (performance.now() - started)));
    const total = performance.now() - started;
    console.info(
      `Ctrl-C: the stack exited after ${Math.round(ms)} ms, its services were gone after ${Math.round(total)} ms`,
    );
    expect(code).toBe(0);
    expect(left.map((p) => `${p} ${comm(p)}`)).toEqual([]);
    expect(total).toBeLessThanOrEqual(3_000);
    stack = undefined;
  }, 300_000);

  it('Ctrl-C under load: gone within 3 s, and the next start completes what the stop cut short', async () => {
    stack = startStack(stateDir);
    const info = await stack.ready();
    const sql = postgres(info.databaseUrl, { max: 1, onnotice: () => {} });
    // 3,000 rows for the sheet: applyToSheet paces them by the Sheets write quota, for minutes.
    await sql`insert into public.leads (name, status, score)
              select 'bulk ' || i, 'new', i from generate_series(1, 3000) i`;
    await new Promise((r) => setTimeout(r, 1_500));
    await sql.end();
    const pids = services(stack.child.pid!);
    const started = performance.now();
    const { code } = await interrupt(stack);
    const left = await gone(pids, Math.max(0, 3_000 - (performance.now() - started)));
    const total = performance.now() - started;
    console.info(`Ctrl-C under load: its services were gone after ${Math.round(total)} ms`);
    expect(code).toBe(0);
    expect(left.map((p) => `${p} ${comm(p)}`)).toEqual([]);
    expect(total).toBeLessThanOrEqual(3_000);

    stack = startStack(stateDir);
    const again = await stack.ready();
    const check = postgres(again.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [table] = await check<[{ n: number }]>`select count(*)::int as n from public.leads`;
      await waitFor(
        'every table row on the sheet',
        async () => {
          await new Promise((r) => setTimeout(r, 1_000)); // the local sheet allows 60 reads a minute
          return (
            (await tabValues(again.sheetsApiUrl, again.spreadsheetId, again.sheet)).length - 1 === table!.n
          );
        },
        120_000,
      );
    } finally {
      await check.end();
    }
    expect((await interrupt(stack)).code).toBe(0);
    stack = undefined;
  }, 400_000);

  it('SIGKILL: nothing it started runs on, and the next start works on the same state', async () => {
    stack = startStack(stateDir);
    const info = await stack.ready();
    const rows = (await tabValues(info.sheetsApiUrl, info.spreadsheetId, info.sheet)).length;
    const pids = services(stack.child.pid!);
    stack.child.kill('SIGKILL');
    await stack.exited;
    expect((await gone(pids, 15_000)).map((p) => `${p} ${comm(p)}`)).toEqual([]);

    stack = startStack(stateDir);
    const again = await stack.ready();
    expect(await tabValues(again.sheetsApiUrl, again.spreadsheetId, again.sheet)).toHaveLength(rows);
    expect((await interrupt(stack)).code).toBe(0);
    stack = undefined;
  }, 300_000);
});
