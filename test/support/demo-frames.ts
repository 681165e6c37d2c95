/**
 * Frames for the README's demo (docs/demo.gif), recorded by the end-to-end test
 * (test/e2e/npm-start.test.ts) as it runs: at each step a screenshot of the grid, one of a small
 * "psql" panel showing what PostgreSQL holds, and a caption, listed in `manifest.json`.
 * scripts/demo-gif.ts runs that test and stacks the frames into the GIF with ImageMagick; the test
 * itself needs nothing beyond Chromium.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export interface DemoFrame {
  grid: string;
  psql: string;
  caption: string;
}

export const DEMO_QUERY = 'select id, name, status, score from public.leads order by id;';

export class DemoFrames {
  private readonly frames: DemoFrame[] = [];

  constructor(
    readonly dir: string,
    private readonly grid: Page,
    private readonly psql: Page,
  ) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  /** Shows `typed` and its result (or `UPDATE 1` without rows) in the psql panel. */
  async showPsql(typed: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const html = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
    const columns = rows[0] ? Object.keys(rows[0]) : [];
    const width = (c: string) => (c === 'name' ? 18 : 9);
    const table = rows
      .map((r) => columns.map((c) => String(r[c] ?? '').padEnd(width(c))).join(' | '))
      .join('\n');
    const head = columns.map((c) => c.padEnd(width(c))).join(' | ');
    await this.psql.setContent(
      `<pre style="margin:0;padding:10px;font:14px monospace;background:#1f2933;color:#e4e7eb;height:180px">` +
        `postgres=# ${html(typed)}\n${rows.length ? `${html(head)}\n${html(table)}` : 'UPDATE 1'}</pre>`,
    );
  }

  /** Records the grid and the psql panel as they are now, with a caption. */
  async capture(caption: string): Promise<void> {
    const n = String(this.frames.length).padStart(2, '0');
    const frame = { grid: `grid-${n}.png`, psql: `psql-${n}.png`, caption };
    await this.grid.screenshot({ path: join(this.dir, frame.grid) });
    await this.psql.screenshot({ path: join(this.dir, frame.psql) });
    this.frames.push(frame);
    writeFileSync(join(this.dir, 'manifest.json'), `${JSON.stringify(this.frames, null, 2)}\n`);
  }
}

export function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
