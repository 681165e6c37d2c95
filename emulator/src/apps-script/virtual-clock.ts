/**
 * The model clock of the Apps Script limits model (limits.ts). Model time moves only by modelled
 * durations: a service call's cost, a server's latency, a sleep, a lock wait, a trigger's period
 * (model-time.ts). The real time an execution spends computing is never model time, so the same
 * run gives the same model-time figures on a busy machine as on an idle one.
 *
 * Invariants:
 * - Everything that happens at a model time is an event, due at that time. Events happen in the
 *   order of their times, ties in the order they were scheduled.
 * - While anything holds the clock (an execution computing between two service calls, a real
 *   HTTP exchange in flight), the clock stands still and no event happens. Events happen one at a
 *   time, each only when nothing holds the clock: concurrent executions interleave the same way
 *   on every run, whatever their real speed.
 * - Pacing: with `timeScale` > 0, model time passes no faster than real time / timeScale (1 is
 *   real time; 0.01 makes a model minute last at least 0.6 s). With 0 there is no pacing: while
 *   an execution is live the clock goes straight to the next event, and otherwise it stands until
 *   `advance` lets time pass, so a test decides how much idle time passes between its steps.
 */

interface ClockEvent {
  at: number;
  fire: () => void;
}

interface Advance {
  at: number;
  done: () => void;
}

export class VirtualClock {
  private base: number;
  private baseReal = Date.now();
  private holds = 0;
  private live = 0;
  private readonly events: ClockEvent[] = [];
  private readonly advances: Advance[] = [];
  private pacer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private closed = false;

  /** @param origin the model time it starts at (default: the real time now) */
  constructor(
    readonly timeScale: number,
    origin = Date.now(),
  ) {
    if (!(timeScale >= 0) || !Number.isFinite(timeScale))
      throw new Error('timeScale must be 0 (no pacing) or a positive number');
    this.base = origin;
  }

  /** Model milliseconds since the epoch. */
  now(): number {
    if (this.holds > 0 || this.timeScale === 0) return this.base;
    const flowed = this.base + Math.floor((Date.now() - this.baseReal) / this.timeScale);
    return Math.min(flowed, this.events[0]?.at ?? flowed);
  }

  /** Runs `fire` at model time `at` (now, when past); returns a function that cancels it. */
  schedule(at: number, fire: () => void): () => void {
    const event: ClockEvent = { at: Math.max(at, this.now()), fire };
    // After the events due at the same time: ties happen in the order they were scheduled.
    let i = this.events.length;
    while (i > 0 && this.events[i - 1]!.at > event.at) i--;
    this.events.splice(i, 0, event);
    this.wake();
    return () => {
      const index = this.events.indexOf(event);
      if (index >= 0) this.events.splice(index, 1);
      this.wake();
    };
  }

  /**
   * Lets `ms` of model time pass now, without waiting for real time: the events due on the way
   * happen in order. Resolves once the clock has reached it.
   */
  advance(ms: number): Promise<void> {
    return new Promise((done) => {
      const at = this.now() + Math.max(0, ms);
      let i = this.advances.length;
      while (i > 0 && this.advances[i - 1]!.at > at) i--;
      this.advances.splice(i, 0, { at, done });
      this.wake();
    });
  }

  /** An execution on this clock, holding it (computing) until it waits. */
  join(): ClockParticipant {
    this.live++;
    return new ClockParticipant(this, () => {
      this.live--;
      this.wake();
    });
  }

  /** Holds the clock: no event happens until every hold is released. */
  hold(): void {
    if (this.holds === 0) {
      this.base = this.now();
      this.stopPacer();
    }
    this.holds++;
  }

  release(): void {
    if (this.holds === 0) throw new Error('VirtualClock.release without a hold');
    if (--this.holds === 0) {
      this.baseReal = Date.now();
      this.wake();
    }
  }

  /** Stops: no event happens after this, and pending advances never resolve. */
  close(): void {
    this.closed = true;
    this.stopPacer();
    this.events.length = 0;
  }

  private wake(): void {
    if (this.pumpQueued || this.closed) return;
    this.pumpQueued = true;
    // A macrotask later: the promise continuations of the last event (an execution taking the
    // hold again) have all run by then.
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    this.stopPacer();
    if (this.holds > 0 || this.closed) return;
    const now = this.now();
    while (this.advances[0] && this.advances[0].at <= now) this.advances.shift()!.done();
    const next = this.events[0];
    const target = this.advances[0]?.at;
    if (next && (next.at <= now || (target !== undefined && next.at <= target))) {
      this.fire(next, now);
      return;
    }
    if (target !== undefined) {
      // Nothing happens before the target: the time up to it passes at once.
      this.base = Math.max(now, target);
      this.baseReal = Date.now();
      this.wake();
      return;
    }
    if (next && this.timeScale === 0 && this.live > 0) {
      this.fire(next, now);
      return;
    }
    if (next && this.timeScale > 0) {
      this.pacer = setTimeout(() => this.pump(), (next.at - now) * this.timeScale);
      this.pacer.unref();
    }
  }

  private fire(event: ClockEvent, now: number): void {
    this.events.shift();
    this.base = Math.max(now, event.at);
    this.baseReal = Date.now();
    try {
      event.fire();
    } finally {
      this.wake();
    }
  }

  private stopPacer(): void {
    if (this.pacer) clearTimeout(this.pacer);
    this.pacer = undefined;
  }
}

/**
 * One execution on the clock. It holds the clock from `join` while it computes; each wait
 * (`sleep`, `suspend`) lets go of it and takes it again when the wait ends, at the model time the
 * wait ended. `end` cancels what it still waits for.
 */
export class ClockParticipant {
  private holding = true;
  private ended = false;
  private readonly pending = new Set<() => void>();
  private readonly stopped = new AbortController();

  constructor(
    private readonly clock: VirtualClock,
    private readonly onEnd: () => void,
  ) {
    clock.hold();
  }

  /** Aborts when the execution ends: for real work done on its behalf (an HTTP request). */
  get signal(): AbortSignal {
    return this.stopped.signal;
  }

  /** Waits `ms` of model time. */
  sleep(ms: number): Promise<void> {
    if (this.ended) return new Promise(() => {});
    const at = this.clock.now() + Math.max(0, ms);
    this.release();
    return new Promise((resolve) => {
      const cancel = this.clock.schedule(at, () => {
        this.pending.delete(cancel);
        this.hold();
        resolve();
      });
      this.pending.add(cancel);
    });
  }

  /**
   * Waits for something that an event of the clock ends (a lock another execution releases, a
   * wait's timeout), not holding the clock meanwhile.
   */
  async suspend<T>(waiting: Promise<T>): Promise<T> {
    this.release();
    try {
      return await waiting;
    } finally {
      this.hold();
    }
  }

  end(): void {
    if (this.ended) return;
    for (const cancel of this.pending) cancel();
    this.pending.clear();
    this.release();
    this.ended = true;
    this.stopped.abort();
    this.onEnd();
  }

  private hold(): void {
    if (this.holding || this.ended) return;
    this.holding = true;
    this.clock.hold();
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.clock.release();
  }
}
