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
  consumer?: { handler: MessageHandler; maxInFlight: number; closed: boolean };
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

  function deliver(
    name: string,
    sub: SubscriptionState,
    consumer: NonNullable<SubscriptionState['consumer']>,
    stored: Stored,
  ) {
    const key = stored.message.orderingKey;
    if (key) sub.busyKeys.add(key);
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
        if (key) sub.busyKeys.delete(key);
        pump(name);
        return;
      }
      const deadLetter = sub.settings.deadLetter;
      if (deadLetter && stored.attempts >= deadLetter.maxDeliveryAttempts) {
        if (key) sub.busyKeys.delete(key);
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
      const consumer = { handler, maxInFlight: options.maxInFlight ?? 1000, closed: false };
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
