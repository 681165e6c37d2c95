/**
 * Regenerates docs/demo.gif, the README's demo, from the frames the end-to-end test records
 * (test/e2e/npm-start.test.ts, test/support/demo-frames.ts): `npm start` from a clean state, a
 * cell typed in the grid (headless Chromium) reaching PostgreSQL, an SQL UPDATE reaching the open
 * grid, each frame the grid above a "psql" panel with a caption and the latencies of that run.
 * The script runs that test (vitest, with the integration project's services), then stacks and
 * animates its frames with ImageMagick's `convert` (Debian's `imagemagick`).
 *
 *   npx tsx scripts/demo-gif.ts [out.gif]      (default docs/demo.gif)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoFrame } from '../test/support/demo-frames.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Debian's ImageMagick, ahead of any `convert` stand-in earlier on the PATH.
const CONVERT = existsSync('/usr/bin/convert') ? '/usr/bin/convert' : 'convert';
const out = resolve(process.argv[2] ?? join(ROOT, 'docs/demo.gif'));
const framesDir = join(ROOT, 'test-artifacts/demo-frames');

process.stderr.write('demo: running the end-to-end test, which records the frames\n');
rmSync(framesDir, { recursive: true, force: true });
execFileSync('npx', ['vitest', 'run', '--project', 'integration', 'test/e2e/npm-start.test.ts'], {
  cwd: ROOT,
  stdio: 'inherit',
});
const frames = JSON.parse(readFileSync(join(framesDir, 'manifest.json'), 'utf8')) as DemoFrame[];
if (frames.length < 6) throw new Error(`demo: the test recorded ${frames.length} frames, expected 6`);

const work = mkdtempSync(join(tmpdir(), 'sheetsync-demo-'));
try {
  const stacked = frames.map((frame, i) => {
    const file = join(work, `frame-${String(i).padStart(2, '0')}.png`);
    execFileSync(CONVERT, [
      join(framesDir, frame.grid),
      join(framesDir, frame.psql),
      '-append',
      // -append keeps the first image's page geometry; without +repage the GIF's canvas crops.
      '+repage',
      '-resize',
      '900x',
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
      frame.caption,
      '+repage',
      file,
    ]);
    return file;
  });
  execFileSync(CONVERT, [
    '-delay',
    '150',
    '-loop',
    '0',
    ...stacked,
    '-layers',
    'Optimize',
    '-colors',
    '128',
    out,
  ]);
  process.stderr.write(
    `demo: wrote ${out} (${Math.round(statSync(out).size / 1024)} KB, ${frames.length} frames)\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
