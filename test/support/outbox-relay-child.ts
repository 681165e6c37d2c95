/**
 * The outbox relay as a child process, for the crash test (test/integration/outbox-relay.test.ts).
 * Env: DATABASE_URL, PUBSUB_HOST (emulator host:port), TOPIC, MAX_BATCH (default 1000), and
 * HANG_AFTER_PUBLISH=1: after the first acknowledged publish it prints `PUBLISHED <outbox ids>`
 * and waits, before its commit, to be killed.
 */
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { startRelay } from '../../functions/src/functions/outbox-relay.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const bus = createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: env('PUBSUB_HOST') });
const hang = process.env.HANG_AFTER_PUBLISH === '1';
startRelay({
  databaseUrl: env('DATABASE_URL'),
  bus,
  topic: env('TOPIC'),
  pollIntervalMs: 100,
  maxBatchChanges: Number(process.env.MAX_BATCH ?? 1000),
  ...(hang
    ? {
        afterPublish: async (ids: readonly string[]) => {
          process.stdout.write(`PUBLISHED ${ids.join(',')}\n`);
          await new Promise(() => {});
        },
      }
    : {}),
});
process.stdout.write('STARTED\n');
