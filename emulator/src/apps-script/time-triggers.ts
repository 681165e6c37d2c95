/**
 * Time-driven triggers (ScriptApp.newTrigger(…).timeBased()): each installed one fires every
 * period, on the clock the runtime gives (real time × timeScale, or the limits model's clock).
 */
import type { ScriptSpreadsheetBackend } from './backend.ts';
import type { TriggerShape } from './protocol.ts';

export interface TimeTriggerOptions {
  backend: ScriptSpreadsheetBackend;
  /** Calls `tick` every `periodMs`; returns a function that stops it. */
  every(periodMs: number, tick: () => void): () => void;
  /**
   * Whether a tick starts a run while the trigger's last run still runs, as Google's schedule
   * does not wait for it (the limits model); otherwise such a tick is skipped.
   */
  overlap: boolean;
  /** Starts a run of the trigger; resolves when it ended. */
  fire(spreadsheetId: string, trigger: TriggerShape): Promise<unknown>;
}

/** `every` in real time, the periods multiplied by `timeScale` (0.001: a minute in 60 ms). */
export function scaledRealTime(timeScale: number): TimeTriggerOptions['every'] {
  return (periodMs, tick) => {
    const timer = setInterval(tick, Math.max(10, periodMs * timeScale));
    timer.unref();
    return () => clearInterval(timer);
  };
}

export class TimeTriggers {
  private readonly clocks = new Map<string, { stop: () => void; running: boolean }>();

  constructor(private readonly options: TimeTriggerOptions) {}

  /** Arms the spreadsheet's time-driven triggers, and disarms those it no longer has. */
  arm(spreadsheetId: string): void {
    const triggers = this.options.backend.loadScriptState(spreadsheetId).triggers;
    const wanted = new Set<string>();
    for (const trigger of triggers) {
      if (trigger.eventType !== 'CLOCK') continue;
      const key = `${spreadsheetId}/${trigger.triggerUid}`;
      wanted.add(key);
      if (this.clocks.has(key)) continue;
      const clock = { running: false, stop: () => {} };
      const tick = () => {
        if (clock.running && !this.options.overlap) return;
        if (!this.options.backend.spreadsheetIds().includes(spreadsheetId)) {
          clock.stop();
          this.clocks.delete(key);
          return;
        }
        clock.running = true;
        void this.options.fire(spreadsheetId, trigger).finally(() => {
          clock.running = false;
        });
      };
      clock.stop = this.options.every(trigger.everyMs, tick);
      this.clocks.set(key, clock);
    }
    for (const [key, clock] of this.clocks) {
      if (key.startsWith(`${spreadsheetId}/`) && !wanted.has(key)) {
        clock.stop();
        this.clocks.delete(key);
      }
    }
  }

  stopAll(): void {
    for (const clock of this.clocks.values()) clock.stop();
    this.clocks.clear();
  }
}
