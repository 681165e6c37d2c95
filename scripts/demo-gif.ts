/**
 * Regenerates docs/demo.gif, the README's demo: the local stack (`sheetsync start`, in process,
 * in a temporary state directory), a sheet edit reaching PostgreSQL, and an SQL UPDATE reaching
 * the open grid. Frames are headless Chromium screenshots (Debian's /usr/bin/chromium) of the grid
 * and of a small "psql" panel; ImageMagick's `convert` (Debian's `imagemagick`) assembles them.
 *
 *   npx tsx scripts/demo-gif.ts [out.gif]      (default docs/demo.gif)
 *
 * It runs the same steps as the end-to-end test (test/e2e/npm-start.test.ts), but on its own: the
 * test keeps full-page screenshots in test-artifacts/, this script frames a smaller grid with a
 * psql panel and captions, and prints the latencies it saw on the frames.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import postgres from 'postgres';
import { start } from '../cli/src/start.ts';

// Debian's ImageMagick, ahead of any `convert` stand-in earlier on the PATH.
const CONVERT = existsSync('/usr/bin/convert') ? '/usr/bin/convert' : 'convert';
const out = resolve(process.argv[2] ?? 'docs/demo.gif');
const frames = mkdtempSync(join(tmpdir(), 'sheetsync-demo-frames-'));
const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-demo-state-'));
// The embedded PostgreSQL runs as its own user, which must reach its data directory inside.
chmodSync(stateDir, 0o755);
process.env.METADATA_SERVER_DETECTION ??= 'none';

const { info, stop } = await start({ stateDir, progress: (m) => process.stderr.write(`demo: ${m}\n`) });
const sql = postgres(info.databaseUrl, { max: 1, onnotice: () => {} });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
});
let frame = 0;
try {
  const grid = await browser.newPage({ viewport: { width: 900, height: 300 } });
  const psql = await browser.newPage({ viewport: { width: 900, height: 200 } });
  await grid.goto(info.gridUrl);
  await grid.locator('#status.live').waitFor({ timeout: 30_000 });
  const header = (
    (await (
      await fetch(`${info.sheetsApiUrl}/v4/spreadsheets/${info.spreadsheetId}/values/Leads`)
    ).json()) as {
      values: string[][];
    }
  ).values[0]!;
  const cell = (row: number, column: string) => `${String.fromCharCode(65 + header.indexOf(column))}${row}`;
  await grid.locator(`[data-cell="${cell(2, 'name')}"]`, { hasText: 'Ada' }).waitFor({ timeout: 180_000 });

  const query = 'select id, name, status, score from public.leads order by id;';
  const snap = async (caption: string, typed = query) => {
    const rows = await sql.unsafe(query);
    await showPsql(psql, typed, rows as unknown as Array<Record<string, unknown>>);
    await capture(grid, psql, caption);
  };

  await snap('The sheet (top) and public.leads (bottom), synced');
  await grid.locator(`[data-cell="${cell(2, 'status')}"]`).click();
  await grid.keyboard.type('closed');
  await capture(grid, psql, 'Typing "closed" in the sheet…');
  let startedAt = performance.now();
  await grid.keyboard.press('Enter');
  await waitUntil(
    async () => (await sql`select status from leads where name = 'Ada Lovelace'`)[0]?.status === 'closed',
  );
  const toDb = seconds(startedAt);
  await snap(`…and PostgreSQL has it (${toDb} s later)`);
  const update = "update public.leads set score = 99 where name = 'Grace Hopper';";
  await showPsql(psql, update, []);
  await capture(grid, psql, 'An SQL UPDATE…');
  startedAt = performance.now();
  await sql.unsafe(update);
  await grid.locator(`[data-cell="${cell(3, 'score')}"]`, { hasText: '99' }).waitFor({ timeout: 60_000 });
  const toSheet = seconds(startedAt);
  await snap(`…shows in the open sheet, no reload (${toSheet} s later)`, update);
  await snap(`Two-way: sheet → PostgreSQL ${toDb} s, PostgreSQL → sheet ${toSheet} s (this run)`, update);

  execFileSync(CONVERT, [
    '-delay',
    '150',
    '-loop',
    '0',
    join(frames, 'frame-*.png'),
    '-layers',
    'Optimize',
    '-colors',
    '128',
    out,
  ]);
  process.stderr.write(`demo: wrote ${out} (${Math.round(statSync(out).size / 1024)} KB, ${frame} frames)\n`);
} finally {
  await browser.close();
  await sql.end({ timeout: 5 });
  await stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(frames, { recursive: true, force: true });
}

/** A frame: the grid above the psql panel, with a caption, stacked by ImageMagick. */
async function capture(grid: Page, psql: Page, caption: string): Promise<void> {
  const n = String(frame++).padStart(2, '0');
  const top = join(frames, `grid-${n}.png`);
  const bottom = join(frames, `psql-${n}.png`);
  await grid.screenshot({ path: top });
  await psql.screenshot({ path: bottom });
  execFileSync(CONVERT, [
    top,
    bottom,
    '-append',
    '-gravity',
    'north',
    '-background',
    '#0b7a4b',
    '-fill',
    'white',
    '-pointsize',
    '20',
    '-splice',
    '0x34',
    '-annotate',
    '+0+6',
    caption,
    // -append keeps the first image's page geometry; without +repage the GIF's canvas crops the panel.
    '+repage',
    join(frames, `frame-${n}.png`),
  ]);
}

async function showPsql(page: Page, typed: string, rows: Array<Record<string, unknown>>): Promise<void> {
  const html = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const columns = rows[0] ? Object.keys(rows[0]) : [];
  const table = rows
    .map((r) => columns.map((c) => String(r[c] ?? '').padEnd(c === 'name' ? 18 : 9)).join(' | '))
    .join('\n');
  const head = columns.map((c) => c.padEnd(c === 'name' ? 18 : 9)).join(' | ');
  await page.setContent(
    `<pre style="margin:0;padding:10px;font:14px monospace;background:#1f2933;color:#e4e7eb;height:180px">` +
      `postgres=# ${html(typed)}\n${rows.length ? `${html(head)}\n${html(table)}` : 'UPDATE 1'}</pre>`,
  );
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('demo: the change did not arrive in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
