/**
 * Per-minute request quotas, as https://developers.google.com/sheets/api/limits states them:
 * read and write requests, 300 per minute per project and 60 per minute per user per project;
 * "Sheets API has per-minute quotas, and they're refilled every minute". So the window is fixed:
 * counters reset at each window boundary (aligned to the clock, like a per-minute bucket), not
 * sliding. `windowMs` can be shortened so tests see a refill without waiting a minute.
 *
 * The user is, in order: the `quotaUser` query parameter (Google's standard parameter for
 * per-user quota), the `X-Emulator-User` header, the `Authorization` bearer token, else
 * `anonymous`.
 */
import { SheetsApiError } from './model/errors.ts';

export interface QuotaConfig {
  readPerUser: number;
  readPerProject: number;
  writePerUser: number;
  writePerProject: number;
  windowMs: number;
  /** Quotas off entirely (e.g. a benchmark that measures the emulator itself). */
  enabled: boolean;
}

export const defaultQuotas: QuotaConfig = {
  readPerUser: 60,
  readPerProject: 300,
  writePerUser: 60,
  writePerProject: 300,
  windowMs: 60_000,
  enabled: true,
};

export type QuotaKind = 'read' | 'write';

export class QuotaLimiter {
  config: QuotaConfig;
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    config: Partial<QuotaConfig> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.config = { ...defaultQuotas, ...config };
  }

  configure(config: Partial<QuotaConfig>): void {
    this.config = { ...this.config, ...config };
    this.reset();
  }

  reset(): void {
    this.counts.clear();
    this.windowStart = 0;
  }

  /**
   * Counts one request, or throws Google's 429 if it is over a quota (it is then not counted).
   * `project` is the quota project, which a request may name in its X-Goog-User-Project header
   * (https://cloud.google.com/docs/quotas/set-quota-project); per-project limits count per project.
   */
  take(kind: QuotaKind, user: string, project = 'default'): void {
    if (!this.config.enabled) return;
    const now = this.now();
    const windowStart = now - (now % this.config.windowMs);
    if (windowStart !== this.windowStart) {
      this.windowStart = windowStart;
      this.counts.clear();
    }
    const userKey = `${kind}:user:${project}:${user}`;
    const projectKey = `${kind}:project:${project}`;
    const perUser = kind === 'read' ? this.config.readPerUser : this.config.writePerUser;
    const perProject = kind === 'read' ? this.config.readPerProject : this.config.writePerProject;
    if ((this.counts.get(projectKey) ?? 0) >= perProject) throw quotaExceeded(kind, 'project', perProject);
    if ((this.counts.get(userKey) ?? 0) >= perUser) throw quotaExceeded(kind, 'user', perUser);
    this.counts.set(projectKey, (this.counts.get(projectKey) ?? 0) + 1);
    this.counts.set(userKey, (this.counts.get(userKey) ?? 0) + 1);
  }
}

/** The emulator's stand-in for the consumer project number Google puts in quota errors. */
export const emulatorProjectNumber = '000000000000';

/**
 * Google's 429 body for Sheets quota errors: message, RESOURCE_EXHAUSTED, and an ErrorInfo
 * detail with reason RATE_LIMIT_EXCEEDED naming the quota metric and limit.
 */
export function quotaExceeded(kind: QuotaKind, scope: 'user' | 'project', limit: number): SheetsApiError {
  const metric = kind === 'read' ? 'Read requests' : 'Write requests';
  const limitName = `${metric} per minute${scope === 'user' ? ' per user' : ''}`;
  const limitId = `${kind === 'read' ? 'Read' : 'Write'}RequestsPerMinute${scope === 'user' ? 'PerUser' : ''}`;
  return new SheetsApiError(
    'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric '${metric}' and limit '${limitName}' of service 'sheets.googleapis.com' for consumer 'project_number:${emulatorProjectNumber}'.`,
    {
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'RATE_LIMIT_EXCEEDED',
          domain: 'googleapis.com',
          metadata: {
            quota_metric: `sheets.googleapis.com/${kind}_requests`,
            quota_limit: limitId,
            quota_limit_value: String(limit),
            quota_location: 'global',
            quota_unit: scope === 'user' ? '1/min/{project}/{user}' : '1/min/{project}',
            consumer: `projects/${emulatorProjectNumber}`,
            service: 'sheets.googleapis.com',
          },
        },
        {
          '@type': 'type.googleapis.com/google.rpc.Help',
          links: [
            {
              description: 'Request a higher quota limit.',
              url: 'https://cloud.google.com/docs/quotas/help/request_increase',
            },
          ],
        },
      ],
    },
  );
}
