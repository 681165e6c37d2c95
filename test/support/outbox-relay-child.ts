/**
 * The outbox relay as a child process, for the crash test (test/chaos/db-relay-kill.test.ts).
 * Env: DATABASE_URL, PUBSUB_HOST (emulator host:port), TOPIC, MAX_BATCH (default 1000), and HANG:
 * - `after-publish`: after the first acknowledged publish it prints `PUBLISHED <outbox ids>` and
 *   waits, before its commit, to be killed;
 * - `mid-publish`: its first publish sends only the first half of the batch's messages, prints
 *   `HALF <messages sent> OF <messages>` and waits, mid-batch, to be killed.
 */
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import type { Bus } from '../../functions/src/ports.ts';
import { startRelay } from '../../functions/src/relay/outbox-relay.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const hang = () => new Promise<never>(() => {});
const pubsub = createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: env('PUBSUB_HOST') });
const mode = process.env.HANG;
const bus: Bus =
  mode === 'mid-publish'
    ? {
        ...pubsub,
        async publish(topic, messages) {
          const half = Math.ceil(messages.length / 2);
          await pubsub.publish(topic, messages.slice(0, half));
          process.stdout.write(`HALF ${half} OF ${messages.length}\n`);
          return hang();
        },
      }
    : pubsub;
startRelay({
  databaseUrl: env('DATABASE_URL'),
  bus,
  topic: env('TOPIC'),
  pollIntervalMs: 100,
  maxBatchChanges: Number(process.env.MAX_BATCH ?? 1000),
  ...(mode === 'after-publish'
    ? {
        afterPublish: async (ids: readonly string[]) => {
          process.stdout.write(`PUBLISHED ${ids.join(',')}\n`);
          await hang();
        },
      }
    : {}),
});
process.stdout.write('STARTED\n');
