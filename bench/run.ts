/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME…]` runs the named ones.
 * Benchmarks are the files bench/*.bench.ts; each default-exports a Benchmark (bench/lib.ts).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Benchmark, report } from './lib.ts';

process.env.METADATA_SERVER_DETECTION ??= 'none';
const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}. Available: ${available.join(', ')}.`);
  process.exit(2);
}

let failed = false;
for (const name of wanted.length > 0 ? wanted : available) {
  const module = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { default: Benchmark };
  const bench = module.default;
  console.error(`[bench ${name}] ${bench.description}`);
  try {
    const metrics = await bench.run({ progress: (m) => console.error(`[bench ${name}] ${m}`) });
    console.log(report(name, metrics));
  } catch (error) {
    failed = true;
    console.error(`[bench ${name}] failed:`, error);
  }
}
process.exit(failed ? 1 : 0);
