/**
 * Global setup of the `integration` project: one PostgreSQL, one Pub/Sub emulator and one
 * Firestore emulator for the whole run, handed to test files with `inject()`.
 *
 * Each test file isolates itself inside them (its own database, topic names and Firestore
 * collection prefix, see test/support/*.ts), so files run in parallel and a re-run on a dirty
 * machine passes. With CI=true a service that cannot be started fails the run; it never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type RunningEmulator, startEmulator } from '../../cli/src/services/gcloud-emulator.ts';
import { type RunningPostgres, startPostgres } from '../../cli/src/services/postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    pubsubEmulatorHost: string;
    firestoreEmulatorHost: string;
  }
}

export default async function setup(project: TestProject) {
  const started: Array<{ stop(): Promise<void> }> = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-test-pg-'));
  const log = (line: string) => {
    if (process.env.SHEETSYNC_TEST_VERBOSE) console.error(line);
  };
  const results = await Promise.allSettled([
    startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir, onLog: log }),
    startEmulator('pubsub', { onLog: log }),
    startEmulator('firestore', { onLog: log }),
  ]);
  for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    await Promise.all(started.map((s) => s.stop().catch(() => {})));
    // Never skip: a missing service fails the run, with the reason.
    throw new Error(failures.map((f) => String(f.reason?.message ?? f.reason)).join('\n'));
  }
  const [pg, pubsub, firestore] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    RunningPostgres,
    RunningEmulator,
    RunningEmulator,
  ];
  project.provide('databaseUrl', pg.url);
  project.provide('pubsubEmulatorHost', pubsub.host);
  project.provide('firestoreEmulatorHost', firestore.host);
  console.error(
    `[global-setup] postgres: ${pg.embedded ? 'embedded' : 'DATABASE_URL'}; pubsub emulator ${pubsub.host}; firestore emulator ${firestore.host}`,
  );
  return async () => {
    await Promise.all(started.map((s) => s.stop().catch(() => {})));
    rmSync(dataDir, { recursive: true, force: true });
  };
}
