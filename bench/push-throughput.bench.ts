/**
 * `npm run bench -- push-throughput` (issue 23, item 5): single-row transactions per second one
 * link sustains, database → sheet, with `sheetsync start --as-deployed` (each function behind
 * push, ordering on, one outstanding message per ordering key, KEY_BUCKETS = 16 buckets a link)
 * and, beside it, the pull mode (streaming pull, key batches).
 *
 * On the demo link (public.leads → Leads), after 1,600 rows reached the sheet: single-row
 * UPDATE transactions sent open-loop at 300 a second for 10 s, each setting one row's score to
 * the transaction's number, on rows whose ordering key falls in 1 bucket, then in all 16. Measured:
 * from the first transaction until the sheet shows every row's last score (the tab is read
 * through the observer's own quota, about once a second, so up to ≈ 1.1 s late), giving the
 * transactions per second delivered (baseline: the rate offered) and the drain after the last
 * commit. Transactions on one row may commit out of send order: the sheet is compared with the
 * table's values once every transaction committed. If one bucket delivers what sixteen do, buckets do not bound the link at that rate:
 * the relay's batching (a drain's changes of a bucket in one message) does.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { LocalInfo } from '../cli/src/local-stack.ts';
import { fnv1a } from '../functions/src/core/stable-hash.ts';
import { KEY_BUCKETS } from '../functions/src/relay/outbox-messages.ts';
import { dbChangeOrderingKey } from '../functions/src/wire/db-change.ts';
import { interrupt, startStack, tabValues } from '../test/support/stack-process.ts';
import type { Benchmark, Metric } from './lib.ts';

const ROWS = 1_600;
const RATE = 300;
const SECONDS = 10;
const BUCKET_SETS = [1, KEY_BUCKETS];
const MODES = [
  { mode: 'asDeployed', args: ['--as-deployed'] },
  { mode: 'pull', args: [] as string[] },
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bucket the relay puts a leads row's changes in (relay/outbox-messages.ts). */
const bucketOf = (id: number) => fnv1a(dbChangeOrderingKey('leads', ['id'], { id })) % KEY_BUCKETS;

interface Round {
  buckets: number;
  sent: number;
  sendMs: number;
  doneMs: number;
}

async function measureMode(args: readonly string[], progress: (m: string) => void, label: string) {
  const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-push-'));
  chmodSync(stateDir, 0o755); // as root, the embedded PostgreSQL's user keeps its files here
  const stack = startStack(stateDir, { args: [...args], env: { SHEETSYNC_LOG_LEVEL: 'ERROR' } });
  let sql: postgres.Sql | undefined;
  try {
    const info: LocalInfo = await stack.ready(300_000);
    sql = postgres(info.databaseUrl, { max: 8, onnotice: () => {} });
    const read = () => tabValues(info.sheetsApiUrl, info.spreadsheetId, info.sheet);
    // The bench's own rows (the demo's four keep their scores).
    const ids = (
      await sql<{ id: string }[]>`insert into public.leads (name, score)
        select 'bench ' || g, 0 from generate_series(1, ${ROWS}) g returning id`
    ).map((r) => Number(r.id));
    const scores = async () => {
      const values = await read();
      const header = (values[0] ?? []) as string[];
      const [idAt, scoreAt] = [header.indexOf('id'), header.indexOf('score')];
      return new Map(values.slice(1).map((r) => [Number(r[idAt]), Number(r[scoreAt])]));
    };
    const settled = async (expected: Map<number, number>, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const shown = await scores();
        if ([...expected].every(([id, score]) => shown.get(id) === score)) return performance.now();
        if (performance.now() > deadline)
          throw new Error(`${label}: the sheet did not settle in ${timeoutMs} ms`);
        await sleep(1_100);
      }
    };
    await settled(new Map(ids.map((id) => [id, 0])), 300_000);
    progress(`${label}: ${ids.length} rows on the sheet`);

    const rounds: Round[] = [];
    let n = 0;
    for (const buckets of BUCKET_SETS) {
      const rows = ids.filter((id) => bucketOf(id) < buckets);
      const expected = new Map<number, number>();
      const total = RATE * SECONDS;
      const start = performance.now();
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / RATE;
        if (due > performance.now()) await sleep(due - performance.now());
        const id = rows[i % rows.length]!;
        const score = ++n;
        expected.set(id, score);
        sends.push(sql`update public.leads set score = ${score} where id = ${id}`);
      }
      await Promise.all(sends);
      const sendMs = performance.now() - start;
      // Transactions on one row may commit out of send order (8 connections): the sheet must
      // show what the table holds.
      for (const r of await sql<{ id: string; score: number }[]>`
        select id, score from public.leads where id in ${sql([...expected.keys()])}`)
        expected.set(Number(r.id), r.score);
      const doneMs = (await settled(expected, 600_000)) - start;
      rounds.push({ buckets, sent: total, sendMs, doneMs });
      progress(
        `${label}, ${buckets} bucket(s) (${rows.length} rows): ${total} transactions sent in ${Math.round(sendMs)} ms, on the sheet after ${Math.round(doneMs)} ms`,
      );
    }
    return rounds;
  } finally {
    await sql?.end({ timeout: 5 });
    await interrupt(stack);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const bench: Benchmark = {
  name: 'push-throughput',
  description: `single-row transactions a link sustains, database → sheet, at ${RATE}/s offered, as deployed and pull`,
  async run({ progress }) {
    const metrics: Record<string, Metric> = {};
    for (const { mode, args } of MODES) {
      for (const r of await measureMode(args, progress, mode)) {
        const offered = r.sent / (r.sendMs / 1000);
        const delivered = r.sent / (r.doneMs / 1000);
        metrics[`${mode}.buckets${r.buckets}.txPerSec`] = {
          value: delivered,
          unit: 'tx/s',
          baseline: offered,
          ratio: delivered / offered,
        };
        metrics[`${mode}.buckets${r.buckets}.drainMs`] = { value: r.doneMs - r.sendMs, unit: 'ms' };
      }
    }
    return metrics;
  },
};

export default bench;
