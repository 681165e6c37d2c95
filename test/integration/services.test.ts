import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { describe, expect, inject, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../cli/src/services/gcloud-emulator.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';

describe('test services', () => {
  const db = useTestDatabase();

  it('gives each file a database of its own', async () => {
    const [row] = await db.sql<{ name: string }[]>`select current_database() as name`;
    expect(row?.name).toMatch(/^sheetsync_test_[0-9a-f]{10}$/);
  });

  it('runs the Pub/Sub emulator', async () => {
    const pubsub = new PubSub({ projectId: 'sheetsync-test', apiEndpoint: inject('pubsubEmulatorHost') });
    const [topic] = await pubsub.createTopic(uniqueName('smoke'));
    const [exists] = await topic.exists();
    expect(exists).toBe(true);
    await topic.delete();
    await pubsub.close();
  });

  it('runs the Firestore emulator', async () => {
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
    const ref = firestore.collection(uniqueName('smoke')).doc('a');
    await ref.set({ n: 1 });
    expect((await ref.get()).data()).toEqual({ n: 1 });
    await firestore.terminate();
  });
});

describe('starting an emulator', () => {
  it('starts again on another port when its port was taken between the pick and the bind', async () => {
    // A port someone holds, handed out first, as a race with another run would.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const picked: number[] = [];
    let emulator: RunningEmulator | undefined;
    try {
      emulator = await startEmulator('pubsub', {
        pickPort: async () => {
          const port = picked.length === 0 ? taken : await freePortForTest();
          picked.push(port);
          return port;
        },
      });
      expect(picked).toHaveLength(2);
      expect(emulator.host).toBe(`127.0.0.1:${picked[1]}`);
    } finally {
      await emulator?.stop();
      holder.close();
    }
  }, 120_000);
});

async function freePortForTest(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
