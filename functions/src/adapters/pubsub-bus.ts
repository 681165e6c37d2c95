/**
 * The bus on Google Cloud Pub/Sub (or Google's emulator: pass `apiEndpoint: '127.0.0.1:PORT'`,
 * or set PUBSUB_EMULATOR_HOST).
 *
 * Publishing uses the generated v1 client, not the library's Topic.publishMessage: with ordering
 * keys the library sends one RPC per key, which caps a relay at a few thousand messages a second.
 * The Publish RPC itself takes up to 1000 messages of any keys in one request
 * (https://cloud.google.com/pubsub/quotas#resource_limits: 1000 messages, 10 MB), and Pub/Sub
 * keeps the request's order per key. Requests run concurrently, except that a request waits
 * for every earlier one that shares an ordering key, so per-key order holds across requests too.
 *
 * Subscribing uses the library's streaming pull, which extends ack deadlines while a handler
 * runs; we stop extending at the subscription's ack deadline, so a handler that hangs past it
 * gets its message redelivered, as the port promises. The library delivers a key's messages in
 * order but runs their handlers concurrently (googleapis/nodejs-pubsub#1796), so we chain them
 * per key, and after a nack we nack the key's later messages until the nacked one comes back:
 * that keeps per-key order at the handler, not only at delivery.
 *
 * Dead-lettering: on Google Cloud the subscription's dead-letter policy does it. Google's
 * emulator fails streaming pull on a subscription that has one, so there the policy is not set,
 * and everywhere the adapter also dead-letters itself: a message whose handler fails on attempt
 * maxDeliveryAttempts is published to the dead-letter topic, then acked. Attempts come from
 * Pub/Sub when it counts them (only with a policy), else from a count kept in this process.
 * ensureSubscription must run on the same Bus before subscribe: it records the settings.
 */
import { Duration, type Message, PubSub, v1 } from '@google-cloud/pubsub';
import { chunkBySize } from '../core/chunk-by-size.ts';
import { SheetsyncError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Bus, BusMessage, MessageHandler, Subscription, SubscriptionSettings } from '../ports.ts';
import { validateSettings } from './memory-bus.ts';
import { ALREADY_EXISTS, Topology } from './pubsub-topology.ts';

export interface PubSubBusOptions {
  projectId: string;
  /** host:port of the emulator or a regional endpoint; default: PUBSUB_EMULATOR_HOST or Google's. */
  apiEndpoint?: string;
  logger?: Logger;
  /** Publish RPCs in flight at once (default 4). */
  concurrency?: number;
}

const MAX_MESSAGES_PER_REQUEST = 1000;
/** Under the 10 MB request limit, leaving room for the request's own framing. */
const MAX_BYTES_PER_REQUEST = 9 * 1024 * 1024;

export function createPubSubBus(options: PubSubBusOptions): Bus {
  const pubsub = new PubSub({
    projectId: options.projectId,
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
  });
  // PubSub's constructor resolved the endpoint and, for an emulator, insecure credentials.
  const publisher = new v1.PublisherClient(
    pubsub.options as ConstructorParameters<typeof v1.PublisherClient>[0],
  );
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? 4;
  const open = new Set<Subscription>();

  /** Runs a create; true if it created, false if it existed already. */
  async function created(run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
      return false;
    }
  }
  const createSubscription = (name: string, settings: SubscriptionSettings) =>
    created(() =>
      pubsub.topic(settings.topic).createSubscription(name, {
        enableMessageOrdering: true,
        ackDeadlineSeconds: settings.ackDeadlineSeconds ?? 10,
        ...(settings.deadLetter && !pubsub.isEmulator
          ? {
              deadLetterPolicy: {
                deadLetterTopic: pubsub.topic(settings.deadLetter.topic).name,
                maxDeliveryAttempts: settings.deadLetter.maxDeliveryAttempts,
              },
            }
          : {}),
      }),
    );
  const topology = new Topology(
    { topic: (name) => created(() => pubsub.createTopic(name)), subscription: createSubscription },
    logger,
  );

  return {
    async ensureTopic(topic) {
      // A topic this bus declared before and that is gone now is declared with its
      // subscriptions, never alone (pubsub-topology.ts).
      if (topology.knowsTopic(topic)) {
        const [exists] = await pubsub.topic(topic).exists();
        if (!exists) await topology.redeclare();
        return;
      }
      await created(() => pubsub.createTopic(topic));
      topology.recordTopic(topic);
    },

    async ensureSubscription(name, settings: SubscriptionSettings) {
      validateSettings(settings);
      await createSubscription(name, settings);
      topology.recordSubscription(name, settings);
    },

    async publish(topic, messages) {
      const topicName = pubsub.topic(topic).name;
      const ids = new Array<string>(messages.length);
      const previousByKey = new Map<string, Promise<void>>();
      let running = 0;
      const waiting: Array<() => void> = [];
      const slot = async () => {
        while (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
        running++;
      };
      const release = () => {
        running--;
        waiting.shift()?.();
      };
      const sends = splitRequests(messages).map((request) => {
        const keys = new Set(request.map((i) => messages[i]!.orderingKey).filter((k): k is string => !!k));
        const before = [...keys].map((k) => previousByKey.get(k)).filter((p): p is Promise<void> => !!p);
        const send = (async () => {
          // A request never overtakes an earlier one sharing a key; if that one failed, this
          // one is not sent either (the whole publish is retried by the caller).
          await Promise.all(before);
          await slot();
          try {
            const [response] = await topology.publish(topic, () =>
              publisher.publish({
                topic: topicName,
                messages: request.map((i) => {
                  const m = messages[i]!;
                  return {
                    data: Buffer.from(m.data),
                    orderingKey: m.orderingKey ?? '',
                    attributes: m.attributes ?? {},
                  };
                }),
              }),
            );
            const got = response.messageIds ?? [];
            if (got.length !== request.length)
              throw new Error(`acknowledged ${got.length} of ${request.length}`);
            request.forEach((i, n) => {
              ids[i] = got[n]!;
            });
          } finally {
            release();
          }
        })();
        for (const key of keys) previousByKey.set(key, send);
        return send;
      });
      const results = await Promise.allSettled(sends);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        throw new SheetsyncError(
          'SHEETSYNC_E302',
          `Publishing ${messages.length} messages to ${topic} failed: ${(failed.reason as Error)?.message ?? failed.reason}`,
          'retry',
          { cause: failed.reason },
        );
      }
      return ids;
    },

    subscribe(name, handler: MessageHandler, subscribeOptions = {}) {
      const settings = topology.settingsOf(name);
      const deadline = settings?.ackDeadlineSeconds ?? 10;
      const deadLetter = settings?.deadLetter;
      const subscription = pubsub.subscription(name, {
        flowControl: { maxMessages: subscribeOptions.maxInFlight ?? 1000, allowExcessMessages: false },
        maxExtensionTime: Duration.from({ seconds: deadline }),
      });
      const running = new Set<Promise<void>>();
      const localAttempts = new Map<string, number>();
      /** Per ordering key: the last handler run, and the message id that was nacked, if any. */
      const keys = new Map<string, { tail: Promise<boolean>; nacked?: string; nackedAt?: number }>();

      async function handle(message: Message): Promise<boolean> {
        const attempt = message.deliveryAttempt || (localAttempts.get(message.id) ?? 0) + 1;
        localAttempts.set(message.id, attempt);
        let timer: NodeJS.Timeout | undefined;
        try {
          // Past the ack deadline Pub/Sub redelivers; the late result is ignored.
          const expired = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('ack deadline passed')), deadline * 1000);
          });
          await Promise.race([
            handler({
              id: message.id,
              data: message.data,
              orderingKey: message.orderingKey || undefined,
              attributes: { ...message.attributes },
              deliveryAttempt: attempt,
              publishTime: new Date(message.publishTime.getTime()),
            }),
            expired,
          ]);
          localAttempts.delete(message.id);
          message.ack();
          return true;
        } catch {
          if (deadLetter && attempt >= deadLetter.maxDeliveryAttempts) {
            try {
              await publisher.publish({
                topic: pubsub.topic(deadLetter.topic).name,
                messages: [
                  {
                    data: message.data,
                    orderingKey: message.orderingKey ?? '',
                    attributes: { ...message.attributes, CloudPubSubDeadLetterSourceSubscription: name },
                  },
                ],
              });
              localAttempts.delete(message.id);
              message.ack();
              return true;
            } catch (error) {
              logger.error('dead-lettering failed', {
                code: 'SHEETSYNC_E305',
                subscription: name,
                error: String(error),
              });
            }
          }
          message.nack();
          return false;
        } finally {
          clearTimeout(timer);
        }
      }

      /** keyBatches: per ordering key, messages waiting while the key's batch runs. */
      const batches = new Map<
        string,
        { waiting: Message[]; busy: boolean; nacked?: string; nackedAt?: number }
      >();

      /** Hands out the key's waiting messages together, batch after batch, until none wait. */
      async function drainKey(key: string): Promise<void> {
        const state = batches.get(key)!;
        state.busy = true;
        try {
          while (state.waiting.length > 0) {
            const pass: Message[] = [];
            for (const message of state.waiting.splice(0)) {
              // After a nack, later messages of the key go back too, until the nacked one is
              // redelivered (or, if it was dead-lettered, for at most two ack deadlines).
              if (state.nacked !== undefined) {
                const expired = Date.now() - (state.nackedAt ?? 0) > 2 * deadline * 1000;
                if (state.nacked !== message.id && !expired) {
                  message.nack();
                  continue;
                }
                delete state.nacked;
              }
              pass.push(message);
            }
            // handle() calls the handler before its first await: handlers start in order.
            const results = await Promise.all(pass.map((m) => handle(m)));
            const failed = results.indexOf(false);
            if (failed >= 0 && state.nacked === undefined) {
              state.nacked = pass[failed]!.id;
              state.nackedAt = Date.now();
            }
          }
        } finally {
          state.busy = false;
        }
      }

      subscription.on('message', (message: Message) => {
        const key = message.orderingKey;
        let run: Promise<unknown>;
        if (!key) {
          run = handle(message);
        } else if (subscribeOptions.keyBatches) {
          const state = batches.get(key) ?? { waiting: [], busy: false };
          batches.set(key, state);
          state.waiting.push(message);
          if (state.busy) return;
          // Start after this turn: the library emits a pull response's messages one after
          // another in one turn, and they should go out as one batch.
          state.busy = true;
          run = Promise.resolve().then(() => drainKey(key));
        } else {
          const state = keys.get(key) ?? { tail: Promise.resolve(true) };
          keys.set(key, state);
          const tail = state.tail.then(async () => {
            // After a nack, later messages of the key go back too, until the nacked one is
            // redelivered (or, if it was dead-lettered, for at most two ack deadlines).
            if (state.nacked !== undefined) {
              const expired = Date.now() - (state.nackedAt ?? 0) > 2 * deadline * 1000;
              if (state.nacked !== message.id && !expired) {
                message.nack();
                return false;
              }
              delete state.nacked;
            }
            const ok = await handle(message);
            if (!ok) {
              state.nacked = message.id;
              state.nackedAt = Date.now();
            }
            return ok;
          });
          state.tail = tail;
          run = tail;
        }
        const tracked = run.then(() => {}).finally(() => running.delete(tracked));
        running.add(tracked);
      });
      subscription.on('error', (error: Error) =>
        logger.error('subscription stream failed', {
          code: 'SHEETSYNC_E304',
          subscription: name,
          error: error.message,
        }),
      );
      const reopening = topology.keepOpen(subscription);
      const handleClose: Subscription = {
        async close() {
          reopening.stop();
          open.delete(handleClose);
          await Promise.allSettled([...running]);
          await subscription.close();
        },
      };
      open.add(handleClose);
      return handleClose;
    },

    async close() {
      await Promise.allSettled([...open].map((s) => s.close()));
      await publisher.close();
      await pubsub.close();
    },
  };
}

/** Indexes of `messages` grouped into Publish requests within Pub/Sub's limits, in order. */
function splitRequests(messages: readonly BusMessage[]): number[][] {
  return chunkBySize(
    messages.map((_, i) => i),
    {
      sizeOf: (i) => messages[i]!.data.byteLength + (messages[i]!.orderingKey?.length ?? 0) + 64,
      maxSize: MAX_BYTES_PER_REQUEST,
      maxItems: MAX_MESSAGES_PER_REQUEST,
    },
  );
}
