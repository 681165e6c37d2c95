/**
 * The local model of Pub/Sub push delivery (cli/src/as-deployed/push-delivery.ts) against what
 * Pub/Sub documents: exponential backoff from the minimum to the maximum after each failed
 * attempt (https://cloud.google.com/pubsub/docs/handling-failures), one outstanding message per
 * ordering key (https://cloud.google.com/pubsub/docs/ordering), dead letter after
 * max_delivery_attempts, and a push that does not answer within the ack deadline failing.
 */
import { describe, expect, it } from 'vitest';
import {
  PushDelivery,
  type PushedMessage,
  type PushSettings,
  type PushTarget,
  retryDelayMs,
} from '../../cli/src/as-deployed/push-delivery.ts';

const SETTINGS: PushSettings = {
  ackDeadlineSeconds: 120,
  minimumBackoffSeconds: 10,
  maximumBackoffSeconds: 600,
  maxDeliveryAttempts: 10,
  ordering: true,
  maxOutstanding: 40,
};

const message = (id: string, orderingKey?: string): PushedMessage => ({
  id,
  data: Buffer.from(id),
  ...(orderingKey ? { orderingKey } : {}),
  attributes: {},
  publishTime: new Date(0),
});

/** A target whose answers the test decides; it records every event in order. */
function recorder(answer: (id: string, attempt: number) => boolean | Promise<boolean>) {
  const events: string[] = [];
  const target: PushTarget = {
    post: async (m, attempt) => {
      events.push(`post ${m.id}#${attempt}`);
      const ok = await answer(m.id, attempt);
      events.push(`${ok ? 'ok' : 'fail'} ${m.id}#${attempt}`);
      return ok;
    },
    deadLetter: async (m, attempts) => {
      events.push(`dead-letter ${m.id} after ${attempts}`);
    },
    ack: (m) => {
      events.push(`ack ${m.id}`);
    },
  };
  return { events, target };
}

describe('push delivery as Pub/Sub does it', () => {
  it('waits the minimum backoff after a first failure, doubling up to the maximum', () => {
    const delays = Array.from({ length: 9 }, (_, i) => retryDelayMs(i + 1, 10, 600) / 1000);
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 600, 600, 600]);
    expect(retryDelayMs(1, 0, 0)).toBe(0);
  });

  it('dead-letters a message after max_delivery_attempts, with the backoff between attempts', async () => {
    const { events, target } = recorder(() => false);
    const slept: number[] = [];
    const delivery = new PushDelivery(SETTINGS, target, async (ms) => {
      slept.push(ms / 1000);
    });
    delivery.push(message('m1', 'k'));
    await delivery.idle();
    expect(events.filter((e) => e.startsWith('post'))).toHaveLength(10);
    expect(slept).toEqual([10, 20, 40, 80, 160, 320, 600, 600, 600]);
    expect(events.slice(-2)).toEqual(['dead-letter m1 after 10', 'ack m1']);
    expect(delivery.counters).toEqual({ delivered: 0, failedAttempts: 10, deadLettered: 1 });
  });

  it("holds a key's later messages until its failed one succeeds, while other keys go on", async () => {
    let release!: () => void;
    const backoff = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { events, target } = recorder((id, attempt) => !(id === 'a1' && attempt === 1));
    const delivery = new PushDelivery(SETTINGS, target, () => backoff);
    delivery.push(message('a1', 'a'));
    delivery.push(message('a2', 'a'));
    delivery.push(message('b1', 'b'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // a1 failed and waits its backoff: a2 is not pushed, b1 is delivered.
    expect(events).toContain('ack b1');
    expect(events).not.toContain('post a2#1');
    release();
    await delivery.idle();
    const a = events.filter((e) => / a\d/.test(e));
    expect(a).toEqual([
      'post a1#1',
      'fail a1#1',
      'post a1#2',
      'ok a1#2',
      'ack a1',
      'post a2#1',
      'ok a2#1',
      'ack a2',
    ]);
  });

  it('pushes messages without a key, or with ordering off, without waiting for each other', async () => {
    let open = 0;
    let most = 0;
    const target: PushTarget = {
      post: async () => {
        most = Math.max(most, ++open);
        await new Promise((resolve) => setTimeout(resolve, 10));
        open--;
        return true;
      },
      deadLetter: async () => {},
      ack: () => {},
    };
    const unordered = new PushDelivery({ ...SETTINGS, ordering: false }, target);
    for (let i = 0; i < 5; i++) unordered.push(message(`m${i}`, 'same-key'));
    await unordered.idle();
    expect(most).toBe(5);
  });

  it('has at most maxOutstanding pushes in flight', async () => {
    let open = 0;
    let most = 0;
    const target: PushTarget = {
      post: async () => {
        most = Math.max(most, ++open);
        await new Promise((resolve) => setTimeout(resolve, 5));
        open--;
        return true;
      },
      deadLetter: async () => {},
      ack: () => {},
    };
    const delivery = new PushDelivery({ ...SETTINGS, maxOutstanding: 3 }, target);
    for (let i = 0; i < 12; i++) delivery.push(message(`m${i}`, `k${i}`));
    await delivery.idle();
    expect(most).toBe(3);
    expect(delivery.counters.delivered).toBe(12);
  });

  it('counts a push that does not answer within the ack deadline as a failed attempt', async () => {
    const seen: number[] = [];
    const target: PushTarget = {
      post: (_m, attempt, signal) => {
        seen.push(attempt);
        if (attempt > 1) return Promise.resolve(true);
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      deadLetter: async () => {},
      ack: () => {},
    };
    const delivery = new PushDelivery({ ...SETTINGS, ackDeadlineSeconds: 0.05 }, target, async () => {});
    delivery.push(message('slow', 'k'));
    await delivery.idle();
    expect(seen).toEqual([1, 2]);
    expect(delivery.counters).toEqual({ delivered: 1, failedAttempts: 1, deadLettered: 0 });
  });
});
