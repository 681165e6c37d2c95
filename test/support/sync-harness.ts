/**
 * The sync harness (sheet-sync-harness.ts) for a test file: started before its tests on
 * the file's database and the global setup's Pub/Sub and Firestore emulators, stopped after.
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { type SyncHarness, type SyncHarnessOptions, startSyncHarness } from './sheet-sync-harness.ts';

/**
 * Registers the harness's start (beforeAll) and stop (afterAll) and returns it: a stand-in that
 * forwards to the started harness, usable in the tests and in later beforeAll hooks.
 */
export function useSyncHarness(
  db: { url: string },
  options: Omit<SyncHarnessOptions, 'databaseUrl' | 'pubsubEmulatorHost' | 'firestoreEmulatorHost'>,
): SyncHarness {
  let started: SyncHarness | undefined;
  beforeAll(async () => {
    started = await startSyncHarness({
      databaseUrl: db.url,
      pubsubEmulatorHost: inject('pubsubEmulatorHost'),
      firestoreEmulatorHost: inject('firestoreEmulatorHost'),
      ...options,
    });
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as SyncHarness, {
    get(_, property) {
      if (!started) throw new Error('the sync harness is used before its beforeAll started it');
      return Reflect.get(started, property, started);
    },
  });
}
