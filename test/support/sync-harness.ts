/**
 * The sync harness (bench/sheet-sync-harness.ts) on a test file's database and the global
 * setup's Pub/Sub and Firestore emulators.
 */
import { inject } from 'vitest';
import {
  type SyncHarness,
  type SyncHarnessOptions,
  startSyncHarness,
} from '../../bench/sheet-sync-harness.ts';

export function startTestHarness(
  db: { url: string },
  options: Omit<SyncHarnessOptions, 'databaseUrl' | 'pubsubEmulatorHost' | 'firestoreEmulatorHost'>,
): Promise<SyncHarness> {
  return startSyncHarness({
    databaseUrl: db.url,
    pubsubEmulatorHost: inject('pubsubEmulatorHost'),
    firestoreEmulatorHost: inject('firestoreEmulatorHost'),
    ...options,
  });
}
