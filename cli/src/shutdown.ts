/**
 * How `sheetsync start` stops, in two phases; within a phase every step runs at once, each within
 * its own time limit. Ctrl-C ends in about 1 s idle and under 3 s under load.
 * - `first`: what takes changes in or applies them (dashboard, webhook, relay, subscribers) gets
 *   1 s: a flush still running then (a big paste paced by the Sheets quota) is abandoned, its
 *   messages unacknowledged, and the next start's restore repairs what they carried. Meanwhile
 *   the version store's last snapshot is taken, and then the local sheet writes its file (the
 *   saved sheet may be newer than the saved store, never older: store-snapshots.ts).
 * - `last`: PostgreSQL, the bus, the version store and the emulators.
 * Work abandoned in the first phase fails once the services are gone, as rejected promises or
 * errors thrown from callbacks; from the first phase on they are expected and ignored, so the
 * stop goes on (the process exits after the last phase).
 */
export type ShutdownPhase = 'first' | 'last';

/** The limit of a step that gives none; the local sheet's file holds the sheet's data. */
const DEFAULT_LIMIT_MS = 3_000;

export class Shutdown {
  private readonly steps: Record<ShutdownPhase, Array<() => Promise<unknown>>> = { first: [], last: [] };

  add(phase: ShutdownPhase, step: () => Promise<unknown>, limitMs = DEFAULT_LIMIT_MS): void {
    this.steps[phase].push(async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([step(), new Promise((r) => (timer = setTimeout(r, limitMs)))]).finally(() =>
        clearTimeout(timer),
      );
    });
  }

  async run(): Promise<void> {
    process.on('unhandledRejection', abandoned);
    process.on('uncaughtException', abandoned);
    for (const phase of ['first', 'last'] as const) {
      await Promise.allSettled(this.steps[phase].map((step) => step()));
    }
  }
}

function abandoned(): void {}
