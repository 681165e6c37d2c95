/**
 * What a Pub/Sub bus declared (its topics, its subscriptions with their settings), declared again
 * when the broker lost it. Google's Pub/Sub keeps them; its emulator keeps nothing across a
 * restart: afterwards a publish fails with NOT_FOUND and streaming pull ends with NOT_FOUND, for
 * good. Declaring only the topic again is worse than nothing: Pub/Sub delivers a message only to
 * the subscriptions that existed when it was published, so publishes into a topic declared again
 * before its subscriptions are acknowledged and dropped (the relay then deletes them from the
 * outbox, the webhook marks them received). So topics and subscriptions are declared again
 * together, publishes wait while that runs, and a publish that was in flight meanwhile is sent
 * again (at-least-once: every consumer ignores a change it already applied). The messages the
 * broker held when it lost its state (published, not yet pulled, or nacked) are gone with it:
 * `sheetsync reconcile`, or the restore of the next `sheetsync start`, repairs them. This covers
 * what this process declared.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.ts';
import type { SubscriptionSettings } from '../ports.ts';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const NOT_FOUND = 5;
export const ALREADY_EXISTS = 6;

export const isNotFound = (error: unknown) => (error as { code?: number } | undefined)?.code === NOT_FOUND;

/** Sends of one Publish request when the topology had to be declared again meanwhile. */
const MAX_SENDS = 5;

export interface Declare {
  /** Creates the topic; resolves true if it created it, false if it existed. */
  topic(name: string): Promise<boolean>;
  /** Creates the subscription; resolves true if it created it, false if it existed. */
  subscription(name: string, settings: SubscriptionSettings): Promise<boolean>;
}

export class Topology {
  private readonly topics = new Set<string>();
  private readonly subscriptions = new Map<string, SubscriptionSettings>();
  private running: Promise<void> | undefined;
  private generation = 0;

  constructor(
    private readonly declare: Declare,
    private readonly logger: Logger,
  ) {}

  knowsTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  recordTopic(topic: string): void {
    this.topics.add(topic);
  }

  recordSubscription(name: string, settings: SubscriptionSettings): void {
    this.subscriptions.set(name, settings);
  }

  settingsOf(name: string): SubscriptionSettings | undefined {
    return this.subscriptions.get(name);
  }

  /**
   * Waits while a declaration runs; returns its count, for `declaredSince` after a publish: one
   * that started before a declaration ended may have reached a topic still without subscriptions.
   */
  private async settled(): Promise<number> {
    while (this.running) await this.running.catch(() => {});
    return this.generation;
  }

  private declaredSince(generation: number): boolean {
    return this.generation !== generation;
  }

  /**
   * Sends a Publish request to `topic`: again after declaring the topology when the topic is
   * gone, and again when it was declared while the request was in flight.
   */
  async publish<T>(topic: string, send: () => Promise<T>): Promise<T> {
    for (let sends = 1; ; sends++) {
      const generation = await this.settled();
      let result: T;
      try {
        result = await send();
      } catch (error) {
        if (!isNotFound(error) || !this.topics.has(topic) || sends >= MAX_SENDS) throw error;
        await this.redeclare();
        continue;
      }
      // It may have reached the topic before its subscriptions, which drops it.
      if (!this.declaredSince(generation) || sends >= MAX_SENDS) return result;
    }
  }

  /**
   * Opens a library subscription again whenever it closes on its own. The library retries
   * transient errors itself and closes the stream after any other; after NOT_FOUND (the
   * subscription is gone) the topology is declared first. Returns the switch that stops it.
   */
  keepOpen(subscription: EventEmitter & { open(): void }): { stop(): void } {
    let stopped = false;
    let lost = false;
    subscription.on('error', (error: unknown) => {
      if (isNotFound(error)) lost = true;
    });
    subscription.on('close', () => {
      if (stopped) return;
      void (async () => {
        for (let failures = 0; !stopped; failures++) {
          // Not at once: a stream closed for good by another error would only close again.
          await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * 2 ** failures)));
          try {
            if (lost) await this.redeclare();
            lost = false;
            if (!stopped) subscription.open();
            return;
          } catch (error) {
            this.logger.warn('declaring the bus topology again failed; retrying', { error: String(error) });
          }
        }
      })();
    });
    return {
      stop: () => {
        stopped = true;
      },
    };
  }

  /** Declares every recorded topic, then every recorded subscription; one run at a time. */
  redeclare(): Promise<void> {
    if (this.running) return this.running;
    // Counted before the first topic exists again: a publish sent from now on is sent again.
    this.generation++;
    const run = (async () => {
      let created = 0;
      for (const topic of this.topics) if (await this.declare.topic(topic)) created++;
      for (const [name, settings] of this.subscriptions)
        if (await this.declare.subscription(name, settings)) created++;
      if (created > 0) {
        this.logger.warn(
          'Pub/Sub lost its topics or subscriptions, and the messages it held; declared them again. ' +
            'Run `sheetsync reconcile` for each link to repair what it held.',
          { code: 'SHEETSYNC_E306', created },
        );
      }
    })();
    this.running = run;
    void run
      .finally(() => {
        if (this.running === run) this.running = undefined;
      })
      .catch(() => {});
    return run;
  }
}
