/**
 * Injected faults for the Sheets API routes: a fixed latency plus random jitter before each
 * answer, and a rate of 5xx answers (Google's own transient failures: 500 INTERNAL and
 * 503 UNAVAILABLE, which clients are told to retry with backoff). A fault hits before the
 * request is applied, so a failed write changes nothing.
 */
import { SheetsApiError } from './model/errors.ts';

export interface FaultConfig {
  latencyMs: number;
  jitterMs: number;
  /** 0..1: share of API requests answered with a 5xx. */
  errorRate: number;
  /** Which 5xx to answer; 503 by default. */
  errorStatus: 500 | 503;
  /** Fail exactly the next N API requests (deterministic, for tests). */
  failNext: number;
}

export const noFaults: FaultConfig = {
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  errorStatus: 503,
  failNext: 0,
};

export class FaultInjector {
  config: FaultConfig;

  constructor(
    config: Partial<FaultConfig> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.config = { ...noFaults, ...config };
  }

  configure(config: Partial<FaultConfig>): void {
    this.config = { ...this.config, ...config };
  }

  async apply(): Promise<void> {
    const { latencyMs, jitterMs } = this.config;
    const delay = latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    let fail = false;
    if (this.config.failNext > 0) {
      this.config.failNext--;
      fail = true;
    } else if (this.config.errorRate > 0 && this.random() < this.config.errorRate) {
      fail = true;
    }
    if (!fail) return;
    throw this.config.errorStatus === 500
      ? new SheetsApiError('INTERNAL', 'Internal error encountered.')
      : new SheetsApiError('UNAVAILABLE', 'The service is currently unavailable.');
  }
}
