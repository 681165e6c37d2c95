/**
 * The host's lock table behind LockService. A lock has at most one owner (an execution);
 * waiters queue in arrival order and time out individually. Ending an execution releases what
 * it still holds, as Google does when a script finishes without releaseLock().
 */

/** When a lock wait ends: in real time, or on the limits model's clock (virtual-clock.ts). */
export interface LockTimers {
  /** Runs `fire` after `ms`; returns a function that cancels it. */
  after(ms: number, fire: () => void): () => void;
  /** Runs `fire` for a lock handed to a waiter by its releaser. */
  handOver(fire: () => void): void;
}

export const REAL_LOCK_TIMERS: LockTimers = {
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
  handOver: (fire) => fire(),
};

interface Waiter {
  owner: number;
  grant: (granted: boolean) => void;
  cancelTimeout: () => void;
}

export class LockTable {
  private readonly owners = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(private readonly timers: LockTimers = REAL_LOCK_TIMERS) {}

  /** Resolves true once `owner` holds `key`, or false after `timeoutMs`. Re-acquiring is a no-op. */
  acquire(key: string, owner: number, timeoutMs: number): Promise<boolean> {
    const current = this.owners.get(key);
    if (current === undefined || current === owner) {
      this.owners.set(key, owner);
      return Promise.resolve(true);
    }
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const queue = this.waiters.get(key) ?? [];
      const waiter: Waiter = {
        owner,
        grant: resolve,
        cancelTimeout: this.timers.after(timeoutMs, () => {
          const list = this.waiters.get(key) ?? [];
          this.waiters.set(
            key,
            list.filter((w) => w !== waiter),
          );
          resolve(false);
        }),
      };
      queue.push(waiter);
      this.waiters.set(key, queue);
    });
  }

  release(key: string, owner: number): void {
    if (this.owners.get(key) !== owner) return;
    this.owners.delete(key);
    const next = this.waiters.get(key)?.shift();
    if (next) {
      next.cancelTimeout();
      this.owners.set(key, next.owner);
      this.timers.handOver(() => next.grant(true));
    }
  }

  releaseAll(owner: number): void {
    for (const [key, holder] of [...this.owners]) if (holder === owner) this.release(key, owner);
    for (const [key, queue] of this.waiters) {
      for (const waiter of queue.filter((w) => w.owner === owner)) {
        waiter.cancelTimeout();
        waiter.grant(false);
      }
      this.waiters.set(
        key,
        queue.filter((w) => w.owner !== owner),
      );
    }
  }
}
