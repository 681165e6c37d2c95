/**
 * The contract every Bus adapter keeps (functions/src/ports.ts), run against Google's Pub/Sub
 * emulator (test/integration/pubsub-bus.test.ts) and the in-process bus
 * (test/unit/memory-bus.test.ts): at-least-once delivery, per-ordering-key order, redelivery
 * after a nack and after an ack-deadline timeout, dead-lettering after maxDeliveryAttempts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, ReceivedMessage } from '../../functions/src/ports.ts';
import { uniqueName } from './names.ts';

const text = (s: string) => new TextEncoder().encode(s);
/** The ack-deadline and dead-letter cases wait out real deadlines (Pub/Sub's minimum is 10 s). */
const SLOW = 120_000;

/** Resolves when `predicate` holds, polling; rejects with `what` after `timeoutMs`. */
async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function busContract(adapter: string, makeBus: () => Bus | Promise<Bus>): void {
  describe(`Bus contract: ${adapter}`, () => {
    let bus: Bus;
    beforeAll(async () => {
      bus = await makeBus();
    });
    afterAll(async () => {
      await bus?.close();
    });

    async function topicWithSubscription(
      settings: { ackDeadlineSeconds?: number; deadLetterTopic?: string } = {},
    ) {
      const topic = uniqueName('contract');
      const subscription = `${topic}-sub`;
      await bus.ensureTopic(topic);
      await bus.ensureTopic(topic); // idempotent
      const subscriptionSettings = {
        topic,
        ...(settings.ackDeadlineSeconds ? { ackDeadlineSeconds: settings.ackDeadlineSeconds } : {}),
        ...(settings.deadLetterTopic
          ? { deadLetter: { topic: settings.deadLetterTopic, maxDeliveryAttempts: 5 } }
          : {}),
      };
      await bus.ensureSubscription(subscription, subscriptionSettings);
      await bus.ensureSubscription(subscription, subscriptionSettings); // idempotent
      return { topic, subscription };
    }

    it(
      'delivers every message at least once, in publish order per key, despite nacks',
      async () => {
        const { topic, subscription } = await topicWithSubscription();
        const keys = ['k1', 'k2', 'k3'];
        const perKey = 15;
        // Three publish calls, interleaving keys, so order must hold across calls too.
        for (let batch = 0; batch < 3; batch++) {
          const messages = [];
          for (let n = batch * 5; n < batch * 5 + 5; n++) {
            for (const key of keys)
              messages.push({ data: text(`${key}:${n}`), orderingKey: key, attributes: { key } });
          }
          const ids = await bus.publish(topic, messages);
          expect(ids).toHaveLength(messages.length);
          expect(new Set(ids).size).toBe(messages.length);
        }
        const acked = new Map<string, number[]>(keys.map((k) => [k, []]));
        const nackedOnce = new Set<string>();
        const sub = bus.subscribe(subscription, async (m) => {
          const [key, n] = m.data.toString().split(':') as [string, string];
          expect(m.orderingKey).toBe(key);
          expect(m.attributes.key).toBe(key);
          // Every 4th message fails once: it and the key's later messages must come again, in order.
          if (Number(n) % 4 === 1 && !nackedOnce.has(m.id)) {
            nackedOnce.add(m.id);
            throw new Error('transient');
          }
          acked.get(key)!.push(Number(n));
        });
        const total = () => [...acked.values()].reduce((s, a) => s + new Set(a).size, 0);
        await until(() => total() === keys.length * perKey, 'every message acked');
        await sub.close();
        const expected = Array.from({ length: perKey }, (_, i) => i);
        for (const key of keys) {
          // Redelivery may repeat messages, but the first ack of each comes in publish order.
          const firstAcks = acked.get(key)!.filter((n, i, all) => all.indexOf(n) === i);
          expect(firstAcks).toEqual(expected);
        }
        expect(nackedOnce.size).toBeGreaterThan(0);
      },
      SLOW,
    );

    it(
      "keyBatches: a key's waiting messages go out together in publish order; a nacked one comes back before later ones",
      async () => {
        const { topic, subscription } = await topicWithSubscription();
        const publish = (ns: number[]) =>
          bus.publish(
            topic,
            ns.map((n) => ({ data: text(`${n}`), orderingKey: 'k' })),
          );
        const starts: number[] = [];
        const acks: number[] = [];
        let running = 0;
        let maxRunning = 0;
        let releaseFirst!: () => void;
        const firstHeld = new Promise<void>((r) => {
          releaseFirst = r;
        });
        let nackedFive = false;
        let releaseBatch!: () => void;
        const batchHeld = new Promise<void>((r) => {
          releaseBatch = r;
        });
        const sub = bus.subscribe(
          subscription,
          async (m) => {
            const n = Number(m.data.toString());
            starts.push(n);
            running++;
            maxRunning = Math.max(maxRunning, running);
            try {
              if (n === 0) await firstHeld;
              else if (n >= 1 && n <= 9 && !nackedFive) await batchHeld;
              if (n === 5 && !nackedFive) {
                nackedFive = true;
                throw new Error('transient');
              }
              acks.push(n);
            } finally {
              running--;
            }
          },
          { keyBatches: true },
        );
        await publish([0]);
        await until(() => starts.includes(0), 'the first message handed out');
        await publish([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        await new Promise((r) => setTimeout(r, 500)); // let them all arrive while 0 runs
        expect(starts).toEqual([0]); // the key is busy: nothing else goes out
        releaseFirst();
        await until(() => starts.length >= 10, 'the waiting messages handed out');
        expect(starts.slice(1, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(maxRunning).toBeGreaterThan(1); // together, not one after another
        await publish([10, 11]); // published while the batch runs: wait for 5's redelivery
        await new Promise((r) => setTimeout(r, 300));
        releaseBatch();
        await until(
          () => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].every((n) => acks.includes(n)),
          'every message acked',
        );
        await sub.close();
        const later = starts.slice(10);
        expect(later.indexOf(5)).toBeGreaterThanOrEqual(0);
        expect(later.indexOf(5)).toBeLessThan(later.indexOf(10));
        expect(later.indexOf(10)).toBeLessThan(later.indexOf(11));
      },
      SLOW,
    );

    it(
      'redelivers a message whose handler outlives the ack deadline',
      async () => {
        const { topic, subscription } = await topicWithSubscription({ ackDeadlineSeconds: 10 });
        const [id] = await bus.publish(topic, [{ data: text('slow'), orderingKey: 'slow' }]);
        const deliveries: ReceivedMessage[] = [];
        let release = () => {};
        const hung = new Promise<void>((resolve) => {
          release = resolve;
        });
        const sub = bus.subscribe(subscription, async (m) => {
          deliveries.push(m);
          if (deliveries.length === 1) await hung; // never settles within the deadline
        });
        await until(() => deliveries.length >= 2, 'a redelivery after the ack deadline', 60_000);
        release();
        await sub.close();
        expect(deliveries[0]!.id).toBe(id);
        expect(deliveries[1]!.id).toBe(id);
        expect(deliveries[1]!.data.toString()).toBe('slow');
      },
      SLOW,
    );

    it(
      'counts delivery attempts and dead-letters after maxDeliveryAttempts',
      async () => {
        const deadLetterTopic = uniqueName('contract-dead');
        await bus.ensureTopic(deadLetterTopic);
        const deadSubscription = `${deadLetterTopic}-sub`;
        await bus.ensureSubscription(deadSubscription, { topic: deadLetterTopic });
        const { topic, subscription } = await topicWithSubscription({ deadLetterTopic });
        await bus.publish(topic, [{ data: text('poison'), orderingKey: 'p' }]);
        const attempts: number[] = [];
        const sub = bus.subscribe(subscription, async (m) => {
          attempts.push(m.deliveryAttempt);
          throw new Error('always fails');
        });
        const dead: ReceivedMessage[] = [];
        const deadSub = bus.subscribe(deadSubscription, async (m) => {
          dead.push(m);
        });
        await until(() => dead.length >= 1, 'the message on the dead-letter topic', 90_000);
        await sub.close();
        await deadSub.close();
        expect(dead[0]!.data.toString()).toBe('poison');
        expect(attempts.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
      },
      SLOW,
    );

    it('refuses settings Pub/Sub would refuse', async () => {
      const topic = uniqueName('contract-bad');
      await bus.ensureTopic(topic);
      await expect(bus.ensureSubscription(`${topic}-sub`, { topic, ackDeadlineSeconds: 1 })).rejects.toThrow(
        /ackDeadlineSeconds/,
      );
      await expect(
        bus.ensureSubscription(`${topic}-sub`, { topic, deadLetter: { topic, maxDeliveryAttempts: 2 } }),
      ).rejects.toThrow(/maxDeliveryAttempts/);
    });
  });
}
