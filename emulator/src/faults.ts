/**
 * Injected faults for the Sheets API routes, the ways a call to Google can go wrong:
 *
 * - latency: a fixed delay plus random jitter before each answer;
 * - 5xx before applying (`errorRate`, `failNext`): Google's transient failures, 500 INTERNAL and
 *   503 UNAVAILABLE, which clients are told to retry with backoff
 *   (https://developers.google.com/workspace/sheets/api/troubleshoot-api-errors); nothing changes;
 * - a lost response (`lostResponseRate`, `lostResponseNext`): the request is applied, then its
 *   answer never arrives: the connection is dropped, or 500 INTERNAL is answered. Each request is
 *   applied atomically, as Google applies it ("All Sheets requests are applied atomically",
 *   https://developers.google.com/workspace/sheets/api/limits), so it landed whole;
 * - a hang (`hangRate`, `hangNext`): the request is never answered and stays open until the
 *   client gives up (its timeout), applied first or not at all (`hangApplied`).
 *
 * The client cannot tell a 5xx before applying from a lost response: both are "outcome unknown".
 * `target` limits faults to reads or writes (e.g. lost writes while the reads that check them work).
 */
import { SheetsApiError } from './model/errors.ts';

export interface FaultConfig {
  latencyMs: number;
  jitterMs: number;
  /** 0..1: share of API requests answered with a 5xx, before applying. */
  errorRate: number;
  /** Which 5xx to answer; 503 by default. */
  errorStatus: 500 | 503;
  /** Fail exactly the next N API requests with the 5xx, before applying (deterministic, for tests). */
  failNext: number;
  /** 0..1: share of API requests applied whose answer is then lost. */
  lostResponseRate: number;
  /** Lose the answers of exactly the next N API requests, after applying them. */
  lostResponseNext: number;
  /** How an answer is lost: the connection dropped ('reset') or 500 INTERNAL after applying. */
  lostResponseAs: 'reset' | 500;
  /** 0..1: share of API requests that hang, never answered. */
  hangRate: number;
  /** Hang exactly the next N API requests. */
  hangNext: number;
  /** Whether a hanging request is applied before it hangs. */
  hangApplied: boolean;
  /** Which API requests the faults hit. */
  target: 'all' | 'read' | 'write';
}

export const noFaults: FaultConfig = {
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  errorStatus: 503,
  failNext: 0,
  lostResponseRate: 0,
  lostResponseNext: 0,
  lostResponseAs: 'reset',
  hangRate: 0,
  hangNext: 0,
  hangApplied: false,
  target: 'all',
};

/** What happens to a request once it was applied. */
export type AfterApply = 'answer' | 'reset' | 500 | 'hang';

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

  private hits(kind: 'read' | 'write' | undefined): boolean {
    return this.config.target === 'all' || this.config.target === kind;
  }

  /** Takes one of `next` (deterministic) or draws against `rate`. */
  private draw(next: 'failNext' | 'lostResponseNext' | 'hangNext', rate: number): boolean {
    if (this.config[next] > 0) {
      this.config[next]--;
      return true;
    }
    return rate > 0 && this.random() < rate;
  }

  /**
   * Before the request is applied: waits the latency, then throws the 5xx or answers 'hang'
   * (a hang that applies nothing); 'apply' otherwise.
   */
  async beforeApply(kind?: 'read' | 'write'): Promise<'apply' | 'hang'> {
    if (!this.hits(kind)) return 'apply';
    const { latencyMs, jitterMs } = this.config;
    const delay = latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.draw('failNext', this.config.errorRate)) {
      throw this.config.errorStatus === 500
        ? new SheetsApiError('INTERNAL', 'Internal error encountered.')
        : new SheetsApiError('UNAVAILABLE', 'The service is currently unavailable.');
    }
    if (!this.config.hangApplied && this.draw('hangNext', this.config.hangRate)) return 'hang';
    return 'apply';
  }

  /** After the request was applied: answer it, or lose the answer. */
  afterApply(kind?: 'read' | 'write'): AfterApply {
    if (!this.hits(kind)) return 'answer';
    if (this.config.hangApplied && this.draw('hangNext', this.config.hangRate)) return 'hang';
    if (this.draw('lostResponseNext', this.config.lostResponseRate)) return this.config.lostResponseAs;
    return 'answer';
  }
}

const numberFields = ['latencyMs', 'jitterMs', 'failNext', 'lostResponseNext', 'hangNext'] as const;
const rateFields = ['errorRate', 'lostResponseRate', 'hangRate'] as const;

/** Checks a faults body (the admin route's): known members of the right types, else Google's 400. */
export function parseFaultConfig(body: Record<string, unknown>): Partial<FaultConfig> {
  const bad = (name: string, want: string) =>
    new SheetsApiError(
      'INVALID_ARGUMENT',
      `Invalid value at '${name}': expected ${want}, got ${JSON.stringify(body[name])}`,
    );
  for (const name of Object.keys(body)) {
    if (!(name in noFaults))
      throw new SheetsApiError(
        'INVALID_ARGUMENT',
        `Unknown fault "${name}"; known: ${Object.keys(noFaults).join(', ')}`,
      );
  }
  for (const name of numberFields) {
    const value = body[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0)) throw bad(name, 'a number >= 0');
  }
  for (const name of rateFields) {
    const value = body[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1))
      throw bad(name, 'a number from 0 to 1');
  }
  if (body.errorStatus !== undefined && body.errorStatus !== 500 && body.errorStatus !== 503)
    throw bad('errorStatus', '500 or 503');
  if (body.lostResponseAs !== undefined && body.lostResponseAs !== 'reset' && body.lostResponseAs !== 500)
    throw bad('lostResponseAs', '"reset" or 500');
  if (body.hangApplied !== undefined && typeof body.hangApplied !== 'boolean')
    throw bad('hangApplied', 'true or false');
  if (body.target !== undefined && !['all', 'read', 'write'].includes(body.target as string))
    throw bad('target', '"all", "read" or "write"');
  return body as Partial<FaultConfig>;
}
