/**
 * The benchmark harness. Each benchmark is a module in bench/ that default-exports a
 * `Benchmark`. It prints a human table and, as its very last line, one JSON object
 * (DESIGN.md §2, Benchmarks):
 *
 *   {"bench": NAME, "machine": {...}, "metrics": {KEY: {"value": n, "unit": "...", "baseline": n?, "ratio": n?}}}
 *
 * The machine is shared and noisy: a benchmark measures its baseline in the same run and reports
 * medians and ratios, never a figure compared with one from another day.
 */
import { cpus, totalmem } from 'node:os';

export interface Metric {
  value: number;
  unit: string;
  /** The same quantity for the reference measured in the same run. */
  baseline?: number;
  /** value ÷ baseline (or as the metric's doc says). */
  ratio?: number;
  /** The target from the issue, for the table only. */
  target?: string;
}

/** A metric with its same-run baseline and their ratio. */
export function againstBaseline(value: number, unit: string, baseline: number): Metric {
  return { value, unit, baseline, ratio: value / baseline };
}

export interface BenchContext {
  /** Progress for a long run, to stderr so stdout keeps the table and the JSON. */
  progress(message: string): void;
  /** `--rows N`: a smaller (or larger) run of the benchmarks that take it. */
  rows?: number;
  /**
   * `--engine mysql`: the benchmarks that take it (capture) measure MySQL/MariaDB too, beside
   * PostgreSQL in the same run. Default postgres.
   */
  engine?: 'postgres' | 'mysql';
}

export interface Benchmark {
  name: string;
  description: string;
  /** Services the benchmark needs: it starts them itself and stops them before returning. */
  run(context: BenchContext): Promise<Record<string, Metric>>;
}

export function machineInfo() {
  const cpuList = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** The human table and the final JSON line. */
export function report(name: string, metrics: Record<string, Metric>): string {
  const rows = Object.entries(metrics).map(([key, m]) => [
    key,
    `${round(m.value)} ${m.unit}`,
    m.baseline === undefined ? '' : `${round(m.baseline)} ${m.unit}`,
    m.ratio === undefined ? '' : `${round(m.ratio)}×`,
    m.target ?? '',
  ]);
  const header = ['metric', 'value', 'baseline', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const json = {
    bench: name,
    machine: machineInfo(),
    metrics: Object.fromEntries(
      Object.entries(metrics).map(([key, m]) => [
        key,
        {
          value: round(m.value),
          unit: m.unit,
          ...(m.baseline === undefined ? {} : { baseline: round(m.baseline) }),
          ...(m.ratio === undefined ? {} : { ratio: round(m.ratio) }),
        },
      ]),
    ),
  };
  return [
    `bench ${name}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    JSON.stringify(json),
  ].join('\n');
}

export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 1 ? 2 : 4;
  return Number(n.toFixed(digits));
}

/** The median of `values` (not mutated). */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
