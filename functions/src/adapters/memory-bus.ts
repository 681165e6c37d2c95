/**
 * An in-process bus with Pub/Sub's delivery semantics, for `npm start` without the Google Cloud
 * SDK and for fast tests. test/support/bus-contract.ts holds it to the same contract as
 * adapters/pubsub-bus.ts: at-least-once, per-ordering-key order (a key's next message waits for
 * the previous one's ack, and a nacked message is redelivered before it), redelivery after the
 * ack deadline, dead-lettering after maxDeliveryAttempts.
 *
 * Like Pub/Sub, a subscription receives only messages published after it was created.
 */
import { randomUUID } from 'node:crypto';
import { SheetsyncError } from '../errors.ts';
import type {
  Bus,
  BusMessage,
  MessageHandler,
  ReceivedMessage,
  Subscription,
  SubscriptionSettings,
} from '../ports.ts';

interface Stored {
  id: string;
  message: BusMessage;
  publishTime: Date;
  attempts: number;
}

interface SubscriptionState {
  settings: Required<Pick<SubscriptionSettings, 'ackDeadlineSeconds'>> & SubscriptionSettings;
  /** Messages waiting, in publish order. */
  backlog: Stored[];
  /** Ordering keys with a message out for delivery. */
  busyKeys: Set<string>;
  inFlight: number;
  consumer?: { handler: MessageHandler; maxInFlight: number; closed: boolean; keyBatches: boolean };
  /** keyBatches: per busy key, messages of its batch not yet settled, and the nacked ones. */
  batches: Map<string, { open: number; nacked: Stored[] }>;
}

/** How long a nacked message waits before redelivery (Pub/Sub's default retry is immediate). */
const REDELIVERY_DELAY_MS = 10;

export function createMemoryBus(): Bus {
  const topics = new Map<string, Set<string>>();
  const subscriptions = new Map<string, SubscriptionState>();
  const pending = new Set<Promise<void>>();

  function state(name: string): SubscriptionState {
    const found = subscriptions.get(name);
    if (!found)
      throw new SheetsyncError('SHEETSYNC_E303', `Subscription ${name} does not exist`, 'permanent');
    return found;
  }

  function pump(name: string): void {
    const sub = state(name);
    const consumer = sub.consumer;
    if (!consumer || consumer.closed) return;
    if (consumer.keyBatches) {
      pumpBatches(name, sub, consumer);
      return;
    }
    for (let i = 0; i < sub.backlog.length && sub.inFlight < consumer.maxInFlight; ) {
      const stored = sub.backlog[i]!;
      const key = stored.message.orderingKey;
      if (key && sub.busyKeys.has(key)) {
        i++;
        continue;
      }
      sub.backlog.splice(i, 1);
      deliver(name, sub, consumer, stored);
    }
  }

  /**
   * keyBatches: every waiting message of a free key goes out at once, in publish order; the key
   * is free again when all of them settled, and its nacked ones then go back to the front of
   * the backlog, in order, ahead of the key's later messages.
   */
  function pumpBatches(
    name: string,
    sub: SubscriptionState,
    consumer: NonNullable<SubscriptionState['consumer']>,
  ) {
    const taken: Array<{ stored: Stored; key: string | undefined }> = [];
    const opened = new Set<string>();
    for (let i = 0; i < sub.backlog.length && sub.inFlight + taken.length < consumer.maxInFlight; ) {
      const stored = sub.backlog[i]!;
      const key = stored.message.orderingKey;
      if (key && sub.busyKeys.has(key) && !opened.has(key)) {
        i++;
        continue;
      }
      if (key && !opened.has(key)) {
        opened.add(key);
        sub.busyKeys.add(key);
        sub.batches.set(key, { open: 0, nacked: [] });
      }
      if (key) sub.batches.get(key)!.open++;
      sub.backlog.splice(i, 1);
      taken.push({ stored, key });
    }
    const order = new Map(taken.map(({ stored }, i) => [stored, i]));
    for (const { stored, key } of taken) {
      deliver(name, sub, consumer, stored, (acked) => {
        if (!key) return !acked;
        const batch = sub.batches.get(key)!;
        if (!acked) batch.nacked.push(stored);
        if (--batch.open > 0) return false;
        sub.batches.delete(key);
        const again = batch.nacked.sort((a, b) => order.get(a)! - order.get(b)!);
        const release = () => {
          sub.backlog.unshift(...again);
          sub.busyKeys.delete(key);
          pump(name);
        };
        if (again.length === 0) release();
        else setTimeout(release, REDELIVERY_DELAY_MS).unref?.();
        return false;
      });
    }
  }

  function deliver(
    name: string,
    sub: SubscriptionState,
    consumer: NonNullable<SubscriptionState['consumer']>,
    stored: Stored,
    /**
     * keyBatches: told of each settlement instead of the per-message key handling below; for
     * a message without a key, returns true when it should be redelivered on its own.
     */
    batched?: (acked: boolean) => boolean,
  ) {
    const key = stored.message.orderingKey;
    if (key && !batched) sub.busyKeys.add(key);
    sub.inFlight++;
    stored.attempts++;
    const received: ReceivedMessage = {
      id: stored.id,
      data: Buffer.from(stored.message.data),
      orderingKey: key,
      attributes: { ...stored.message.attributes },
      deliveryAttempt: stored.attempts,
      publishTime: stored.publishTime,
    };
    let settled = false;
    const settle = (acked: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sub.inFlight--;
      if (acked) {
        if (batched) batched(true);
        else if (key) sub.busyKeys.delete(key);
        pump(name);
        return;
      }
      const deadLetter = sub.settings.deadLetter;
      if (deadLetter && stored.attempts >= deadLetter.maxDeliveryAttempts) {
        if (batched) batched(true);
        else if (key) sub.busyKeys.delete(key);
        const attributes = { ...stored.message.attributes, CloudPubSubDeadLetterSourceSubscription: name };
        fanOut(deadLetter.topic, [
          {
            id: randomUUID(),
            message: { ...stored.message, attributes },
            publishTime: new Date(),
            attempts: 0,
          },
        ]);
        pump(name);
        return;
      }
      if (batched) {
        const alone = batched(false);
        if (key || !alone) return;
      }
      // Redeliver before any later message of the same key: put it back at the front of the
      // key's queue (the head of the backlog keeps publish order among keys).
      const retry = setTimeout(() => {
        sub.backlog.unshift(stored);
        if (key) sub.busyKeys.delete(key);
        pump(name);
      }, REDELIVERY_DELAY_MS);
      retry.unref?.();
    };
    const timer = setTimeout(() => settle(false), sub.settings.ackDeadlineSeconds * 1000);
    timer.unref?.();
    const run = consumer
      .handler(received)
      .then(
        () => settle(true),
        () => settle(false),
      )
      .finally(() => pending.delete(run));
    pending.add(run);
  }

  function fanOut(topic: string, messages: Stored[]) {
    for (const name of topics.get(topic) ?? []) {
      const sub = subscriptions.get(name);
      if (!sub) continue;
      for (const m of messages) sub.backlog.push({ ...m, attempts: 0 });
      pump(name);
    }
  }

  return {
    async ensureTopic(topic) {
      if (!topics.has(topic)) topics.set(topic, new Set());
    },
    async ensureSubscription(name, settings) {
      validateSettings(settings);
      if (subscriptions.has(name)) return;
      if (!topics.has(settings.topic)) {
        throw new SheetsyncError('SHEETSYNC_E303', `Topic ${settings.topic} does not exist`, 'permanent');
      }
      topics.get(settings.topic)!.add(name);
      subscriptions.set(name, {
        settings: { ackDeadlineSeconds: 10, ...settings },
        backlog: [],
        busyKeys: new Set(),
        inFlight: 0,
        batches: new Map(),
      });
    },
    async publish(topic, messages) {
      if (!topics.has(topic)) {
        throw new SheetsyncError(
          'SHEETSYNC_E302',
          `Publishing to ${topic} failed: the topic does not exist`,
          'retry',
        );
      }
      const stored = messages.map((message) => ({
        id: randomUUID(),
        message,
        publishTime: new Date(),
        attempts: 0,
      }));
      fanOut(topic, stored);
      return stored.map((s) => s.id);
    },
    subscribe(name, handler, options = {}): Subscription {
      const sub = state(name);
      const consumer = {
        handler,
        maxInFlight: options.maxInFlight ?? 1000,
        closed: false,
        keyBatches: options.keyBatches ?? false,
      };
      sub.consumer = consumer;
      queueMicrotask(() => pump(name));
      return {
        async close() {
          consumer.closed = true;
          if (sub.consumer === consumer) delete sub.consumer;
          await Promise.allSettled([...pending]);
        },
      };
    },
    async close() {
      for (const sub of subscriptions.values()) if (sub.consumer) sub.consumer.closed = true;
      await Promise.allSettled([...pending]);
    },
  };
}

/** Pub/Sub's limits, so a setting that works here also works on Google Cloud. */
export function validateSettings(settings: SubscriptionSettings): void {
  const deadline = settings.ackDeadlineSeconds;
  if (deadline !== undefined && !(deadline >= 10 && deadline <= 600)) {
    throw new SheetsyncError(
      'SHEETSYNC_E303',
      `ackDeadlineSeconds must be 10-600, not ${deadline}`,
      'permanent',
    );
  }
  const attempts = settings.deadLetter?.maxDeliveryAttempts;
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 5 && attempts <= 100)) {
    throw new SheetsyncError(
      'SHEETSYNC_E303',
      `deadLetter.maxDeliveryAttempts must be 5-100, not ${attempts}`,
      'permanent',
    );
  }
}
