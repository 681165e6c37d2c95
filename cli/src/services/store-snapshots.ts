/**
 * The local stack's version store on disk: saved periodically while the stack runs (a SIGKILL
 * runs no stop code) and once more when it stops, then loaded by the next start.
 *
 * Invariant: the saved store never knows a sheet row that the saved sheet lacks. Otherwise the
 * next start would take a row the store knows, missing from the sheet, for a row a person
 * deleted, and delete it from the table. The local sheet writes its state file within 200 ms of
 * a change (emulator/src/persistence.ts), and a row reaches the sheet before its document is
 * stored; so a snapshot is made the one to load (promoted) only `promoteAfterMs` after it was
 * taken, when the sheet's file holds every row written before it. The stack dying in between
 * leaves the previous snapshot: an older store, whose missing documents the next start rebuilds
 * (functions/src/sync-jobs/restore-link.ts). At a clean stop the sheet writes its file after the last
 * snapshot was taken (writers may still be finishing), and the snapshot is promoted then.
 */
import type { VersionStore } from '../../../functions/src/ports.ts';

/** Taking and promoting snapshots of one store (firestore-export.ts, memory-store-file.ts). */
export interface Snapshots<T> {
  /** A copy of the store as it is now, not yet the one the next start loads. */
  take(): Promise<T>;
  /** Makes `snapshot` the one the next start loads, atomically. */
  promote(snapshot: T): Promise<void>;
  /** Drops a snapshot that will not be promoted. */
  discard(snapshot: T): Promise<void>;
}

export interface StoreSaverOptions {
  /** Between two periodic snapshots, at least. Default 2 s. */
  intervalMs?: number;
  /** From taking a snapshot to promoting it (see the invariant above). Default 1 s. */
  promoteAfterMs?: number;
  onError: (error: unknown) => void;
}

export class StoreSaver<T> {
  private dirty = true;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastTakeMs = 0;
  /** Ends the wait before a promotion early (the stack stops). */
  private wake: () => void = () => {};

  constructor(
    private readonly snapshots: Snapshots<T>,
    private readonly options: StoreSaverOptions,
  ) {}

  /** The store changed: the next periodic save takes a snapshot. */
  markDirty(): void {
    this.dirty = true;
  }

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    // A big store takes longer to export: keep the emulator mostly free for the pipeline.
    const wait = Math.max(this.options.intervalMs ?? 2_000, 5 * this.lastTakeMs);
    this.timer = setTimeout(() => {
      this.running = this.periodic().finally(() => this.schedule());
    }, wait);
    this.timer.unref();
  }

  private async periodic(): Promise<void> {
    if (!this.dirty || this.stopped) return;
    this.dirty = false;
    try {
      const started = performance.now();
      const snapshot = await this.snapshots.take();
      this.lastTakeMs = performance.now() - started;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.promoteAfterMs ?? 1_000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      // A final save started meanwhile: it is newer, and this one must not replace it.
      if (this.stopped) await this.snapshots.discard(snapshot);
      else await this.snapshots.promote(snapshot);
    } catch (error) {
      this.dirty = true;
      this.options.onError(error);
    }
  }

  /**
   * The save at a clean stop: takes a snapshot, then lets `flushSheet` write the sheet's state
   * (so the sheet holds every row the snapshot knows), then promotes the snapshot.
   */
  async final(flushSheet: () => Promise<void>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake();
    const snapshot = await this.snapshots.take();
    await flushSheet();
    await this.running.catch(() => {});
    await this.snapshots.promote(snapshot);
  }

  /** Stops saving without a last snapshot (the store could not be reached). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake();
  }
}

/** `store`, calling `onWrite` before each call that may change what it holds. */
export function trackWrites(store: VersionStore, onWrite: () => void): VersionStore {
  const writes = new Set<keyof VersionStore>([
    'commitRows',
    'createRows',
    'recordStructureChecks',
    'bumpSheetEpoch',
    'holdSheetWrites',
    'resolveConflict',
  ]);
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (!writes.has(property as keyof VersionStore)) return value.bind(target);
      return (...args: unknown[]) => {
        onWrite();
        return value.apply(target, args);
      };
    },
  });
}
