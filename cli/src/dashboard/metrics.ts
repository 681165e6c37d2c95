/**
 * The local stack's metrics: a few counters and per-second series over the last minutes, kept in
 * process (no exporter: `status` and the dashboard read them over HTTP from the running stack).
 *
 * Fed from the outside of the pipeline, so the pipeline stays unaware of it: a metered bus counts
 * what each subscription acknowledges (changes applied each way) and what it nacks, the relay's
 * counters are sampled once a second, and the logger's ERROR entries are kept as the last errors.
 */
import type { RelayCounters } from '../../../functions/src/relay/outbox-relay.ts';

/** Seconds of history each series keeps (5 minutes). */
export const SERIES_SECONDS = 300;
const LAST_ERRORS = 20;

export type SeriesName = 'sheetToDb' | 'dbToSheet' | 'lagMs' | 'conflicts' | 'errors';

export interface RecordedError {
  at: number;
  message: string;
  code: string | null;
}

export interface MetricsSnapshot {
  startedAt: number;
  at: number;
  totals: { sheetToDb: number; dbToSheet: number; redeliveries: number; errors: number };
  /** Published to each topic and not yet acknowledged by its subscriber, since start. */
  inFlight: { sheetChanges: number; dbChanges: number };
  relay: RelayCounters | null;
  openConflicts: number;
  /** One point per second, oldest first, ending at `at`. */
  series: Record<SeriesName, number[]>;
  lastErrors: RecordedError[];
}

export class Metrics {
  readonly startedAt = Date.now();
  private readonly totals = { sheetToDb: 0, dbToSheet: 0, redeliveries: 0, errors: 0 };
  private readonly published = { sheetChanges: 0, dbChanges: 0 };
  private readonly series = new Map<SeriesName, number[]>();
  /** Unix second of the newest bucket. */
  private second = Math.floor(Date.now() / 1000);
  private relay: (() => RelayCounters) | null = null;
  private openConflicts = 0;
  private readonly lastErrors: RecordedError[] = [];

  constructor() {
    for (const name of ['sheetToDb', 'dbToSheet', 'lagMs', 'conflicts', 'errors'] as const) {
      this.series.set(name, new Array<number>(SERIES_SECONDS).fill(0));
    }
  }

  /** Changes acknowledged by applyToDb (`sheetToDb`) or applyToSheet (`dbToSheet`). */
  applied(direction: 'sheetToDb' | 'dbToSheet', count = 1): void {
    this.totals[direction] += count;
    this.bump(direction, count);
  }

  publishedTo(topic: 'sheetChanges' | 'dbChanges', count: number): void {
    this.published[topic] += count;
  }

  redelivery(): void {
    this.totals.redeliveries++;
  }

  error(message: string, code: string | null): void {
    this.totals.errors++;
    this.bump('errors', 1);
    this.lastErrors.push({ at: Date.now(), message, code });
    if (this.lastErrors.length > LAST_ERRORS) this.lastErrors.shift();
  }

  watchRelay(counters: () => RelayCounters): void {
    this.relay = counters;
  }

  setOpenConflicts(count: number): void {
    this.openConflicts = count;
    this.set('conflicts', count);
  }

  /** Samples the gauges into the current second; call about once a second. */
  sample(): void {
    const relay = this.relay?.();
    if (relay) this.set('lagMs', relay.lagMs);
    this.set('conflicts', this.openConflicts);
  }

  snapshot(): MetricsSnapshot {
    this.advance();
    const series = Object.fromEntries([...this.series].map(([name, points]) => [name, [...points]]));
    return {
      startedAt: this.startedAt,
      at: Date.now(),
      totals: { ...this.totals },
      inFlight: {
        sheetChanges: Math.max(0, this.published.sheetChanges - this.totals.sheetToDb),
        dbChanges: Math.max(0, this.published.dbChanges - this.totals.dbToSheet),
      },
      relay: this.relay ? { ...this.relay() } : null,
      openConflicts: this.openConflicts,
      series: series as Record<SeriesName, number[]>,
      lastErrors: [...this.lastErrors],
    };
  }

  private bump(name: SeriesName, count: number): void {
    this.advance();
    const points = this.series.get(name)!;
    points[points.length - 1]! += count;
  }

  private set(name: SeriesName, value: number): void {
    this.advance();
    const points = this.series.get(name)!;
    points[points.length - 1] = value;
  }

  /** Shifts every series so its last point is the current second (gauges carry their value on). */
  private advance(): void {
    const now = Math.floor(Date.now() / 1000);
    const gap = Math.min(now - this.second, SERIES_SECONDS);
    if (gap <= 0) return;
    for (const [name, points] of this.series) {
      const carry = name === 'lagMs' || name === 'conflicts' ? points[points.length - 1]! : 0;
      points.splice(0, gap);
      for (let i = 0; i < gap; i++) points.push(carry);
    }
    this.second = now;
  }
}
