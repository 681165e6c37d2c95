/**
 * The bus and the version store of `sheetsync start`, and how the store outlives a restart.
 *
 * - Google's emulators (the Cloud SDK installed): started here, the Firestore emulator with the
 *   export the last run left (`.sheetsync/firestore/`, firestore-export.ts); the Pub/Sub
 *   emulator starts empty (it cannot keep messages: what the relay had not had acknowledged is
 *   still in the outbox, and the restore repairs the rest). Both are listed with the reaper.
 * - The in-process stand-ins (SHEETSYNC_STANDINS=1, or no Cloud SDK): the store's documents in
 *   `.sheetsync/version-store.json` (memory-store-file.ts).
 * - Emulators already running (PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST): they keep
 *   their own state and outlive the stack; nothing is saved here.
 * The store is saved periodically and at a clean stop (store-snapshots.ts). A saved store that
 * cannot be loaded is set aside (SHEETSYNC_E759): the stack starts with an empty store, and the
 * restore rebuilds the documents of the rows both sides hold.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createMemoryBus } from '../../functions/src/adapters/memory-bus.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { type ErrorCode, isErrorCode } from '../../functions/src/error-codes.ts';
import type { Logger } from '../../functions/src/log.ts';
import type { Bus, VersionStore } from '../../functions/src/ports.ts';
import { currentExport, firestoreExports } from './services/firestore-export.ts';
import { hasGcloud, type RunningEmulator, startEmulator } from './services/gcloud-emulator.ts';
import { openMemoryStore } from './services/memory-store-file.ts';
import type { Reaper } from './services/reaper.ts';
import { type Snapshots, StoreSaver, trackWrites } from './services/store-snapshots.ts';

export interface StackStore {
  bus: Bus;
  store: VersionStore;
  kind: 'google' | 'running' | 'standins';
  projectId: string;
  emulatorHosts?: { pubsub: string; firestore: string };
  /** The last save at a clean stop; `flushSheet` (the local sheet writes its file) runs after the snapshot. */
  save(flushSheet: () => Promise<void>): Promise<void>;
  /** Stops the clients and the emulators this stack started (after `save`). */
  stop(): Promise<void>;
}

export interface StackStoreOptions {
  stateDir: string;
  /** A first start (the demo is created): what an earlier run saved is dropped. */
  fresh: boolean;
  reaper: Reaper;
  logger: Logger;
  progress: (message: string) => void;
}

export async function startStackStore(options: StackStoreOptions): Promise<StackStore> {
  const { stateDir, logger, progress } = options;
  const firestoreDir = join(stateDir, 'firestore');
  const storeFile = join(stateDir, 'version-store.json');
  if (options.fresh) {
    rmSync(firestoreDir, { recursive: true, force: true });
    rmSync(storeFile, { force: true });
  }
  const projectId = process.env.GOOGLE_CLOUD_PROJECT || 'sheetsync-local';
  const standIns = /^(1|true|yes)$/i.test(process.env.SHEETSYNC_STANDINS ?? '');
  const running =
    !standIns && process.env.PUBSUB_EMULATOR_HOST && process.env.FIRESTORE_EMULATOR_HOST
      ? { pubsub: process.env.PUBSUB_EMULATOR_HOST, firestore: process.env.FIRESTORE_EMULATOR_HOST }
      : undefined;
  const onError = (error: unknown) =>
    logger.warn('the version store could not be saved; the next start rebuilds what it lacks', {
      code: isErrorCode((error as { code?: unknown }).code)
        ? (error as { code: ErrorCode }).code
        : 'SHEETSYNC_E756',
      error: (error as Error).message,
    });

  if (standIns || (!running && !hasGcloud())) {
    progress(
      standIns
        ? 'SHEETSYNC_STANDINS is set: using the in-process bus and version store'
        : 'Google Cloud SDK not found: using the in-process bus and version store',
    );
    const opened = await openMemoryStore(new MemoryVersionStore(), storeFile).catch(
      async (error: unknown) => {
        setAside(storeFile, error, logger);
        return openMemoryStore(new MemoryVersionStore(), storeFile);
      },
    );
    if (opened.loaded > 0)
      progress(`version store: ${opened.loaded} row documents from .sheetsync/version-store.json`);
    return saved(
      { bus: createMemoryBus(), kind: 'standins', projectId },
      opened.store,
      opened.snapshots,
      onError,
    );
  }

  if (running) {
    progress(
      `using the running emulators of PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST (project ${projectId})`,
    );
    const { bus, store } = googleClients(running, projectId, logger);
    return {
      bus,
      store,
      kind: 'running',
      projectId,
      emulatorHosts: running,
      save: (flushSheet) => flushSheet(),
      stop: async () => {
        await Promise.allSettled([bus.close(), store.close()]);
      },
    };
  }

  progress('starting the Pub/Sub and Firestore emulators (Google Cloud SDK)…');
  let exported = currentExport(firestoreDir);
  // gcloud writes the emulator's env.yaml there (else into the user's gcloud config directory).
  mkdirSync(join(stateDir, 'pubsub'), { recursive: true });
  // Listed from the moment gcloud runs: the reaper stops the wrapper and what it started.
  const onSpawn = (kind: string) => (pid: number) =>
    options.reaper.watch(pid, 'SIGKILL', `the ${kind} emulator's gcloud`);
  const started = await Promise.allSettled([
    startEmulator('pubsub', { args: [`--data-dir=${join(stateDir, 'pubsub')}`], onSpawn: onSpawn('pubsub') }),
    startEmulator('firestore', {
      ...(exported ? { args: [`--import-data=${exported}`] } : {}),
      onSpawn: onSpawn('firestore'),
    }).catch((error: unknown) => {
      if (!exported) throw error;
      // An export the emulator cannot read: set it aside and start empty (the restore rebuilds).
      setAside(firestoreDir, error, logger);
      exported = undefined;
      return startEmulator('firestore', { onSpawn: onSpawn('firestore') });
    }),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    // The one that did start must not outlive this failed start.
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  const [pubsub, firestore] = started.map((s) => (s as PromiseFulfilledResult<RunningEmulator>).value) as [
    RunningEmulator,
    RunningEmulator,
  ];
  // java too, by its own PID: it outlives a wrapper that dies first.
  for (const emulator of [pubsub, firestore]) {
    options.reaper.watch(emulator.javaPid, 'SIGKILL', `the ${emulator.kind} emulator`);
  }
  const emulatorHosts = { pubsub: pubsub.host, firestore: firestore.host };
  progress(
    `Pub/Sub emulator ${pubsub.host}, Firestore emulator ${firestore.host}` +
      (exported ? ' (documents from .sheetsync/firestore)' : ''),
  );
  const clients = googleClients(emulatorHosts, projectId, logger);
  const stack = saved(
    { bus: clients.bus, kind: 'google', projectId, emulatorHosts },
    clients.store,
    firestoreExports(firestoreDir, firestore.host, projectId),
    onError,
  );
  return {
    ...stack,
    // The clients' close waits for the calls a stop abandoned; the process exits anyway.
    stop: async () => {
      void stack.stop().catch(() => {});
      await Promise.all([pubsub.stop(), firestore.stop()]);
    },
  };
}

function googleClients(hosts: { pubsub: string; firestore: string }, projectId: string, logger: Logger) {
  const [host, port] = hosts.firestore.split(':');
  const firestore = new Firestore({ projectId, host, port: Number(port), ssl: false });
  return {
    bus: createPubSubBus({ projectId, apiEndpoint: hosts.pubsub, logger }),
    store: new FirestoreVersionStore({ firestore }),
  };
}

/** The stack with its store saved periodically by a StoreSaver over `snapshots`. */
function saved<T>(
  base: Pick<StackStore, 'bus' | 'kind' | 'projectId' | 'emulatorHosts'>,
  store: VersionStore,
  snapshots: Snapshots<T>,
  onError: (error: unknown) => void,
): StackStore {
  const saver = new StoreSaver(snapshots, { onError });
  saver.start();
  return {
    ...base,
    store: trackWrites(store, () => saver.markDirty()),
    save: async (flushSheet) => {
      await saver.final(flushSheet).catch(async (error: unknown) => {
        onError(error);
        await flushSheet();
      });
    },
    stop: async () => {
      saver.stop();
      await Promise.allSettled([base.bus.close(), store.close()]);
    },
  };
}

function setAside(path: string, error: unknown, logger: Logger): void {
  const aside = `${path}.unreadable-${Date.now()}`;
  if (existsSync(path)) renameSync(path, aside);
  logger.warn(
    `the saved version store could not be loaded (${(error as Error).message.slice(0, 300)}); it was moved to ${aside} ` +
      'and the stack starts with an empty one: the documents of the rows both sides hold are rebuilt',
    { code: 'SHEETSYNC_E759' },
  );
}
