/**
 * `npm run bench -- capture`: the database side of the pipeline (issue 2).
 *
 * - triggerOverheadRatio: one UPDATE of 100,000 rows on a watched table ÷ the same UPDATE on an
 *   identical unwatched table, alternating, median of 5 each, in the same run and database.
 * - relayChangesPerSec: row changes per second the relay moves from the outbox to Google's
 *   Pub/Sub emulator (claimed, published, acknowledged, deleted), draining 200,000 changes. Its
 *   baseline is the emulator alone: the same messages published straight from memory, which
 *   is the ceiling any relay can reach here.
 *
 * It starts its own PostgreSQL (DATABASE_URL, else embedded) and Pub/Sub emulator and stops them.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { watchTable } from '../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../functions/src/adapters/pubsub-bus.ts';
import { drainFor } from '../functions/src/functions/outbox-relay.ts';
import type { BusMessage } from '../functions/src/ports.ts';
import { benchDatabase } from './database.ts';
import { type Benchmark, median } from './lib.ts';

const ROWS = 100_000;
const REPETITIONS = 5;
const RELAY_CHANGES = 200_000;

const bench: Benchmark = {
  name: 'capture',
  description: 'capture trigger overhead on a 100k-row UPDATE, and outbox → Pub/Sub emulator throughput',
  async run({ progress }) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-pg-'));
    const stops: Array<() => Promise<void>> = [];
    try {
      const [pg, emulator] = await Promise.all([
        startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir }),
        startEmulator('pubsub'),
      ]);
      stops.push(
        () => pg.stop(),
        () => emulator.stop(),
      );
      const database = await benchDatabase(pg.url);
      stops.unshift(() => database.drop());
      const { sql } = database;

      // ── trigger overhead ──
      progress(`loading 2 × ${ROWS} rows`);
      for (const table of ['plain', 'captured']) {
        await sql.unsafe(
          `create table ${table} (id bigint primary key, name text not null, qty int not null, price numeric(12,2), updated timestamptz)`,
        );
        await sql.unsafe(
          `insert into ${table} select g, 'item ' || g, g % 100, g * 1.25, now() from generate_series(1, ${ROWS}) g`,
        );
        await sql.unsafe(`vacuum analyze ${table}`);
      }
      await watchTable(sql, 'captured');
      const timings: Record<'plain' | 'captured', number[]> = { plain: [], captured: [] };
      for (let rep = 0; rep < REPETITIONS; rep++) {
        for (const table of rep % 2 === 0
          ? (['plain', 'captured'] as const)
          : (['captured', 'plain'] as const)) {
          const started = performance.now();
          await sql.unsafe(`update ${table} set qty = qty + 1`);
          timings[table].push(performance.now() - started);
        }
        const [{ n } = { n: 0 }] = await sql<
          { n: number }[]
        >`select coalesce(sum(change_count), 0)::int as n from sheetsync.outbox`;
        if (n !== ROWS * (rep + 1))
          throw new Error(`expected ${ROWS * (rep + 1)} captured changes, found ${n}`);
        await sql`vacuum plain`;
        await sql`vacuum captured`;
        progress(
          `update ${rep + 1}/${REPETITIONS}: plain ${Math.round(timings.plain[rep]!)} ms, captured ${Math.round(timings.captured[rep]!)} ms`,
        );
      }
      const plainMs = median(timings.plain);
      const capturedMs = median(timings.captured);

      // ── relay throughput ──
      const bus = createPubSubBus({ projectId: 'sheetsync-bench', apiEndpoint: emulator.host });
      stops.unshift(() => bus.close());
      const topic = `bench-db-changes-${randomBytes(3).toString('hex')}`;
      await bus.ensureTopic(topic);
      // A subscription, so the emulator stores what it acknowledges, as Pub/Sub would.
      await bus.ensureSubscription(`${topic}-sub`, { topic });
      await sql`delete from sheetsync.outbox`;
      await sql`update captured set qty = qty + 1`;
      await sql`update captured set qty = qty + 1`;
      progress(`relaying ${RELAY_CHANGES} changes to the emulator`);
      const started = performance.now();
      const result = await drainFor({ sql, bus, topic, maxBatchChanges: 10_000 }, 10 * 60_000);
      const relaySeconds = (performance.now() - started) / 1000;
      if (result.published !== RELAY_CHANGES || result.remaining) {
        throw new Error(`relay published ${result.published} of ${RELAY_CHANGES}`);
      }

      // The emulator alone: the same number of messages of the same size and keys, from memory.
      const sample: BusMessage[] = Array.from({ length: 10_000 }, (_, i) => ({
        data: Buffer.from(
          JSON.stringify({ outboxId: '1', index: i, cells: { qty: i }, padding: 'x'.repeat(300) }),
        ),
        orderingKey: `captured/[${i}]`,
        attributes: { link: 'captured', origin: 'db', op: 'UPDATE', changeId: String(i) },
      }));
      const emulatorStarted = performance.now();
      for (let sent = 0; sent < RELAY_CHANGES; sent += sample.length) await bus.publish(topic, sample);
      const emulatorSeconds = (performance.now() - emulatorStarted) / 1000;

      const relayRate = RELAY_CHANGES / relaySeconds;
      const emulatorRate = RELAY_CHANGES / emulatorSeconds;
      return {
        triggerOverheadRatio: { value: capturedMs / plainMs, unit: 'x', target: '≤ 1.5' },
        update100kRowsMs: { value: capturedMs, unit: 'ms', baseline: plainMs, ratio: capturedMs / plainMs },
        relayChangesPerSec: {
          value: relayRate,
          unit: 'changes/s',
          baseline: emulatorRate,
          ratio: relayRate / emulatorRate,
          target: '≥ 20000',
        },
      };
    } finally {
      for (const stop of stops) await stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

export default bench;
