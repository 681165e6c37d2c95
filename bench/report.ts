/**
 * One report for a whole `npm run bench`: every benchmark's figures, each beside the baseline
 * measured in the same run, as one table and one JSON object (the last line of stdout), and the
 * README's figures table rewritten from it (`--write-readme`, between its marker comments).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type Metric, machineInfo, round } from './lib.ts';

export interface BenchResult {
  seconds: number;
  metrics?: Record<string, Metric>;
  /** Why it failed; its figures are then missing. */
  error?: string;
}

export interface Report {
  report: 'sheetsync-bench';
  startedAt: string;
  seconds: number;
  machine: ReturnType<typeof machineInfo> & { loadAverage: number[] };
  benchmarks: Record<string, BenchResult>;
}

export function newReport(): Report {
  return {
    report: 'sheetsync-bench',
    startedAt: new Date().toISOString(),
    seconds: 0,
    machine: { ...machineInfo(), loadAverage: loadavg().map((l) => round(l)) },
    benchmarks: {},
  };
}

/** The report as JSON, figures rounded, targets left to the table. */
export function reportJson(report: Report): string {
  const benchmarks = Object.fromEntries(
    Object.entries(report.benchmarks).map(([name, result]) => [
      name,
      {
        seconds: round(result.seconds),
        ...(result.error ? { error: result.error } : {}),
        ...(result.metrics
          ? {
              metrics: Object.fromEntries(
                Object.entries(result.metrics).map(([key, m]) => [
                  key,
                  {
                    value: round(m.value),
                    unit: m.unit,
                    ...(m.baseline === undefined ? {} : { baseline: round(m.baseline) }),
                    ...(m.ratio === undefined ? {} : { ratio: round(m.ratio) }),
                    ...(m.target === undefined ? {} : { target: m.target }),
                  },
                ]),
              ),
            }
          : {}),
      },
    ]),
  );
  return JSON.stringify({ ...report, seconds: round(report.seconds), benchmarks });
}

/** The report's last JSON line in `file` (a saved stdout of `npm run bench`). */
export function readReport(file: string): Report {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  for (const line of lines.reverse()) {
    if (!line.startsWith('{')) continue;
    const parsed = JSON.parse(line) as Report;
    if (parsed.report === 'sheetsync-bench') return parsed;
  }
  throw new Error(`${file} holds no report of npm run bench (its last JSON line)`);
}

interface Row {
  bench: string;
  key: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
}

function rows(report: Report): Row[] {
  const out: Row[] = [];
  for (const [bench, result] of Object.entries(report.benchmarks)) {
    if (!result.metrics) {
      out.push({ bench, key: '(failed)', value: result.error ?? '', baseline: '', ratio: '', target: '' });
      continue;
    }
    for (const [key, m] of Object.entries(result.metrics)) {
      out.push({
        bench,
        key,
        value: `${figure(m.value)} ${m.unit}`,
        baseline: m.baseline === undefined ? '' : `${figure(m.baseline)} ${m.unit}`,
        ratio: m.ratio === undefined ? '' : `${figure(m.ratio)}×`,
        target: m.target ?? '',
      });
    }
  }
  return out;
}

/** The human table of the whole run. */
export function reportTable(report: Report): string {
  const header = ['benchmark', 'metric', 'value', 'baseline (same run)', 'ratio', 'target'];
  const body = rows(report).map((r) => [r.bench, r.key, r.value, r.baseline, r.ratio, r.target]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const m = report.machine;
  return [
    `npm run bench: ${Object.keys(report.benchmarks).length} benchmarks in ${Math.round(report.seconds)} s ` +
      `on ${m.cpus} × ${m.cpuModel}, load ${m.loadAverage.join(' ')} at the start`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

export const README_START =
  '<!-- bench:figures:start (npm run bench -- --write-readme rewrites this table) -->';
export const README_END = '<!-- bench:figures:end -->';

/**
 * Rewrites the table between the README's markers: this run's rows, and the rows of benchmarks
 * this run did not include, as they were.
 */
export function writeReadme(file: string, report: Report): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${README_START} … ${README_END} markers`);
  const old = text.slice(start + README_START.length, end);
  const kept = old.split('\n').filter((l) => {
    const bench = /^\| `([^`]+)` \|/.exec(l)?.[1];
    return bench !== undefined && !(bench in report.benchmarks);
  });
  const cell = (s: string) => s.replaceAll('|', '\\|') || '—';
  const fresh = rows(report).map(
    (r) =>
      `| \`${r.bench}\` | \`${r.key}\` | ${cell(r.value)} | ${cell(r.baseline)} | ${cell(r.ratio)} | ${cell(r.target)} |`,
  );
  const table = [
    '',
    `Figures of one \`npm run bench\` (${report.startedAt.slice(0, 10)}, ${report.machine.cpus} × ` +
      `${report.machine.cpuModel}, load ${report.machine.loadAverage[0]} at the start); baselines measured in the same run.`,
    '',
    '| benchmark | metric | measured | baseline (same run) | ratio | target |',
    '| --- | --- | --- | --- | --- | --- |',
    ...[...kept, ...fresh].sort((a, b) => benchOf(a).localeCompare(benchOf(b))),
    '',
  ].join('\n');
  writeFileSync(file, text.slice(0, start + README_START.length) + table + text.slice(end));
}

function benchOf(row: string): string {
  return /^\| `([^`]+)` \|/.exec(row)?.[1] ?? '';
}

/** A figure with thousands separators. */
function figure(n: number): string {
  return round(n).toLocaleString('en-US', { maximumFractionDigits: 4 });
}
