/**
 * The limits model at run time (limits.ts): the model clock (virtual-clock.ts), what model time
 * each call costs (model-time.ts), the quota ledger, and the executions running on the clock,
 * each stopped where it is when its model time reaches the execution limit.
 */
import { type AppsScriptLimits, LIMIT_MESSAGES, QuotaLedger } from './limits.ts';
import type { LockTimers } from './locks.ts';
import { chargeServiceCalls, type ModelCosts, modelHostTime } from './model-time.ts';
import type { HostTime } from './script-host.ts';
import { type ClockParticipant, VirtualClock } from './virtual-clock.ts';
import type { ServeCall } from './worker-pool.ts';

interface Running {
  participant: ClockParticipant;
  startedAt: number;
  cancelLimit: () => void;
}

export class LimitsModel {
  readonly clock: VirtualClock;
  readonly ledger: QuotaLedger;
  private readonly running = new Map<number, Running>();
  private readonly participantOf = (runId: number) => this.running.get(runId)?.participant;

  constructor(
    readonly limits: AppsScriptLimits,
    timeScale: number,
    private readonly costs: ModelCosts,
  ) {
    this.clock = new VirtualClock(timeScale);
    this.ledger = new QuotaLedger(limits, this.clock);
  }

  /** The host's time for the executions on the clock. */
  hostTime(): HostTime {
    return modelHostTime(this.clock, this.participantOf, this.costs);
  }

  /** Lock waits on the clock; a lock handed over is taken up once its releaser waits. */
  lockTimers(): LockTimers {
    return {
      after: (ms, fire) => this.clock.schedule(this.clock.now() + ms, fire),
      handOver: (fire) => {
        this.clock.schedule(this.clock.now(), fire);
      },
    };
  }

  chargeCalls(serve: ServeCall): ServeCall {
    return chargeServiceCalls(serve, this.clock, this.participantOf, this.costs);
  }

  /**
   * Execution `runId` starts now: the message it fails with at once (limits.ts), or null when it
   * runs. It then holds the clock until it waits, and `stop` is called when its model time
   * reaches the execution limit.
   */
  begin(runId: number, trigger: boolean, stop: (reason: string) => void): string | null {
    const refused = this.ledger.begin(trigger);
    if (refused) return refused;
    const startedAt = this.clock.now();
    const participant = this.clock.join();
    const cancelLimit = this.clock.schedule(startedAt + this.limits.executionMs, () =>
      stop(LIMIT_MESSAGES.executionTime),
    );
    this.running.set(runId, { participant, startedAt, cancelLimit });
    return null;
  }

  /** Execution `runId`, which `begin` let run, has ended: its model duration. */
  end(runId: number, trigger: boolean): number {
    const run = this.running.get(runId);
    if (!run) return 0;
    // One stopped at the limit ran exactly that long, though a paced clock has moved on since.
    const durationMs = Math.min(this.clock.now() - run.startedAt, this.limits.executionMs);
    this.running.delete(runId);
    run.cancelLimit();
    run.participant.end();
    this.ledger.end(trigger, durationMs);
    return durationMs;
  }

  /** Calls `tick` every `periodMs` of model time from now; returns a function that stops it. */
  every(periodMs: number, tick: () => void): () => void {
    let cancel = () => {};
    const next = (at: number) => {
      cancel = this.clock.schedule(at, () => {
        next(at + periodMs);
        tick();
      });
    };
    next(this.clock.now() + periodMs);
    return () => cancel();
  }
}
