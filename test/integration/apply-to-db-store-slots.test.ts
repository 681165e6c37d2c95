/**
 * applyToDb bounds its version-store writes across flushes (ApplyToDbDeps.storeConcurrency): a
 * run of pastes whose flushes overlap (GroupCommit release) must not put every create batch in
 * the store's queue at once, where the webhook's sheet-epoch bump would wait behind them all.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { createPostgresTable } from '../../functions/src/adapters/table/postgres-table.ts';
import {
  createApplyToDb,
  createLimiter,
  type DeliveryOutcome,
  type SheetDelivery,
} from '../../functions/src/handlers/apply-to-db.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { VersionStore } from '../../functions/src/ports.ts';
import { useTestDatabase } from '../support/postgres.ts';

describe('createLimiter', () => {
  it('runs at most `size` tasks at once, in the order they came, and passes results and errors through', async () => {
    const limit = createLimiter(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (n: number) => async () => {
      started.push(n);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 + (n % 3) * 5));
      running--;
      if (n === 3) throw new Error('task 3 failed');
      return n * 10;
    };
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, n) => limit(task(n))));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      0,
      10,
      20,
      'task 3 failed',
      40,
      50,
      60,
      70,
    ]);
    // A failed task gave its slot back: the limiter still runs two at once.
    running = 0;
    most = 0;
    await Promise.all([limit(task(4)), limit(task(5)), limit(task(6))]);
    expect(most).toBe(2);
  });

  it('refuses a size below one', () => {
    expect(() => createLimiter(0)).toThrow(/at least one slot/);
  });
});

describe('applyToDb store writes across overlapping flushes (real PostgreSQL)', () => {
  const db = useTestDatabase();

  beforeAll(async () => {
    await installSchema(db.sql);
    await db.sql.unsafe(`create table public.pasted (sku text primary key, name text, qty integer)`);
    await watchTable(db.sql, 'public.pasted', 'pasted');
  });

  it('keeps at most storeConcurrency createRows/commitRows calls in flight, and commits every row', async () => {
    const memory = new MemoryVersionStore();
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const slowWrite =
      <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        calls++;
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 20));
          return await write(...args);
        } finally {
          inFlight--;
        }
      };
    const store = new Proxy(memory, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== 'function') return value;
        const bound = value.bind(target);
        return property === 'createRows' || property === 'commitRows' ? slowWrite(bound) : bound;
      },
    }) as VersionStore;
    const apply = createApplyToDb({
      table: createPostgresTable(db.sql),
      store,
      links: new Map([['pasted', { table: 'public.pasted', policy: { default: 'last-writer-wins' } }]]),
      logger: silentLogger,
      storeConcurrency: 2,
    });

    const paste = (p: number): SheetDelivery => ({
      attempt: 1,
      message: Array.from({ length: 400 }, (_, i) => ({
        v: 1 as const,
        link: 'pasted',
        rowId: randomUUID(),
        op: 'upsert' as const,
        cells: { sku: `S-${p}-${i}`, name: `row ${i}`, qty: i },
        isNew: true,
        eventId: randomUUID(),
        time: Date.now(),
        row: 2 + i,
      })),
    });
    const pastes = [paste(0), paste(1), paste(2)];
    // As the group commit does: the next flush starts once the previous one released it.
    const done: Array<Promise<DeliveryOutcome[]>> = [];
    for (const delivery of pastes) {
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      done.push(apply.flush([delivery], () => release()));
      await released;
    }
    expect(await Promise.all(done)).toEqual([['ack'], ['ack'], ['ack']]);

    expect(most).toBe(2);
    expect(calls).toBe(3 * Math.ceil(400 / 250));
    const [{ count }] = await db.sql<[{ count: string }]>`select count(*) from public.pasted`;
    expect(Number(count)).toBe(1200);
    const rowIds = pastes.flatMap((d) => d.message.map((m) => m.rowId));
    const docs = await memory.readRows('pasted', rowIds);
    expect(docs.size).toBe(1200);
    expect([...docs.values()].every((doc) => doc.key !== null)).toBe(true);
  });
});
