import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { describe, expect, inject, it } from 'vitest';
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
