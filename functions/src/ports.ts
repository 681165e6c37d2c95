/**
 * The interfaces the core needs from the outside world. Adapters in ./adapters implement them,
 * each against a real service and (where a contract suite proves them equal) in memory.
 */
export {};

// ─── Bus (Pub/Sub) ──────────────────────────────────────────────────────────────────────────
// Owned by the database side (issue 2). Adapters: adapters/pubsub-bus.ts (Google Pub/Sub and its
// emulator) and adapters/memory-bus.ts (in process); test/support/bus-contract.ts holds them to
// the same semantics: at-least-once, per-ordering-key order, redelivery after a nack or an
// ack-deadline timeout, dead-lettering after maxDeliveryAttempts.

/** A message to publish. */
export interface BusMessage {
  data: Uint8Array;
  /** Messages with the same ordering key are delivered in publish order (one at a time). */
  orderingKey?: string;
  attributes?: Record<string, string>;
}

/** A delivered message. The same message may be delivered more than once. */
export interface ReceivedMessage {
  /** The bus's id for the message; the same on every redelivery. */
  id: string;
  data: Buffer;
  orderingKey: string | undefined;
  attributes: Record<string, string>;
  /** 1 on the first delivery, counting up on each redelivery. */
  deliveryAttempt: number;
  publishTime: Date;
}

export interface SubscriptionSettings {
  topic: string;
  /**
   * Time the handler has to settle; past it the message is redelivered (and the handler's late
   * result ignored). Pub/Sub allows 10-600 s.
   */
  ackDeadlineSeconds?: number;
  /** After this many failed deliveries the message goes to the dead-letter topic (Pub/Sub: 5-100). */
  deadLetter?: { topic: string; maxDeliveryAttempts: number };
}

/**
 * Resolving acknowledges the message; throwing (or rejecting) nacks it, so it is redelivered.
 * A handler must be idempotent: every delivery is at-least-once.
 */
export type MessageHandler = (message: ReceivedMessage) => Promise<void>;

export interface Subscription {
  /** Stops receiving; in-flight handlers finish, their messages are settled. */
  close(): Promise<void>;
}

export interface Bus {
  /** Creates the topic if it does not exist (idempotent). */
  ensureTopic(topic: string): Promise<void>;
  /** Creates the subscription with message ordering on if it does not exist (idempotent). */
  ensureSubscription(subscription: string, settings: SubscriptionSettings): Promise<void>;
  /**
   * Publishes in order and resolves with the message ids only after the bus has acknowledged
   * every message (it is durable). Rejects, with nothing to assume about which were stored, if
   * any was not.
   */
  publish(topic: string, messages: readonly BusMessage[]): Promise<string[]>;
  subscribe(subscription: string, handler: MessageHandler, options?: { maxInFlight?: number }): Subscription;
  close(): Promise<void>;
}
