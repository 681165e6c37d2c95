/**
 * A bus that counts for the metrics: messages published to the two topics, and each
 * subscription's acknowledged and nacked deliveries. It wraps any Bus (Pub/Sub emulator or the
 * in-process one) without changing its semantics: the handler's outcome passes through as is.
 */
import type { Bus } from '../../../functions/src/ports.ts';
import { DB_CHANGES_TOPIC } from '../../../functions/src/wire/db-change.ts';
import { SHEET_CHANGES_TOPIC } from '../../../functions/src/wire/sheet-change.ts';
import type { Metrics } from './metrics.ts';

/** Which way each subscription carries changes (the local stack's subscription names). */
const DIRECTION: Record<string, 'sheetToDb' | 'dbToSheet'> = {
  'sheetsync-apply-to-db': 'sheetToDb',
  'sheetsync-apply-to-sheet': 'dbToSheet',
};

export function meteredBus(bus: Bus, metrics: Metrics): Bus {
  return {
    ensureTopic: (topic) => bus.ensureTopic(topic),
    ensureSubscription: (subscription, settings) => bus.ensureSubscription(subscription, settings),
    publish: async (topic, messages) => {
      const ids = await bus.publish(topic, messages);
      if (topic === SHEET_CHANGES_TOPIC) metrics.publishedTo('sheetChanges', messages.length);
      if (topic === DB_CHANGES_TOPIC) {
        metrics.publishedTo(
          'dbChanges',
          messages.reduce((n, m) => n + dbChangeCount(m.data), 0),
        );
      }
      return ids;
    },
    subscribe: (subscription, handler, options) => {
      const direction = DIRECTION[subscription];
      return bus.subscribe(
        subscription,
        async (message) => {
          try {
            await handler(message);
          } catch (error) {
            metrics.redelivery();
            throw error;
          }
          if (direction)
            metrics.applied(direction, direction === 'dbToSheet' ? dbChangeCount(message.data) : 1);
        },
        options,
      );
    },
    close: () => bus.close(),
  };
}

/** The relay batches DB changes (`{"changes": [...]}`); the metrics count changes, not messages. */
function dbChangeCount(data: Uint8Array): number {
  try {
    const body = JSON.parse(Buffer.from(data).toString('utf8')) as { changes?: unknown };
    return Array.isArray(body.changes) ? body.changes.length : 1;
  } catch {
    return 1;
  }
}
