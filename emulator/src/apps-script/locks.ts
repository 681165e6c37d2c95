/**
 * The host's lock table behind LockService. A lock has at most one owner (an execution);
 * waiters queue in arrival order and time out individually. Ending an execution releases what
 * it still holds, as Google does when a script finishes without releaseLock().
 */
interface Waiter {
  owner: number;
  grant: (granted: boolean) => void;
  timer: NodeJS.Timeout;
}

export class LockTable {
  private readonly owners = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();

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
        timer: setTimeout(() => {
          const list = this.waiters.get(key) ?? [];
          this.waiters.set(
            key,
            list.filter((w) => w !== waiter),
          );
          resolve(false);
        }, timeoutMs),
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
      clearTimeout(next.timer);
      this.owners.set(key, next.owner);
      next.grant(true);
    }
  }

  releaseAll(owner: number): void {
    for (const [key, holder] of [...this.owners]) if (holder === owner) this.release(key, owner);
    for (const [key, queue] of this.waiters) {
      for (const waiter of queue.filter((w) => w.owner === owner)) {
        clearTimeout(waiter.timer);
        waiter.grant(false);
      }
      this.waiters.set(
        key,
        queue.filter((w) => w.owner !== owner),
      );
    }
  }
}
