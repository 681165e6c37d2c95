/**
 * SIGKILL of the outbox relay mid-batch (issue 17, fault suite; moved here from
 * test/integration/outbox-relay.test.ts and extended): 20,000 changes (5,000 rows inserted, then
 * updated three times), full 5,000-change batches, a relay killed once between Pub/Sub's ack and
 * its commit and once halfway through a batch's publish. Against real PostgreSQL and Google's
 * Pub/Sub emulator: nothing is lost, every change is published at least once, duplicates keep
 * their ids, and each key's changes first arrive in commit order.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import type { Bus } from '../../functions/src/ports.ts';
import { startRelay } from '../../functions/src/relay/outbox-relay.ts';
import { type DbChangeMessage, parseDbChanges } from '../../functions/src/wire/db-change.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

const ROWS = 5_000;
const UPDATES = 3;
const CHANGES = ROWS * (1 + UPDATES);
const BATCH = 5_000;

describe('chaos: the relay SIGKILLed mid-batch', () => {
  const db = useTestDatabase();
  let bus: Bus;

  beforeAll(async () => {
    await installSchema(db.sql);
    bus = createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: inject('pubsubEmulatorHost') });
  });
  afterAll(async () => {
    await bus?.close();
  });

  const outboxChanges = async () =>
    Number((await db.sql`select coalesce(sum(change_count), 0)::int as n from sheetsync.outbox`)[0]?.n);

  /** Runs a relay child until it prints `signal`, then SIGKILLs it; returns the line. */
  async function killAt(hang: 'after-publish' | 'mid-publish', topic: string, signal: RegExp) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../support/outbox-relay-child.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          PUBSUB_HOST: inject('pubsubEmulatorHost'),
          TOPIC: topic,
          MAX_BATCH: String(BATCH),
          HANG: hang,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, s) => resolve(s)),
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      return await waitFor(
        `the child relay to print ${signal}`,
        async () => signal.exec(output) ?? undefined,
        90_000,
      );
    } finally {
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    }
  }

  it('loses nothing, publishes each change at least once with its ids, and keeps per-key order', async () => {
    await db.sql`create table crash (id int primary key, n int not null)`;
    await watchTable(db.sql, 'crash');
    await db.sql`insert into crash select g, 0 from generate_series(1, ${ROWS}) g`;
    for (let i = 0; i < UPDATES; i++) await db.sql`update crash set n = n + 1`;
    expect(await outboxChanges()).toBe(CHANGES);

    const topic = uniqueName('relay-kill');
    await bus.ensureTopic(topic);
    await bus.ensureSubscription(`${topic}-sub`, { topic, ackDeadlineSeconds: 60 });
    const deliveries: DbChangeMessage[] = [];
    const subscription = bus.subscribe(`${topic}-sub`, async (m) => {
      deliveries.push(...parseDbChanges(m.data));
    });
    const distinct = () => new Set(deliveries.map((d) => d.changeId)).size;
    try {
      // Killed after Pub/Sub acknowledged a whole batch, before the commit that deletes it.
      const published = (await killAt('after-publish', topic, /PUBLISHED (\S+)/))[1]!.split(',');
      expect(await outboxChanges()).toBe(CHANGES);
      const [claimed] = await db.sql<{ n: number }[]>`
        select coalesce(sum(change_count), 0)::int as n from sheetsync.outbox where id = any(${published}::bigint[])`;
      expect(claimed!.n).toBe(BATCH);
      await waitFor('the killed batch at the subscriber', async () => distinct() >= BATCH);

      // Killed halfway through publishing a batch: some of its messages out, the rest not.
      const half = await killAt('mid-publish', topic, /HALF (\d+) OF (\d+)/);
      expect(Number(half[1])).toBeLessThan(Number(half[2]));
      expect(await outboxChanges()).toBe(CHANGES);

      const relay = startRelay({ sql: db.sql, bus, topic, pollIntervalMs: 100 });
      try {
        await waitFor(
          'the restarted relay to drain the outbox',
          async () => (await outboxChanges()) === 0,
          90_000,
        );
        await waitFor(`all ${CHANGES} changes at the subscriber`, async () => distinct() === CHANGES, 90_000);
      } finally {
        await relay.stop();
      }

      // The batch the first child published came again, each copy with the same ids.
      const copies = new Map<number, DbChangeMessage[]>();
      for (const d of deliveries.filter((d) => published.includes(d.outboxId)))
        copies.set(d.changeId, [...(copies.get(d.changeId) ?? []), d]);
      expect(copies.size).toBe(BATCH);
      for (const same of copies.values()) {
        expect(same.length).toBeGreaterThanOrEqual(2);
        expect(new Set(same.map((d) => `${d.outboxId}/${d.index}/${d.key.id}/${d.op}`)).size).toBe(1);
      }
      // Per key, the first delivery of each change comes in commit order: n = 0, 1, 2, 3.
      const seen = new Set<number>();
      const nByKey = new Map<number, number[]>();
      for (const d of deliveries) {
        if (seen.has(d.changeId)) continue;
        seen.add(d.changeId);
        const key = Number(d.key.id);
        nByKey.set(key, [...(nByKey.get(key) ?? []), Number(d.cells.n)]);
      }
      expect(nByKey.size).toBe(ROWS);
      const expected = Array.from({ length: UPDATES + 1 }, (_, i) => i);
      const outOfOrder = [...nByKey].filter(([, ns]) => ns.join() !== expected.join());
      expect(outOfOrder.slice(0, 5)).toEqual([]);
    } finally {
      await subscription.close();
    }
  });
});
