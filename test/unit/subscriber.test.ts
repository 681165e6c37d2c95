import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../functions/src/adapters/memory-bus.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { startSubscriber } from '../../functions/src/runtime/subscriber.ts';

const text = (s: string) => new TextEncoder().encode(s);

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setUp() {
  const bus = createMemoryBus();
  await bus.ensureTopic('t');
  await bus.ensureSubscription('s', { topic: 't' });
  return bus;
}

describe('startSubscriber', () => {
  it("takes a key's waiting messages into one flush", async () => {
    const bus = await setUp();
    const flushes: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const sub = startSubscriber<string>({
      bus,
      subscription: 's',
      parse: (data) => data.toString(),
      flush: async (deliveries) => {
        flushes.push(deliveries.map((d) => d.message));
        if (flushes.length === 1) await held;
        return deliveries.map(() => 'ack' as const);
      },
      windowMs: 5,
      logger: silentLogger,
    });
    await bus.publish('t', [{ data: text('a0'), orderingKey: 'k' }]);
    await until(() => flushes.length === 1, 'the first flush');
    await bus.publish(
      't',
      ['a1', 'a2', 'a3', 'a4'].map((m) => ({ data: text(m), orderingKey: 'k' })),
    );
    await new Promise((r) => setTimeout(r, 50));
    release();
    await until(() => flushes.flat().length === 5, 'every message flushed');
    await sub.close();
    // Without key batches the key's messages would come one per flush.
    expect(flushes).toEqual([['a0'], ['a1', 'a2', 'a3', 'a4']]);
  });

  it("defers a key's later messages in later flushes until its deferred message comes back", async () => {
    const bus = await setUp();
    const applied: string[] = [];
    const offered: string[][] = [];
    let deferredOnce = false;
    const sub = startSubscriber<string>({
      bus,
      subscription: 's',
      parse: (data) => data.toString(),
      flush: async (deliveries) => {
        offered.push(deliveries.map((d) => d.message));
        return deliveries.map((d) => {
          if (d.message === 'a' && !deferredOnce) {
            deferredOnce = true;
            return 'retry' as const;
          }
          applied.push(d.message);
          return 'ack' as const;
        });
      },
      windowMs: 5,
      maxBatch: 1, // each message its own flush: 'b' is flushed after 'a' was deferred
      logger: silentLogger,
    });
    await bus.publish('t', [
      { data: text('a'), orderingKey: 'k' },
      { data: text('b'), orderingKey: 'k' },
      { data: text('x'), orderingKey: 'other' },
    ]);
    await until(() => ['a', 'b', 'x'].every((m) => applied.includes(m)), 'every message applied');
    await sub.close();
    expect(applied.filter((m) => m !== 'x')).toEqual(['a', 'b']);
    // 'b' was held back without reaching the apply function while 'a' was away.
    expect(offered.flat().indexOf('b')).toBeGreaterThan(offered.flat().lastIndexOf('a'));
  });

  it('holds a deferred message and submits it again as one more attempt, as the push handler does', async () => {
    const bus = await setUp();
    const seen: Array<{ attempt: number; at: number }> = [];
    const sub = startSubscriber<string>({
      bus,
      subscription: 's',
      parse: (data) => data.toString(),
      // Deferred twice, then decided: applyToDb's cap counts these attempts.
      flush: async (deliveries) =>
        deliveries.map((d) => {
          seen.push({ attempt: d.attempt, at: performance.now() });
          return d.attempt < 3 ? ('retry' as const) : ('ack' as const);
        }),
      windowMs: 5,
      holdDelaysMs: [150, 150, 150, 150],
      logger: silentLogger,
    });
    await bus.publish('t', [{ data: text('a'), orderingKey: 'k' }]);
    await until(() => seen.length === 3, 'the third attempt');
    await new Promise((r) => setTimeout(r, 200));
    await sub.close();
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    // Each attempt after a hold, not at once (a nacked message comes back at once when pulled).
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(140);
  });
});
