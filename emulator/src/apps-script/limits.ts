/**
 * An opt-in model of Google's Apps Script quotas and limits, from
 * https://developers.google.com/apps-script/guides/services/quotas ("Current quotas" and
 * "Current limitations"; consumer accounts unless set otherwise). "If you exceed a quota or
 * limitation, your script throws an exception and execution stops", and "Quotas are per user and
 * reset 24 hours after the first request": the emulator has one user, so one ledger.
 *
 * Time is model time (virtual-clock.ts): it moves only by modelled durations (model-time.ts), so
 * an execution's duration, and what it counts against the limits, is the same on any machine, and
 * a test can live through a 6-minute execution limit, or a whole day of quotas, in moments.
 */

/** The numbers of the model; every field defaults to Google's value for a consumer account. */
export interface AppsScriptLimits {
  /**
   * "Script runtime: 6 min / execution". An execution is stopped where it is when its model time
   * reaches it (in the service call or sleep that would take it past).
   */
  executionMs: number;
  /** "Triggers total runtime: 90 min / day" (Google Workspace: 6 hr / day). */
  triggerRuntimeMsPerDay: number;
  /** "URL Fetch calls: 20,000 / day" (Google Workspace: 100,000 / day). */
  urlFetchCallsPerDay: number;
  /** "Simultaneous executions per user: 30". */
  simultaneousExecutions: number;
  /** "Properties value size: 9 KB / val", counted here as UTF-8 bytes of the value. */
  propertyValueBytes: number;
  /** "Properties total storage: 500 KB / property store", counted as UTF-8 bytes of keys and values. */
  propertyStoreBytes: number;
}

export const GOOGLE_LIMITS: AppsScriptLimits = {
  executionMs: 6 * 60_000,
  triggerRuntimeMsPerDay: 90 * 60_000,
  urlFetchCallsPerDay: 20_000,
  simultaneousExecutions: 30,
  propertyValueBytes: 9 * 1024,
  propertyStoreBytes: 500 * 1024,
};

const DAY_MS = 86_400_000;

/**
 * Google's exception messages. The quota page lists the first three ("… a message similar to the
 * following"); the Properties and getUi messages are as scripts report them from Google.
 */
export const LIMIT_MESSAGES = {
  executionTime: 'Exceeded maximum execution time',
  triggerRuntime: 'Service using too much computer time for one day.',
  simultaneous: 'There are too many scripts running simultaneously for this Google user account.',
  urlFetch: 'Service invoked too many times for one day: urlfetch.',
  properties: 'You have exceeded the property storage quota. Please remove some properties and try again.',
  noUi: 'Cannot call SpreadsheetApp.getUi() from this context.',
} as const;

/** What the limits read the time from: the model clock (virtual-clock.ts). */
export interface Clock {
  now(): number;
}

/** What one user has used of the daily quotas, in the window that started with its first use. */
export interface QuotaUsage {
  windowStartedAt: number | null;
  triggerRuntimeMs: number;
  urlFetchCalls: number;
  running: number;
}

/** The per-user counters behind the limits: daily quotas and the executions running now. */
export class QuotaLedger {
  private windowStartedAt: number | null = null;
  private triggerRuntimeMs = 0;
  private urlFetchCalls = 0;
  private running = 0;

  constructor(
    readonly limits: AppsScriptLimits,
    readonly clock: Clock,
  ) {}

  /**
   * An execution starts: the message it fails with at once, or null. A trigger is refused once
   * the day's trigger runtime is spent; any execution past the simultaneous limit.
   */
  begin(trigger: boolean): string | null {
    if (this.running >= this.limits.simultaneousExecutions) return LIMIT_MESSAGES.simultaneous;
    this.window();
    if (trigger && this.triggerRuntimeMs >= this.limits.triggerRuntimeMsPerDay)
      return LIMIT_MESSAGES.triggerRuntime;
    this.running++;
    return null;
  }

  /** An execution that `begin` let start has ended after `modelMs` of model time. */
  end(trigger: boolean, modelMs: number): void {
    this.running--;
    if (trigger) {
      this.window();
      this.triggerRuntimeMs += modelMs;
    }
  }

  /** Counts one UrlFetchApp call; throws Google's message past the day's quota. */
  urlFetch(): void {
    this.window();
    if (this.urlFetchCalls >= this.limits.urlFetchCallsPerDay) throw new Error(LIMIT_MESSAGES.urlFetch);
    this.urlFetchCalls++;
  }

  /** Throws Google's message when a property store would hold more than the limits allow. */
  checkProperties(store: Record<string, string>, written: readonly string[]): void {
    let total = 0;
    for (const [key, value] of Object.entries(store)) total += utf8Bytes(key) + utf8Bytes(value);
    const tooLong = written.some((key) => utf8Bytes(store[key] ?? '') > this.limits.propertyValueBytes);
    if (tooLong || total > this.limits.propertyStoreBytes) throw new Error(LIMIT_MESSAGES.properties);
  }

  usage(): QuotaUsage {
    return {
      windowStartedAt: this.windowStartedAt,
      triggerRuntimeMs: this.triggerRuntimeMs,
      urlFetchCalls: this.urlFetchCalls,
      running: this.running,
    };
  }

  /** "Quotas … reset 24 hours after the first request." */
  private window(): void {
    const now = this.clock.now();
    if (this.windowStartedAt === null || now >= this.windowStartedAt + DAY_MS) {
      this.windowStartedAt = now;
      this.triggerRuntimeMs = 0;
      this.urlFetchCalls = 0;
    }
  }
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
