/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME…]` runs the named ones.
 * Benchmarks are the files bench/*.bench.ts; each default-exports a Benchmark (bench/lib.ts).
 *
 * Each benchmark's table goes to stderr as it finishes; at the end stdout gets one table of the
 * whole run and, as its last line, one JSON report (bench/report.ts).
 *
 *   --write-readme   rewrite the README's figures table (between its markers) from this run
 *   --from FILE      no run: the report saved in FILE (a previous run's stdout), e.g. with
 *                    --write-readme
 *   --rows N         a smaller run of the benchmarks that take it (attach-1m, sustained)
 *   --engine mysql   the benchmarks that take it (capture) measure MySQL too (MYSQL_URL, default
 *                    the machine's MariaDB), beside PostgreSQL in the same run
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Benchmark, report as benchTable } from './lib.ts';
import { newReport, readReport, reportJson, reportTable, writeReadme } from './report.ts';

process.env.METADATA_SERVER_DETECTION ??= 'none';
const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const { values, positionals: wanted } = parseArgs({
  allowPositionals: true,
  options: {
    'write-readme': { type: 'boolean', default: false },
    from: { type: 'string' },
    rows: { type: 'string' },
    engine: { type: 'string', default: 'postgres' },
  },
});
const unknown = wanted.filter((w) => !available.includes(w));
const rows = values.rows === undefined ? undefined : Number(values.rows);
const engine = values.engine;
if (engine !== 'postgres' && engine !== 'mysql') {
  console.error(`--engine takes postgres or mysql, not ${engine}`);
  process.exit(2);
}
if (unknown.length > 0 || (rows !== undefined && !(Number.isInteger(rows) && rows > 0))) {
  console.error(
    unknown.length > 0
      ? `Unknown benchmark ${unknown.join(', ')}. Available: ${available.join(', ')}.`
      : '--rows takes a positive whole number',
  );
  process.exit(2);
}

let failed = false;
let report = newReport();
if (values.from) {
  report = readReport(values.from);
} else {
  const started = performance.now();
  for (const name of wanted.length > 0 ? wanted : available) {
    const module = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as {
      default: Benchmark;
    };
    const bench = module.default;
    console.error(`[bench ${name}] ${bench.description}`);
    const benchStarted = performance.now();
    try {
      const metrics = await bench.run({
        progress: (m) => console.error(`[bench ${name}] ${m}`),
        ...(rows === undefined ? {} : { rows }),
        engine,
      });
      report.benchmarks[name] = { seconds: (performance.now() - benchStarted) / 1000, metrics };
      console.error(benchTable(name, metrics));
    } catch (error) {
      failed = true;
      report.benchmarks[name] = {
        seconds: (performance.now() - benchStarted) / 1000,
        error: error instanceof Error ? error.message : String(error),
      };
      console.error(`[bench ${name}] failed:`, error);
    }
  }
  report.seconds = (performance.now() - started) / 1000;
}
console.log(reportTable(report));
console.log(reportJson(report));
if (values['write-readme']) {
  writeReadme(join(here, '..', 'README.md'), report);
  console.error('README.md: figures table rewritten from this report');
}
process.exit(failed ? 1 : 0);
