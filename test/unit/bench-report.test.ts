/** bench/report.ts: the one report of `npm run bench` and the README table it rewrites. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  newReport,
  README_END,
  README_START,
  readReport,
  reportJson,
  reportTable,
  writeReadme,
} from '../../bench/report.ts';
import { cellsIn } from '../../bench/request-meter.ts';

const dir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample() {
  const report = newReport();
  report.seconds = 12.5;
  report.benchmarks.capture = {
    seconds: 10,
    metrics: {
      triggerOverheadRatio: { value: 1.4567, unit: '×', baseline: 1, ratio: 1.4567, target: '≤ 1.5×' },
      relayChangesPerSec: { value: 123456.7, unit: 'changes/s' },
    },
  };
  report.benchmarks['big-tab'] = { seconds: 2.5, error: 'out of memory' };
  return report;
}

describe('the bench report', () => {
  it('prints every figure beside its same-run baseline, and one JSON line a later run can read', () => {
    const report = sample();
    const table = reportTable(report);
    expect(table).toMatch(/capture\s+triggerOverheadRatio\s+1\.46 ×\s+1 ×\s+1\.46×\s+≤ 1\.5×/);
    expect(table).toMatch(/capture\s+relayChangesPerSec\s+123,457 changes\/s/);
    expect(table).toMatch(/big-tab\s+\(failed\)\s+out of memory/);
    const file = join(dir, 'stdout.txt');
    writeFileSync(file, `${table}\n${reportJson(report)}\n`);
    const back = readReport(file);
    expect(back.benchmarks.capture!.metrics!.triggerOverheadRatio).toEqual({
      value: 1.46,
      unit: '×',
      baseline: 1,
      ratio: 1.46,
      target: '≤ 1.5×',
    });
    expect(back.benchmarks['big-tab']!.error).toBe('out of memory');
  });

  it('rewrites only the README table between its markers, keeping benchmarks this run left out', () => {
    const readme = join(dir, 'README.md');
    writeFileSync(
      readme,
      [
        '# x',
        README_START,
        '| benchmark | metric | measured | target |',
        '| --- | --- | --- | --- |',
        '| `capture` | `triggerOverheadRatio` | 9× | — |',
        '| `attach` | `attachSeconds` | 11.9 s | — |',
        README_END,
        'after',
      ].join('\n'),
    );
    writeReadme(readme, sample());
    const text = readFileSync(readme, 'utf8');
    expect(text.startsWith(`# x\n${README_START}\n`)).toBe(true);
    expect(text.endsWith(`${README_END}\nafter`)).toBe(true);
    expect(text).not.toContain('| 9× |');
    expect(text).toContain('| `attach` | `attachSeconds` | 11.9 s | — |');
    expect(text).toContain('| `capture` | `triggerOverheadRatio` | 1.46 × | 1 × | 1.46× | ≤ 1.5× |');
    // Rows sorted by benchmark: attach, big-tab, capture.
    expect(text.indexOf('`attach`')).toBeLessThan(text.indexOf('`big-tab`'));
    expect(text.indexOf('`big-tab`')).toBeLessThan(text.indexOf('`capture`'));
  });

  it('counts the cells of a values write and of CellData rows', () => {
    const values = { data: [{ range: 'A1', values: [['a', 'b'], ['c', 'd'], ['e']] }] };
    expect(cellsIn(Buffer.from(JSON.stringify(values)))).toBe(5);
    const cells = {
      requests: [{ updateCells: { rows: [{ values: [{}, {}, {}] }, { values: [{}] }] } }, { addSheet: {} }],
    };
    expect(cellsIn(Buffer.from(JSON.stringify(cells)))).toBe(4);
  });
});
