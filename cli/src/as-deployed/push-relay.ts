/**
 * A push subscription of terraform/subscriptions.json, on Google's Pub/Sub emulator: the
 * subscription is pulled (streaming pull, ordering on) and every message pushed to its function
 * through the model of Pub/Sub's push delivery (push-delivery.ts), with the body Pub/Sub pushes
 * (https://cloud.google.com/pubsub/docs/push#receive_push) to the function's URL, as the deployed
 * push endpoint is (terraform/pubsub.tf).
 *
 * The pulled message's lease is extended while its retries wait (the library does it, up to an
 * hour, longer than 10 attempts at the maximum backoff), so the emulator does not redeliver it
 * behind the model's back; a message still unacknowledged at stop is redelivered at the next pull.
 */
import { Duration, type Message, type PubSub } from '@google-cloud/pubsub';
import type { Logger } from '../../../functions/src/log.ts';
import type { Bus } from '../../../functions/src/ports.ts';
import { type PushCounters, PushDelivery, type PushedMessage } from './push-delivery.ts';
import type { PushSubscription } from './subscriptions.ts';

export interface PushRelayOptions {
  pubsub: PubSub;
  bus: Bus;
  projectId: string;
  subscription: string;
  topic: string;
  deadLetterTopic: string;
  settings: PushSubscription;
  /** Requests the function takes at once (its concurrency on its one local instance). */
  maxOutstanding: number;
  /** The function's URL (no path). */
  endpoint: string;
  logger: Logger;
}

export interface PushRelay {
  counters(): PushCounters;
  close(): Promise<void>;
}

export function startPushRelay(options: PushRelayOptions): PushRelay {
  const { settings, logger } = options;
  const pulled = new Map<string, Message>();
  const url = `${options.endpoint}/`;
  const subscriptionPath = `projects/${options.projectId}/subscriptions/${options.subscription}`;
  const delivery = new PushDelivery(
    {
      ackDeadlineSeconds: settings.ack_deadline_seconds,
      minimumBackoffSeconds: settings.minimum_backoff_seconds,
      maximumBackoffSeconds: settings.maximum_backoff_seconds,
      maxDeliveryAttempts: settings.max_delivery_attempts,
      ordering: settings.enable_message_ordering,
      maxOutstanding: options.maxOutstanding,
    },
    {
      post: async (message, attempt, signal) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(pushBody(message, attempt, subscriptionPath)),
          signal,
        });
        await response.arrayBuffer().catch(() => {});
        if (!response.ok) {
          logger.info('a push was answered with an error; it comes back after the backoff', {
            subscription: options.subscription,
            status: response.status,
            attempt,
          });
        }
        return response.ok;
      },
      deadLetter: async (message, attempts) => {
        await options.bus
          .publish(options.deadLetterTopic, [
            {
              data: message.data,
              ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
              attributes: {
                ...message.attributes,
                CloudPubSubDeadLetterSourceSubscription: options.subscription,
                CloudPubSubDeadLetterSourceDeliveryCount: String(attempts),
              },
            },
          ])
          .catch((error: unknown) => {
            logger.error('dead-lettering failed', {
              code: 'SHEETSYNC_E305',
              subscription: options.subscription,
              error: String(error),
            });
            throw error;
          });
        logger.warn('a message was dead-lettered after its last delivery attempt', {
          subscription: options.subscription,
          attempts,
        });
      },
      ack: (message) => {
        pulled.get(message.id)?.ack();
        pulled.delete(message.id);
      },
    },
  );
  const subscription = options.pubsub.subscription(options.subscription, {
    flowControl: { maxMessages: 10_000, allowExcessMessages: false },
    maxExtensionTime: Duration.from({ seconds: 3_600 }),
  });
  subscription.on('message', (message: Message) => {
    // A redelivery of a message the model still holds (a lease that lapsed) is the same message.
    if (pulled.has(message.id)) {
      pulled.set(message.id, message);
      return;
    }
    pulled.set(message.id, message);
    delivery.push({
      id: message.id,
      data: message.data,
      ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
      attributes: { ...message.attributes },
      publishTime: new Date(message.publishTime.getTime()),
    });
  });
  subscription.on('error', (error: Error) => {
    logger.error('subscription stream failed', {
      code: 'SHEETSYNC_E304',
      subscription: options.subscription,
      error: error.message,
    });
  });
  return {
    counters: () => ({ ...delivery.counters }),
    close: async () => {
      await delivery.close();
      await subscription.close().catch(() => {});
    },
  };
}

/** What Pub/Sub POSTs to a push endpoint (both spellings of the ids, as it sends them). */
export function pushBody(message: PushedMessage, attempt: number, subscription: string) {
  const publishTime = message.publishTime.toISOString();
  return {
    message: {
      data: message.data.toString('base64'),
      attributes: message.attributes,
      messageId: message.id,
      message_id: message.id,
      publishTime,
      publish_time: publishTime,
      ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
    },
    subscription,
    // Sent when the subscription has a dead-letter policy.
    deliveryAttempt: attempt,
  };
}
