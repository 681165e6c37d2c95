/**
 * The order in which `sheetsync start` stops, in three phases; within a phase everything stops at
 * once, and a phase that has not finished after its time limit is left behind (what it was doing
 * is at-least-once work that the next start's restore repairs), so Ctrl-C ends in about 3 s:
 * - `intake`: what takes changes in or applies them (dashboard, webhook, relay, subscribers);
 * - `save`: the version store's last snapshot, while the local sheet writes its file;
 * - `services`: clients, emulators and PostgreSQL.
 */
export type ShutdownPhase = 'intake' | 'save' | 'services';

// `save` waits longest: the local sheet's file holds the sheet's data, as Google would.
const LIMIT_MS: Record<ShutdownPhase, number> = { intake: 1_200, save: 3_000, services: 1_500 };

export class Shutdown {
  private readonly steps: Record<ShutdownPhase, Array<() => Promise<unknown>>> = {
    intake: [],
    save: [],
    services: [],
  };

  add(phase: ShutdownPhase, step: () => Promise<unknown>): void {
    this.steps[phase].push(step);
  }

  async run(): Promise<void> {
    for (const phase of ['intake', 'save', 'services'] as const) {
      const all = Promise.allSettled(this.steps[phase].map((step) => step()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((r) => (timer = setTimeout(r, LIMIT_MS[phase])))]);
      clearTimeout(timer);
    }
  }
}
