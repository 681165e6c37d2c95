/**
 * `npm run bench -- mysql-capture`: the MySQL capture's cost (issue 21), measured as the
 * `capture` benchmark measures PostgreSQL's, on the same table shape, against MYSQL_URL (default
 * the machine's MariaDB, root over 127.0.0.1:3306) in a database of its own, dropped afterwards.
 *
 * - triggerOverheadRatio: one UPDATE of 100,000 rows on a watched table ÷ the same UPDATE on an
 *   identical unwatched table, back to back (alternating which goes first); the median of
 *   REPETITIONS such ratios. update100kRowsMs: the medians.
 * - update1RowMs: the median of one-row UPDATEs, with capture and without (alternating).
 * - binlogOverheadRatio (only on a server with the binlog on, e.g. one started with
 *   `--log-bin --binlog-format=ROW`): the 100k-row UPDATE of the unwatched table with the
 *   session's binlog on ÷ off (`sql_log_bin`, which needs SUPER), alternating; the median of
 *   REPETITIONS ratios: what binlog capture costs the writer.
 * - outboxDrainChangesPerSec: changes per second read from the outbox in id order, decoded to
 *   canonical changes and deleted, in batches of 5,000, one transaction each (FOR UPDATE SKIP
 *   LOCKED, as the relay will claim them): the relay's database side, without Pub/Sub.
 */
import { randomBytes } from 'node:crypto';
import { installMysqlCapture, watchMysqlTable } from '../functions/src/adapters/mysql/mysql-capture.ts';
import { connectMysql, type MysqlPool } from '../functions/src/adapters/mysql/mysql-connection.ts';
import { decodeOutboxBody } from '../functions/src/adapters/mysql/mysql-outbox.ts';
import { describeMysqlTable } from '../functions/src/adapters/mysql/mysql-schema.ts';
import { type Benchmark, median } from './lib.ts';

const ROWS = 100_000;
const REPETITIONS = 7;
const SINGLE_ROW_UPDATES = 300;
const DRAIN_BATCH = 5_000;

/** The binlog's cost on the 100k-row UPDATE of `plain`; undefined when the binlog is off. */
async function binlogOverhead(
  pool: MysqlPool,
  progress: (message: string) => void,
): Promise<number | undefined> {
  const [[{ on }]] = (await pool.query('select @@log_bin as `on`')) as unknown as [[{ on: number | string }]];
  if (Number(on) !== 1) {
    progress('the binlog is off on this server: no binlogOverheadRatio');
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
      let on: number;
      let off: number;
      if (rep % 2 === 0) {
        on = await update(1);
        off = await update(0);
      } else {
        off = await update(0);
        on = await update(1);
      }
      ratios.push(on / off);
      progress(`binlog ${rep + 1}/${REPETITIONS}: on ${Math.round(on)} ms, off ${Math.round(off)} ms`);
    }
  } finally {
    await connection.query('set session sql_log_bin = 1').catch(() => {});
    connection.release();
  }
  return median(ratios);
}

const bench: Benchmark = {
  name: 'mysql-capture',
  description: 'MySQL trigger capture overhead on a 100k-row UPDATE, and the outbox drain rate',
  async run({ progress }) {
    const adminUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
    const name = `sheetsync_bench_${randomBytes(4).toString('hex')}`;
    const admin = connectMysql(adminUrl, { connectionLimit: 1 });
    await admin.query(`create database \`${name}\``);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const pool = connectMysql(url.toString(), { connectionLimit: 2 });
    try {
      const [[{ version }]] = (await pool.query('select version() as version')) as unknown as [
        [{ version: string }],
      ];
      progress(`server ${version}; loading 2 × ${ROWS} rows`);
      await installMysqlCapture(pool, name);
      for (const table of ['plain', 'captured']) {
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
      const captured = await describeMysqlTable(pool, 'captured');
      const watchedId = await watchMysqlTable(pool, captured, 'captured', name);

      const timings: Record<'plain' | 'captured', number[]> = { plain: [], captured: [] };
      for (let rep = 0; rep < REPETITIONS; rep++) {
        for (const table of rep % 2 === 0
          ? (['plain', 'captured'] as const)
          : (['captured', 'plain'] as const)) {
          const started = performance.now();
          await pool.query(`update ${table} set qty = qty + 1`);
          timings[table].push(performance.now() - started);
        }
        const [[{ n }]] = (await pool.query('select count(*) as n from outbox')) as unknown as [
          [{ n: number | string }],
        ];
        if (Number(n) !== ROWS) throw new Error(`expected ${ROWS} captured changes, found ${n}`);
        // The next repetition starts from an empty outbox, as a running relay keeps it.
        if (rep < REPETITIONS - 1) await pool.query('truncate table outbox');
        progress(
          `update ${rep + 1}/${REPETITIONS}: plain ${Math.round(timings.plain[rep]!)} ms, captured ${Math.round(timings.captured[rep]!)} ms`,
        );
      }
      const overhead = median(timings.captured.map((ms, i) => ms / timings.plain[i]!));

      const binlog = await binlogOverhead(pool, progress);

      progress(`${SINGLE_ROW_UPDATES} one-row UPDATEs of each table`);
      const single: Record<'plain' | 'captured', number[]> = { plain: [], captured: [] };
      const connection = await pool.getConnection();
      try {
        for (let i = 0; i < SINGLE_ROW_UPDATES; i++) {
          for (const table of i % 2 === 0
            ? (['plain', 'captured'] as const)
            : (['captured', 'plain'] as const)) {
            const started = performance.now();
            await connection.execute(`update ${table} set qty = qty + 1 where id = ?`, [
              1 + ((i * 7919) % ROWS),
            ]);
            single[table].push(performance.now() - started);
          }
        }
      } finally {
        connection.release();
      }
      progress(`draining ${ROWS} changes from the outbox`);
      const drainStarted = performance.now();
      let drained = 0;
      const tables = new Map([[watchedId, captured]]);
      for (;;) {
        const c = await pool.getConnection();
        try {
          await c.query('start transaction');
          const [rows] = (await c.query(
            'select id, watched_id, op, body from outbox order by id limit ? for update skip locked',
            [DRAIN_BATCH],
          )) as unknown as [Array<{ id: string; watched_id: number; op: 'UPDATE'; body: string }>];
          for (const row of rows)
            decodeOutboxBody(row.op, JSON.parse(row.body) as unknown[], tables.get(row.watched_id)!);
          if (rows.length > 0)
            await c.execute('delete from outbox where id <= ?', [rows[rows.length - 1]!.id]);
          await c.query('commit');
          drained += rows.length;
          if (rows.length < DRAIN_BATCH) break;
        } finally {
          c.release();
        }
      }
      const drainSeconds = (performance.now() - drainStarted) / 1000;
      // The last UPDATE's changes and those of the one-row UPDATEs of the watched table.
      if (drained !== ROWS + SINGLE_ROW_UPDATES)
        throw new Error(`drained ${drained} of ${ROWS + SINGLE_ROW_UPDATES} changes`);
      return {
        triggerOverheadRatio: { value: overhead, unit: 'x' },
        update100kRowsMs: {
          value: median(timings.captured),
          unit: 'ms',
          baseline: median(timings.plain),
          ratio: median(timings.captured) / median(timings.plain),
        },
        update1RowMs: {
          value: median(single.captured),
          unit: 'ms',
          baseline: median(single.plain),
          ratio: median(single.captured) / median(single.plain),
        },
        outboxDrainChangesPerSec: { value: drained / drainSeconds, unit: 'changes/s' },
        ...(binlog === undefined ? {} : { binlogOverheadRatio: { value: binlog, unit: 'x' } }),
      };
    } finally {
      await pool.end();
      await admin.query(`drop database if exists \`${name}\``);
      await admin.end();
    }
  },
};

export default bench;
