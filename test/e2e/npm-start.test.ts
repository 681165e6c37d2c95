/**
 * `npm start` end to end, as a new user runs it: `sheetsync start` as a child process from a
 * clean state directory, until it prints `sheetsync ready`. A cell typed in the grid (headless
 * Chromium) reaches PostgreSQL; an UPDATE reaches the open grid without a reload; a second start
 * on the same state directory says why it cannot; SIGINT leaves no descendant process running.
 * Screenshots go to test-artifacts/, and the frames of the README's demo to
 * test-artifacts/demo-frames/ (test/support/demo-frames.ts; scripts/demo-gif.ts makes the GIF).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendantPids, isAlive } from '../../cli/src/services/process-tree.ts';
import { launchChromium } from '../support/chromium.ts';
import { DEMO_QUERY, DemoFrames, seconds } from '../support/demo-frames.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(stateDir: string): Started {
  // Its own DATABASE_URL-free environment: the clean start embeds its own PostgreSQL.
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/src/main.ts', 'start', '--state-dir', stateDir],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('npm start', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-start-'));
  let first: Started;
  let info: { databaseUrl: string; sheetsApiUrl: string; gridUrl: string; dashboardUrl: string };
  let sql: postgres.Sql;
  let browser: Browser;
  let page: Page;
  let demo: DemoFrames;
  let toDb = '?';
  let header: string[] = [];
  /** The psql panel of the demo frames shows what the table holds now (`typed`: the statement shown). */
  const snap = async (caption: string, typed = DEMO_QUERY) => {
    await demo.showPsql(typed, (await sql.unsafe(DEMO_QUERY)) as unknown as Array<Record<string, unknown>>);
    await demo.capture(caption);
  };

  const cellAddress = (row: number, column: string) =>
    `${String.fromCharCode(65 + header.indexOf(column))}${row}`;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The embedded PostgreSQL runs as its own user, which must reach its data directory inside.
    chmodSync(stateDir, 0o755);
    first = startCli(stateDir);
    const failed = first.exited.then((code) => {
      throw new Error(`start exited ${code} before it was ready:\n${first.stderr()}`);
    });
    const ready = waitFor(
      '"sheetsync ready"',
      async () =>
        first
          .stdout()
          .split('\n')
          .some((line) => line.startsWith('sheetsync ready')),
      240_000,
    );
    failed.catch(() => {});
    await Promise.race([ready, failed]);
    info = JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8'));
    sql = postgres(info.databaseUrl, { max: 1, onnotice: () => {} });
    const values = (await (
      await fetch(`${info.sheetsApiUrl}/v4/spreadsheets/sheetsync-demo/values/Leads`)
    ).json()) as {
      values: string[][];
    };
    header = values.values[0] ?? [];
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 560 } });
    await page.goto(info.gridUrl);
    await page.locator('#status.live').waitFor({ timeout: 30_000 });
    await page
      .locator(`[data-cell="${cellAddress(2, 'name')}"]`, { hasText: 'Ada Lovelace' })
      .waitFor({ timeout: 180_000 });
    const psql = await browser.newPage({ viewport: { width: 1280, height: 200 } });
    demo = new DemoFrames(join(ARTIFACTS, 'demo-frames'), page, psql);
    await snap('The sheet (top) and public.leads (bottom), synced');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await sql?.end({ timeout: 5 });
    // SIGINT, never SIGKILL: the stack must stop its PostgreSQL and emulators itself.
    if (first?.child.exitCode === null) {
      first.child.kill('SIGINT');
      await first.exited;
    }
  });

  it('a cell typed in the grid reaches PostgreSQL', async () => {
    await page.locator(`[data-cell="${cellAddress(2, 'status')}"]`).click();
    await page.keyboard.type('closed');
    await demo.capture('Typing "closed" in the sheet…');
    const typedAt = performance.now();
    await page.keyboard.press('Enter');
    await page.screenshot({ path: join(ARTIFACTS, 'npm-start-1-sheet-edit.png') });
    await waitFor(
      'Ada closed in public.leads',
      async () =>
        (await sql`select status from public.leads where name = 'Ada Lovelace'`)[0]?.status === 'closed',
      60_000,
    );
    toDb = seconds(typedAt);
    await snap(`…and PostgreSQL has it (${toDb} s later)`);
  }, 90_000);

  it('an UPDATE reaches the open grid without a reload', async () => {
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    const update = "update public.leads set score = 99 where name = 'Grace Hopper';";
    await demo.showPsql(update, []);
    await demo.capture('An SQL UPDATE…');
    const updatedAt = performance.now();
    await sql.unsafe(update);
    await page
      .locator(`[data-cell="${cellAddress(3, 'score')}"]`, { hasText: '99' })
      .waitFor({ timeout: 60_000 });
    const toSheet = seconds(updatedAt);
    await page.screenshot({ path: join(ARTIFACTS, 'npm-start-2-db-update.png') });
    expect(navigations).toBe(0);
    await snap(`…shows in the open sheet, no reload (${toSheet} s later)`, update);
    await snap(`Two-way: sheet → PostgreSQL ${toDb} s, PostgreSQL → sheet ${toSheet} s (this run)`, update);
  }, 90_000);

  it('a second start on the same state directory says why it cannot', async () => {
    const second = startCli(stateDir);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/already running from .* \(pid \d+\)/);
    expect(first.child.exitCode).toBeNull();
  }, 90_000);

  it('SIGINT stops everything: no descendant process is left', async () => {
    const descendants = descendantPids(first.child.pid!);
    const names = descendants.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '?';
      }
    });
    expect(names.some((n) => n.startsWith('postgres'))).toBe(true);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    await waitFor('every descendant gone', async () => descendants.every((pid) => !isAlive(pid)), 30_000);
  }, 90_000);
});
