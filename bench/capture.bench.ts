/**
 * `npm run bench -- capture`: the database side of the pipeline (issue 2).
 *
 * - triggerOverheadRatio: one UPDATE of 100,000 rows on a watched table ÷ the same UPDATE on an
 *   identical unwatched table, run back to back (alternating which goes first), the median of
 *   REPETITIONS such ratios, in the same run and database. update100kRowsMs: the medians.
 * - update1RowMs: the median of one-row UPDATEs on one connection, with capture and without
 *   (alternating): the trigger's fixed cost per statement.
 * - relayChangesPerSec: row changes per second the relay moves from the outbox to Google's
 *   Pub/Sub emulator (claimed, published, acknowledged by Pub/Sub, deleted), draining the
 *   100,000 changes of one UPDATE; median of RELAY_ROUNDS rounds. Changes, not messages: the
 *   relay publishes batch messages (link/b<bucket> ordering keys, relay/outbox-messages.ts).
 *   Its baseline is the emulator alone: the very same batch messages, built beforehand from the
 *   same outbox rows, published straight from memory in the same rounds; the ratio is what the
 *   relay's own work (claim, read, encode, delete) leaves of the emulator's rate.
 *
 * It starts its own PostgreSQL (DATABASE_URL, else embedded) and Pub/Sub emulator and stops them.
 *
 * `--engine mysql` (issue 21) then measures MySQL/MariaDB's trigger capture the same way on the
 * same table shape (bench/capture-mysql.ts), beside PostgreSQL's figures of this run:
 * mysqlTriggerOverheadRatio (baseline: PostgreSQL's ratio), mysqlUpdate100kRowsMs and
 * mysqlUpdate1RowMs (baseline: the same UPDATE without capture), mysqlRelayChangesPerSec (the
 * real MySQL relay into the same emulator; baseline: PostgreSQL's relay), and
 * mysqlBinlogOverheadRatio when the server's binlog is on.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type postgres from 'postgres';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { readOutboxRows } from '../functions/src/adapters/postgres-outbox.ts';
import { watchTable } from '../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../functions/src/adapters/pubsub-bus.ts';
import type { BusMessage } from '../functions/src/ports.ts';
import { drainFor } from '../functions/src/relay/outbox-drain.ts';
import { changesToBusMessages, outboxRowToChanges } from '../functions/src/relay/outbox-messages.ts';
import { measureMysqlCapture } from './capture-mysql.ts';
import { benchDatabase } from './database.ts';
import { type Benchmark, type Metric, median } from './lib.ts';

const ROWS = 100_000;
/** UPDATEs of each table, alternating which goes first. */
const REPETITIONS = 9;
/** One-row UPDATEs of each table (median latency, client round trip included). */
const SINGLE_ROW_UPDATES = 500;
/** Rounds of 100,000 changes through the relay (and the same through the baseline). */
const RELAY_ROUNDS = 3;
/** The relay's default batch (functions/src/relay/outbox-relay.ts). */
const RELAY_BATCH_CHANGES = 5000;

/**
 * The outbox as the relay will take it: batches of whole outbox rows of up to `maxChanges`
 * changes in id order (claimOutboxRows), each turned into the bus messages the relay publishes.
 */
async function relayBatchesOf(
  sql: postgres.Sql,
  maxChanges: number,
): Promise<Array<{ changes: number; messages: BusMessage[] }>> {
  const heads = await sql<{ id: string; change_count: number }[]>`
    select id::text as id, change_count from sheetsync.outbox order by outbox.id`;
  const groups: string[][] = [];
  let changes = 0;
  for (const head of heads) {
    const group = groups[groups.length - 1];
    if (!group || changes + head.change_count > maxChanges) {
      groups.push([head.id]);
      changes = head.change_count;
    } else {
      group.push(head.id);
      changes += head.change_count;
    }
  }
  const batches: Array<{ changes: number; messages: BusMessage[] }> = [];
  for (const ids of groups) {
    const changesOfBatch = (await readOutboxRows(sql, ids)).flatMap(outboxRowToChanges);
    batches.push({ changes: changesOfBatch.length, messages: changesToBusMessages(changesOfBatch) });
  }
  return batches;
}

const bench: Benchmark = {
  name: 'capture',
  description: 'capture trigger overhead on a 100k-row UPDATE, and outbox → Pub/Sub emulator throughput',
  async run({ progress, engine }) {
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
      // Each repetition's two UPDATEs run back to back, so their ratio sees the same machine load;
      // the median of those ratios is steadier on a shared machine than a ratio of medians.
      const overhead = median(timings.captured.map((ms, i) => ms / timings.plain[i]!));

      // ── one-row statements: the trigger's fixed cost per statement ──
      progress(`${SINGLE_ROW_UPDATES} one-row UPDATEs of each table`);
      const single: Record<'plain' | 'captured', number[]> = { plain: [], captured: [] };
      const conn = await sql.reserve(); // one session, as an application's connection
      try {
        for (let i = 0; i < SINGLE_ROW_UPDATES; i++) {
          const id = 1 + ((i * 7919) % ROWS);
          for (const table of i % 2 === 0
            ? (['plain', 'captured'] as const)
            : (['captured', 'plain'] as const)) {
            const started = performance.now();
            await conn.unsafe(`update ${table} set qty = qty + 1 where id = $1`, [id]);
            single[table].push(performance.now() - started);
          }
        }
      } finally {
        conn.release();
      }
      const singlePlainMs = median(single.plain);
      const singleCapturedMs = median(single.captured);

      // ── relay throughput ──
      const bus = createPubSubBus({ projectId: 'sheetsync-bench', apiEndpoint: emulator.host });
      stops.unshift(() => bus.close());
      const topic = `bench-db-changes-${randomBytes(3).toString('hex')}`;
      await bus.ensureTopic(topic);
      // A subscription, so the emulator stores what it acknowledges, as Pub/Sub would.
      await bus.ensureSubscription(`${topic}-sub`, { topic });
      const relaySeconds: number[] = [];
      const directSeconds: number[] = [];
      for (let round = 0; round < RELAY_ROUNDS; round++) {
        await sql`delete from sheetsync.outbox`;
        await sql`update captured set qty = qty + 1`;
        // The baseline publishes the very messages the relay will publish (the same batches of
        // outbox rows, the same batch payloads and ordering keys link/b<bucket>), from memory.
        const batches = await relayBatchesOf(sql, RELAY_BATCH_CHANGES);
        const directChanges = batches.reduce((n, b) => n + b.changes, 0);
        if (directChanges !== ROWS)
          throw new Error(`expected ${ROWS} changes in the outbox, found ${directChanges}`);
        const publishDirect = async () => {
          const started = performance.now();
          for (const batch of batches) await bus.publish(topic, batch.messages);
          directSeconds.push((performance.now() - started) / 1000);
        };
        const relay = async () => {
          progress(`relaying ${ROWS} changes to the emulator (round ${round + 1}/${RELAY_ROUNDS})`);
          const started = performance.now();
          const result = await drainFor(
            { sql, bus, topic, maxBatchChanges: RELAY_BATCH_CHANGES },
            10 * 60_000,
          );
          relaySeconds.push((performance.now() - started) / 1000);
          // drainFor counts the changes whose publish Pub/Sub acknowledged.
          if (result.published !== ROWS || result.remaining) {
            throw new Error(`relay published ${result.published} of ${ROWS} changes`);
          }
        };
        // Alternate which goes first: the emulator slows down as it stores more.
        if (round % 2 === 0) {
          await publishDirect();
          await relay();
        } else {
          await relay();
          await publishDirect();
        }
        progress(
          `round ${round + 1}: relay ${Math.round(ROWS / relaySeconds[round]!)} changes/s, direct publish ${Math.round(ROWS / directSeconds[round]!)} changes/s (${batches.reduce((n, b) => n + b.messages.length, 0)} messages)`,
        );
      }
      const relayRate = ROWS / median(relaySeconds);
      const directRate = ROWS / median(directSeconds);

      // ── MySQL/MariaDB, beside the figures above ──
      const mysql: Record<string, Metric> = {};
      if (engine === 'mysql') {
        const my = await measureMysqlCapture(bus, topic, progress);
        const myRelayRate = my.rows / median(my.relaySeconds);
        Object.assign(mysql, {
          mysqlTriggerOverheadRatio: {
            value: my.overhead,
            unit: 'x',
            baseline: overhead,
            ratio: my.overhead / overhead,
          },
          mysqlUpdate100kRowsMs: {
            value: my.update100k.captured,
            unit: 'ms',
            baseline: my.update100k.plain,
            ratio: my.update100k.captured / my.update100k.plain,
          },
          mysqlUpdate1RowMs: {
            value: my.update1Row.captured,
            unit: 'ms',
            baseline: my.update1Row.plain,
            ratio: my.update1Row.captured / my.update1Row.plain,
          },
          mysqlRelayChangesPerSec: {
            value: myRelayRate,
            unit: 'changes/s',
            baseline: relayRate,
            ratio: myRelayRate / relayRate,
          },
          ...(my.binlogOverhead === undefined
            ? {}
            : { mysqlBinlogOverheadRatio: { value: my.binlogOverhead, unit: 'x' } }),
        } satisfies Record<string, Metric>);
      }
      return {
        triggerOverheadRatio: { value: overhead, unit: 'x', target: '≤ 1.5' },
        update100kRowsMs: { value: capturedMs, unit: 'ms', baseline: plainMs, ratio: capturedMs / plainMs },
        update1RowMs: {
          value: singleCapturedMs,
          unit: 'ms',
          baseline: singlePlainMs,
          ratio: singleCapturedMs / singlePlainMs,
        },
        relayChangesPerSec: {
          value: relayRate,
          unit: 'changes/s',
          baseline: directRate,
          ratio: relayRate / directRate,
          target: '≥ 20000',
        },
        ...mysql,
      };
    } finally {
      for (const stop of stops) await stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

export default bench;
