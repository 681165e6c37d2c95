/**
 * The MySQL outbox relay (relay/mysql-relay.ts) against the machine's MariaDB and Google's
 * Pub/Sub emulator, as test/integration/outbox-relay.test.ts holds the PostgreSQL relay: every
 * committed change published once at least, none of a rolled-back transaction, per-key commit
 * order with writers committing out of id order, the same message fields (change ids, dots,
 * origins, canonical values), and outbox rows deleted only after the bus acknowledged them.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installMysqlCapture, watchMysqlTable } from '../../functions/src/adapters/mysql/mysql-capture.ts';
import type { MysqlConnection } from '../../functions/src/adapters/mysql/mysql-connection.ts';
import { describeMysqlTable } from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { createMysqlTable } from '../../functions/src/adapters/mysql/mysql-table.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import type { Bus, BusMessage } from '../../functions/src/ports.ts';
import { drainMysqlFor, startMysqlRelay } from '../../functions/src/relay/mysql-relay.ts';
import { mysqlRelayHttpHandler } from '../../functions/src/relay/mysql-relay-http.ts';
import { type DbChangeMessage, parseDbChanges } from '../../functions/src/wire/db-change.ts';
import { useMysqlDatabase } from '../support/mysql.ts';
import { uniqueName } from '../support/names.ts';

async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A bus that records what it was asked to publish and acknowledges it at once. */
function recordingBus(fail?: () => boolean): Bus & { published: DbChangeMessage[] } {
  const published: DbChangeMessage[] = [];
  return {
    published,
    ensureTopic: async () => {},
    ensureSubscription: async () => {},
    publish: async (_topic, messages: readonly BusMessage[]) => {
      if (fail?.()) throw new Error('publish not acknowledged');
      for (const m of messages) published.push(...parseDbChanges(m.data));
      return messages.map((_, i) => String(i));
    },
    subscribe: () => ({ close: async () => {} }),
    close: async () => {},
  };
}

describe('MySQL outbox relay (real MariaDB, Pub/Sub emulator)', () => {
  const db = useMysqlDatabase();
  let bus: Bus;
  const outboxRows = async () => {
    const [[row]] = (await db.pool.query(`select count(*) as n from \`${db.name}\`.outbox`)) as unknown as [
      [{ n: number }],
    ];
    return Number(row.n);
  };
  const watch = async (name: string, link: string) =>
    watchMysqlTable(db.pool, await describeMysqlTable(db.pool, name), link, db.name);

  beforeAll(async () => {
    await installMysqlCapture(db.pool, db.name);
    bus = createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: inject('pubsubEmulatorHost') });
  });
  afterAll(async () => {
    await bus?.close();
  });

  async function collector() {
    const topic = uniqueName('db-changes');
    await bus.ensureTopic(topic);
    await bus.ensureSubscription(`${topic}-sub`, { topic, ackDeadlineSeconds: 60 });
    const deliveries: DbChangeMessage[] = [];
    const subscription = bus.subscribe(`${topic}-sub`, async (m) => {
      deliveries.push(...parseDbChanges(m.data));
    });
    const distinct = () => new Set(deliveries.map((d) => d.changeId)).size;
    return { topic, deliveries, distinct, close: () => subscription.close() };
  }

  it('publishes every committed change of concurrent writers committing out of id order, none rolled back, in per-key order', async () => {
    await db.pool.query('create table counters (id int primary key, n int not null)');
    await db.pool.query(
      `insert into counters values ${Array.from({ length: 8 }, (_, i) => `(${i + 1}, 0)`).join(', ')}, (101, 0), (102, 0)`,
    );
    await watch('counters', 'counters-link');
    const sink = await collector();
    const relay = startMysqlRelay({
      pool: db.pool,
      outboxDatabase: db.name,
      bus,
      topic: sink.topic,
      pollIntervalMs: 50,
      maxBatchChanges: 20,
    });
    const committed = new Map<number, number>();
    try {
      // Out of id order: A takes its outbox id before B, B commits and is published, then A.
      const a = await db.pool.getConnection();
      const b = await db.pool.getConnection();
      try {
        await a.query('start transaction');
        await a.query('update counters set n = n + 1 where id = 101');
        await b.query('start transaction');
        await b.query('update counters set n = n + 1 where id = 102');
        await b.query('commit');
        await until(() => sink.deliveries.some((d) => d.key.id === 102), "B's change while A is open");
        expect(sink.deliveries.some((d) => d.key.id === 101)).toBe(false);
        await a.query('commit');
        committed.set(101, 1).set(102, 1);
      } finally {
        a.release();
        b.release();
      }
      const ids = (key: number) =>
        sink.deliveries.filter((d) => d.key.id === key).map((d) => Number(d.outboxId));
      await until(() => ids(101).length > 0, "A's change after its commit");
      expect(ids(101)[0]).toBeLessThan(ids(102)[0]!);

      // Contention: 6 writers × 15 transactions over 8 keys, every 7th rolled back.
      await Promise.all(
        Array.from({ length: 6 }, async (_, w) => {
          const connection: MysqlConnection = await db.pool.getConnection();
          try {
            for (let t = 0; t < 15; t++) {
              const keys = [
                ...new Set(Array.from({ length: 3 }, () => 1 + Math.floor(Math.random() * 8))),
              ].sort((x, y) => x - y);
              const list = keys.join(', ');
              await connection.query('start transaction');
              await connection.query(`select id from counters where id in (${list}) order by id for update`);
              await connection.query(`update counters set n = n + 1 where id in (${list})`);
              await new Promise((r) => setTimeout(r, Math.random() * 4));
              if ((w * 15 + t) % 7 === 0) {
                await connection.query('rollback');
                continue;
              }
              await connection.query('commit');
              for (const k of keys) committed.set(k, (committed.get(k) ?? 0) + 1);
            }
          } finally {
            connection.release();
          }
        }),
      );
      const total = [...committed.values()].reduce((s, n) => s + n, 0);
      await until(() => sink.distinct() >= total, `${total} distinct changes`);
      expect(sink.distinct()).toBe(total);
      for (const [key, count] of committed) {
        // Delivery order of the key's distinct changes: n = 1, 2, …, count — no gap (lost), no
        // repeat (a rolled-back increment), none out of order.
        const seen = new Set<number>();
        const values: unknown[] = [];
        for (const d of sink.deliveries) {
          if (d.key.id !== key || seen.has(d.changeId)) continue;
          seen.add(d.changeId);
          values.push(d.cells.n);
        }
        expect(values, `key ${key}`).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      }
      await until(async () => (await outboxRows()) === 0, 'the outbox to empty');
    } finally {
      await relay.stop();
      await sink.close();
    }
  });

  it('publishes the PostgreSQL relay’s message: change id, origin and dot, canonical values and types', async () => {
    await db.pool.query(`create table leads (
      id bigint unsigned not null auto_increment primary key, name varchar(40) not null,
      score decimal(10,2), active tinyint(1), seen timestamp(3) null)`);
    await watch('leads', 'leads-link');
    const table = createMysqlTable(db.pool, { outboxDatabase: db.name });
    const schema = await table.describe('leads', { name: 'leads-link' });
    const written = await table.inSheetTransaction((tx) =>
      tx.write(
        schema,
        [
          {
            rowId: 'r1',
            dot: 'sheet:7',
            key: undefined,
            cells: { name: 'Ada', score: '1.50', active: true },
          },
        ],
        [],
      ),
    );
    const id = written.keys.get('r1')!.id;
    await db.pool.query("update leads set score = 2.25, seen = '2026-03-01 10:00:00.125' where name = 'Ada'");
    await db.pool.query("update leads set id = 900 where name = 'Ada'");
    await db.pool.query('delete from leads where id = 900');
    const bus = recordingBus();
    const result = await drainMysqlFor({ pool: db.pool, outboxDatabase: db.name, bus, topic: 't' }, 30_000);
    expect(result).toMatchObject({ acquired: true, published: 4, remaining: false });
    const [insert, update, move, remove] = bus.published;
    for (const change of bus.published) {
      expect(change.changeId).toBe(Number(change.outboxId) * 1000);
      expect(change).toMatchObject({
        link: 'leads-link',
        table: `${db.name}.leads`,
        keyColumns: ['id'],
        index: 0,
      });
    }
    expect(insert).toMatchObject({
      op: 'INSERT',
      origin: 'sheet',
      dot: 'sheet:7',
      key: { id },
      cells: { id, name: 'Ada', score: '1.5', active: true, seen: null },
      types: {
        id: 'bigint',
        name: 'character varying(40)',
        score: 'numeric',
        active: 'boolean',
        seen: 'timestamp with time zone',
      },
    });
    expect(update).toMatchObject({
      op: 'UPDATE',
      origin: 'db',
      dot: null,
      key: { id },
      cells: { score: '2.25', seen: '2026-03-01T10:00:00.125Z' },
    });
    expect(Object.keys(update!.cells).sort()).toEqual(['score', 'seen']);
    expect(move).toMatchObject({
      op: 'UPDATE',
      key: { id: '900' },
      previousKey: { id },
      cells: { id: '900' },
    });
    expect(remove).toMatchObject({ op: 'DELETE', key: { id: '900' }, cells: {} });
    expect(await outboxRows()).toBe(0);
  });

  it('deletes outbox rows only after the bus acknowledged them, and publishes them again after a failure', async () => {
    await db.pool.query('create table notes (id int primary key, body text)');
    await watch('notes', 'notes-link');
    await db.pool.query("insert into notes values (1, 'a'), (2, 'b'), (3, 'c')");
    let failPublish = true;
    const bus = recordingBus(() => failPublish);
    const options = { pool: db.pool, outboxDatabase: db.name, bus, topic: 't' };
    await expect(drainMysqlFor(options, 10_000)).rejects.toThrow('publish not acknowledged');
    expect(await outboxRows()).toBe(3);
    failPublish = false;
    // Acknowledged, but the relay fails before its commit: the rows stay, to be published again.
    await expect(
      drainMysqlFor(
        {
          ...options,
          afterPublish: async () => {
            throw new Error('crash before commit');
          },
        },
        10_000,
      ),
    ).rejects.toThrow('crash before commit');
    expect(await outboxRows()).toBe(3);
    expect(await drainMysqlFor(options, 10_000)).toMatchObject({ acquired: true, published: 3 });
    expect(await outboxRows()).toBe(0);
    const ids = bus.published.map((c) => c.changeId);
    expect(ids).toHaveLength(6);
    expect(ids.slice(3)).toEqual(ids.slice(0, 3));
  });

  it('drains for the time the scheduler asks, as the HTTP function, and answers what it did', async () => {
    await db.pool.query('create table ticks (id int primary key)');
    await watch('ticks', 'ticks-link');
    await db.pool.query('insert into ticks values (1), (2)');
    const bus = recordingBus();
    const handler = mysqlRelayHttpHandler({
      pool: db.pool,
      outboxDatabase: db.name,
      bus,
      topic: 't',
      maxDrainMs: 5_000,
    });
    let answer: { status?: number; body?: unknown } = {};
    const res = {
      status(code: number) {
        answer.status = code;
        return this;
      },
      json(body: unknown) {
        answer.body = body;
        return this;
      },
    };
    const started = Date.now();
    await handler({ query: {}, body: { ms: 600 } } as never, res as never);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(answer).toEqual({
      status: 200,
      body: { acquired: true, published: 2, batches: 1, remaining: false },
    });
    expect(bus.published.map((c) => c.key)).toEqual([{ id: 1 }, { id: 2 }]);
    answer = {};
    const failing = recordingBus(() => true);
    await db.pool.query('insert into ticks values (3)');
    await mysqlRelayHttpHandler({ pool: db.pool, outboxDatabase: db.name, bus: failing, topic: 't' })(
      { query: { ms: '300' } } as never,
      res as never,
    );
    expect(answer).toMatchObject({ status: 500, body: { code: 'SHEETSYNC_E204' } });
    expect(await outboxRows()).toBe(1);
  });

  it('decodes rows written before a column was added at the end, and after the table was watched again', async () => {
    await db.pool.query('create table evolving (id int primary key, a varchar(10))');
    await watch('evolving', 'evolving-link');
    const bus = recordingBus();
    // Earlier tests may have left rows of their own tables: only this table's changes count.
    const mine = () => bus.published.filter((c) => c.table.endsWith('.evolving'));
    const relay = startMysqlRelay({
      pool: db.pool,
      outboxDatabase: db.name,
      bus,
      topic: 't',
      pollIntervalMs: 50,
    });
    try {
      await db.pool.query("insert into evolving values (1, 'x')");
      await until(() => mine().length === 1, 'the INSERT');
      await db.pool.query('alter table evolving add column b int');
      // The old triggers still write two columns; the relay decodes them by the new catalog.
      await db.pool.query("update evolving set a = 'y' where id = 1");
      await until(() => mine().length === 2, 'the UPDATE under the old triggers');
      await watch('evolving', 'evolving-link');
      await db.pool.query('update evolving set b = 5 where id = 1');
      await until(() => mine().length === 3, 'the UPDATE under the new triggers');
      expect(mine().map((c) => [c.op, c.cells])).toEqual([
        ['INSERT', { id: 1, a: 'x' }],
        ['UPDATE', { a: 'y' }],
        ['UPDATE', { b: 5 }],
      ]);
      expect(relay.counters().errors).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('lets one relay drain at a time', async () => {
    const holder = await db.pool.getConnection();
    try {
      await holder.query('select get_lock(?, 0)', [`sheetsync.relay.${db.name}`]);
      const result = await drainMysqlFor(
        { pool: db.pool, outboxDatabase: db.name, bus: recordingBus(), topic: 't' },
        1_000,
      );
      expect(result).toMatchObject({ acquired: false, published: 0 });
    } finally {
      await holder.query('select release_lock(?)', [`sheetsync.relay.${db.name}`]);
      holder.release();
    }
  });
});
