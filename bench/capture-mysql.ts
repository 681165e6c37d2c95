/**
 * The MySQL half of `npm run bench -- capture --engine mysql` (issue 21): the trigger capture's
 * cost and the relay's rate, measured as capture.bench.ts measures PostgreSQL's, on the same
 * table shape, against MYSQL_URL (default the machine's MariaDB, root over 127.0.0.1:3306) in a
 * database of its own, dropped afterwards. Not a benchmark of its own (no `.bench.ts`): its
 * figures sit beside PostgreSQL's from the same run.
 *
 * - overhead: one UPDATE of 100,000 rows on a watched table ÷ the same UPDATE on an identical
 *   unwatched table, back to back (alternating which goes first); the median of REPETITIONS
 *   such ratios. update100k: the medians.
 * - update1Row: the median of one-row UPDATEs, with capture and without (alternating).
 * - binlogOverhead (only on a server with the binlog on, e.g. one started with
 *   `--log-bin --binlog-format=ROW`): the 100k-row UPDATE of the unwatched table with the
 *   session's binlog on ÷ off (`sql_log_bin`, which needs SUPER), alternating: what binlog
 *   capture costs the writer. Undefined when the binlog is off.
 * - relaySeconds: the real relay (drainMysqlFor: claim, decode, publish to the Pub/Sub emulator,
 *   wait for its acks, delete) draining the 100,000 changes of one UPDATE, RELAY_ROUNDS rounds.
 */
import { randomBytes } from 'node:crypto';
import { installMysqlCapture, watchMysqlTable } from '../functions/src/adapters/mysql/mysql-capture.ts';
import { connectMysql, type MysqlPool } from '../functions/src/adapters/mysql/mysql-connection.ts';
import { describeMysqlTable } from '../functions/src/adapters/mysql/mysql-schema.ts';
import type { Bus } from '../functions/src/ports.ts';
import { drainMysqlFor } from '../functions/src/relay/mysql-relay.ts';
import { median } from './lib.ts';

const ROWS = 100_000;
const REPETITIONS = 7;
const SINGLE_ROW_UPDATES = 300;
const RELAY_ROUNDS = 3;
/** The relay's default batch, as for PostgreSQL. */
const RELAY_BATCH_CHANGES = 5_000;

export interface MysqlCaptureFigures {
  server: string;
  overhead: number;
  update100k: { captured: number; plain: number };
  update1Row: { captured: number; plain: number };
  binlogOverhead: number | undefined;
  relaySeconds: number[];
  rows: number;
}

type Table = 'plain' | 'captured';

async function scalar<T>(pool: MysqlPool, sql: string): Promise<T> {
  const [rows] = (await pool.query(sql)) as unknown as [Array<{ v: T }>];
  return rows[0]!.v;
}

/** The binlog's cost on the 100k-row UPDATE of `plain`; undefined when the binlog is off. */
async function binlogOverhead(pool: MysqlPool, progress: (m: string) => void): Promise<number | undefined> {
  if (Number(await scalar(pool, 'select @@log_bin as v')) !== 1) {
    progress('mysql: the binlog is off on this server: no binlog overhead figure');
    return undefined;
  }
  const connection = await pool.getConnection();
  const ratios: number[] = [];
  try {
    const update = async (logged: 0 | 1) => {
      await connection.query(`set session sql_log_bin = ${logged}`);
      const started = performance.now();
      await connection.query('update plain set qty = qty + 1');
      return performance.now() - started;
    };
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const first = rep % 2 === 0 ? 1 : 0;
      const a = await update(first);
      const b = await update(first === 1 ? 0 : 1);
      const [on, off] = first === 1 ? [a, b] : [b, a];
      ratios.push(on / off);
      progress(`mysql binlog ${rep + 1}/${REPETITIONS}: on ${Math.round(on)} ms, off ${Math.round(off)} ms`);
    }
  } finally {
    await connection.query('set session sql_log_bin = 1').catch(() => {});
    connection.release();
  }
  return median(ratios);
}

async function load(pool: MysqlPool, table: Table): Promise<void> {
  await pool.query(
    `create table ${table} (id bigint primary key, name varchar(100) not null, qty int not null,
       price decimal(12,2), updated timestamp(6) null) engine = InnoDB`,
  );
  for (let start = 1; start <= ROWS; start += 5_000) {
    const values = Array.from({ length: 5_000 }, (_, i) => start + i).map(
      (g) => `(${g}, 'item ${g}', ${g % 100}, ${g * 1.25}, current_timestamp(6))`,
    );
    await pool.query(`insert into ${table} values ${values.join(', ')}`);
  }
  await pool.query(`analyze table ${table}`);
}

/** Both tables' 100k-row UPDATE timings, alternating; the outbox emptied between repetitions. */
async function bulkUpdates(pool: MysqlPool, progress: (m: string) => void): Promise<Record<Table, number[]>> {
  const timings: Record<Table, number[]> = { plain: [], captured: [] };
  for (let rep = 0; rep < REPETITIONS; rep++) {
    for (const table of rep % 2 === 0 ? (['plain', 'captured'] as const) : (['captured', 'plain'] as const)) {
      const started = performance.now();
      await pool.query(`update ${table} set qty = qty + 1`);
      timings[table].push(performance.now() - started);
    }
    const n = Number(await scalar(pool, 'select count(*) as v from outbox'));
    if (n !== ROWS) throw new Error(`mysql: expected ${ROWS} captured changes, found ${n}`);
    // Each repetition starts from an empty outbox, as a running relay keeps it.
    await pool.query('truncate table outbox');
    progress(
      `mysql update ${rep + 1}/${REPETITIONS}: plain ${Math.round(timings.plain[rep]!)} ms, captured ${Math.round(timings.captured[rep]!)} ms`,
    );
  }
  return timings;
}

async function singleRowUpdates(pool: MysqlPool): Promise<Record<Table, number[]>> {
  const single: Record<Table, number[]> = { plain: [], captured: [] };
  const connection = await pool.getConnection();
  try {
    for (let i = 0; i < SINGLE_ROW_UPDATES; i++) {
      for (const table of i % 2 === 0 ? (['plain', 'captured'] as const) : (['captured', 'plain'] as const)) {
        const started = performance.now();
        await connection.execute(`update ${table} set qty = qty + 1 where id = ?`, [1 + ((i * 7919) % ROWS)]);
        single[table].push(performance.now() - started);
      }
    }
  } finally {
    connection.release();
  }
  await pool.query('truncate table outbox');
  return single;
}

/** Rounds of one 100k-row UPDATE drained by the real relay to `bus`'s topic `topic`. */
async function relayRounds(
  pool: MysqlPool,
  outboxDatabase: string,
  bus: Bus,
  topic: string,
  progress: (m: string) => void,
): Promise<number[]> {
  const seconds: number[] = [];
  for (let round = 0; round < RELAY_ROUNDS; round++) {
    await pool.query('update captured set qty = qty + 1');
    const started = performance.now();
    const result = await drainMysqlFor(
      { pool, outboxDatabase, bus, topic, maxBatchChanges: RELAY_BATCH_CHANGES },
      10 * 60_000,
    );
    seconds.push((performance.now() - started) / 1000);
    if (!result.acquired || result.published !== ROWS || result.remaining)
      throw new Error(`mysql relay published ${result.published} of ${ROWS} changes`);
    progress(
      `mysql relay round ${round + 1}/${RELAY_ROUNDS}: ${Math.round(ROWS / seconds[round]!)} changes/s`,
    );
  }
  return seconds;
}

export async function measureMysqlCapture(
  bus: Bus,
  topic: string,
  progress: (message: string) => void,
): Promise<MysqlCaptureFigures> {
  const adminUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
  const name = `sheetsync_bench_${randomBytes(4).toString('hex')}`;
  const admin = connectMysql(adminUrl, { connectionLimit: 1 });
  await admin.query(`create database \`${name}\``);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = connectMysql(url.toString(), { connectionLimit: 3 });
  try {
    const server = String(await scalar(pool, 'select version() as v'));
    progress(`mysql: server ${server}; loading 2 × ${ROWS} rows`);
    await installMysqlCapture(pool, name);
    await load(pool, 'plain');
    await load(pool, 'captured');
    await watchMysqlTable(pool, await describeMysqlTable(pool, 'captured'), 'captured', name);
    const timings = await bulkUpdates(pool, progress);
    const binlog = await binlogOverhead(pool, progress);
    progress(`mysql: ${SINGLE_ROW_UPDATES} one-row UPDATEs of each table`);
    const single = await singleRowUpdates(pool);
    const relaySeconds = await relayRounds(pool, name, bus, topic, progress);
    return {
      server,
      overhead: median(timings.captured.map((ms, i) => ms / timings.plain[i]!)),
      update100k: { captured: median(timings.captured), plain: median(timings.plain) },
      update1Row: { captured: median(single.captured), plain: median(single.plain) },
      binlogOverhead: binlog,
      relaySeconds,
      rows: ROWS,
    };
  } finally {
    await pool.end();
    await admin.query(`drop database if exists \`${name}\``);
    await admin.end();
  }
}
