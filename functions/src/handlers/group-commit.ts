/**
 * Group commit: concurrent deliveries share one flush (one PostgreSQL transaction and one
 * version-store commit for applyToDb; one Sheets API read and write for applyToSheet).
 *
 * The first item opens a window of `windowMs`; every item submitted until the window closes
 * joins the same flush. While a flush runs, new items gather for the next one, so under load
 * flushes grow instead of queueing up. Each submitter gets its own item's result.
 */

export interface GroupCommitOptions {
  /** How long the first item of a group waits for company. */
  windowMs: number;
  /** A group flushes early when it reaches this many items. */
  maxItems?: number;
  /**
   * Awaited after the window closes, before the group is taken: items that arrive meanwhile
   * join it. applyToSheet waits here for the Sheets API write budget, so a change that arrives
   * while the budget is spent goes out with the next write instead of one write later.
   */
  ready?: () => Promise<void>;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  private pending: Array<Pending<T, R>> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Flushes that released the next one early and have not finished yet. */
  private readonly finishing = new Set<Promise<void>>();

  /**
   * `flush` may call `release()` once the next flush may start, before its own results are
   * known (applyToSheet: after the sheet write, while the version-store commit runs); without
   * it the next flush starts when this one finishes. Results are given when the flush finishes.
   */
  constructor(
    private readonly flush: (items: T[], release: () => void) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (
        this.options.maxItems !== undefined &&
        this.pending.length >= this.options.maxItems &&
        !this.running
      ) {
        this.fire();
      } else if (!this.timer && !this.running) {
        this.timer = setTimeout(() => this.fire(), this.options.windowMs);
      }
    });
  }

  /** Resolves when everything submitted so far has been flushed. */
  async drain(): Promise<void> {
    while (this.running || this.pending.length > 0 || this.finishing.size > 0) {
      if (!this.running && this.pending.length > 0) this.fire();
      await (this.running ?? Promise.all([...this.finishing]));
    }
  }

  private fire(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.pending.length === 0) return;
    this.running = (async () => {
      // A pacing hint only: a failure here must not lose the group.
      await this.options.ready?.().catch(() => {});
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      const done = this.run(this.pending.splice(0, this.options.maxItems ?? this.pending.length), release);
      this.finishing.add(done);
      void done.finally(() => this.finishing.delete(done));
      await Promise.race([released, done]);
    })().finally(() => {
      this.running = undefined;
      if (this.pending.length > 0) this.fire();
    });
  }

  private async run(group: Array<Pending<T, R>>, release: () => void): Promise<void> {
    try {
      const results = await this.flush(
        group.map((p) => p.item),
        release,
      );
      group.forEach((p, i) => {
        p.resolve(results[i]!);
      });
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }
}
