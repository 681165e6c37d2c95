/**
 * A bus that counts for the metrics: messages published to the two topics, and each
 * subscription's acknowledged and nacked deliveries. It wraps any Bus (Pub/Sub emulator or the
 * in-process one) without changing its semantics: the handler's outcome passes through as is.
 */
import type { Bus } from '../../../functions/src/ports.ts';
import { DB_CHANGES_TOPIC } from '../../../functions/src/wire/db-change.ts';
import { SHEET_CHANGES_TOPIC } from '../../../functions/src/wire/sheet-change.ts';
import type { Metrics } from './metrics.ts';

/** The topic and subscription names to count; default the production names `start` uses. */
export interface MeteredNames {
  sheetTopic: string;
  dbTopic: string;
  applyToDb: string;
  applyToSheet: string;
}

const DEFAULT_NAMES: MeteredNames = {
  sheetTopic: SHEET_CHANGES_TOPIC,
  dbTopic: DB_CHANGES_TOPIC,
  applyToDb: 'sheetsync-apply-to-db',
  applyToSheet: 'sheetsync-apply-to-sheet',
};

export function meteredBus(bus: Bus, metrics: Metrics, names: MeteredNames = DEFAULT_NAMES): Bus {
  const directions = new Map<string, 'sheetToDb' | 'dbToSheet'>([
    [names.applyToDb, 'sheetToDb'],
    [names.applyToSheet, 'dbToSheet'],
  ]);
  return {
    ensureTopic: (topic) => bus.ensureTopic(topic),
    ensureSubscription: (subscription, settings) => bus.ensureSubscription(subscription, settings),
    publish: async (topic, messages) => {
      const ids = await bus.publish(topic, messages);
      if (topic === names.sheetTopic) metrics.publishedTo('sheetChanges', messages.length);
      if (topic === names.dbTopic) {
        metrics.publishedTo(
          'dbChanges',
          messages.reduce((n, m) => n + dbChangeCount(m.data), 0),
        );
      }
      return ids;
    },
    subscribe: (subscription, handler, options) => {
      const direction = directions.get(subscription);
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
