/**
 * Structured logging: one JSON object per line on stdout (stderr for ERROR and above), in the
 * shape Cloud Logging parses as a structured log entry
 * (https://cloud.google.com/logging/docs/structured-logging): `severity`, `message`, and our
 * labels under `logging.googleapis.com/labels` plus the same keys at the top level for local reading.
 *
 * Never pass a secret, a connection URL or a cell value as a label; values are user data.
 */

import type { ErrorCode } from './error-codes.ts';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** The label keys DESIGN.md §2 fixes; others may be added, the names stay stable. */
export interface LogLabels {
  link?: string;
  rowId?: string;
  op?: string;
  origin?: string;
  latencyMs?: number;
  code?: ErrorCode;
  [key: string]: string | number | boolean | undefined;
}

export interface Logger {
  debug(message: string, labels?: LogLabels): void;
  info(message: string, labels?: LogLabels): void;
  warn(message: string, labels?: LogLabels): void;
  error(message: string, labels?: LogLabels): void;
  /** A logger whose every entry carries `labels` too. */
  child(labels: LogLabels): Logger;
}

const ORDER: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

export interface LoggerOptions {
  /** Entries below this severity are dropped. Default: SHEETSYNC_LOG_LEVEL or INFO. */
  level?: Severity;
  /** Where lines go. Default: stdout, and stderr from ERROR up. */
  write?: (line: string, severity: Severity) => void;
  labels?: LogLabels;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLevel(process.env.SHEETSYNC_LOG_LEVEL) ?? 'INFO';
  const write =
    options.write ??
    ((line: string, severity: Severity) =>
      (ORDER[severity] >= ORDER.ERROR ? process.stderr : process.stdout).write(`${line}\n`));
  const base = options.labels ?? {};
  const emit = (severity: Severity, message: string, labels?: LogLabels) => {
    if (ORDER[severity] < ORDER[level]) return;
    const all: LogLabels = { ...base, ...labels };
    const stringLabels: Record<string, string> = {};
    for (const [key, value] of Object.entries(all)) {
      // Special fields (trace, spanId) stay top-level only.
      if (value !== undefined && !key.startsWith('logging.googleapis.com/'))
        stringLabels[key] = String(value);
    }
    write(
      JSON.stringify({
        severity,
        message,
        time: new Date().toISOString(),
        ...all,
        'logging.googleapis.com/labels': stringLabels,
      }),
      severity,
    );
  };
  return {
    debug: (m, l) => emit('DEBUG', m, l),
    info: (m, l) => emit('INFO', m, l),
    warn: (m, l) => emit('WARNING', m, l),
    error: (m, l) => emit('ERROR', m, l),
    child: (labels) => createLogger({ level, write, labels: { ...base, ...labels } }),
  };
}

function parseLevel(value: string | undefined): Severity | undefined {
  const upper = value?.toUpperCase();
  if (upper === 'WARN') return 'WARNING';
  return upper && upper in ORDER ? (upper as Severity) : undefined;
}

/** A logger that drops everything, for tests that assert on behaviour rather than logs. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/**
 * The Cloud Logging trace field for a request, from `traceparent` (W3C) or
 * `X-Cloud-Trace-Context` (`TRACE_ID/SPAN_ID;o=1`), so a function's log lines group under the
 * request in Logs Explorer. Empty when the request carries neither.
 */
export function traceLabels(
  headers: Record<string, string | string[] | undefined>,
  projectId: string | undefined,
): LogLabels {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const traceparent = first(headers.traceparent);
  const cloud = first(headers['x-cloud-trace-context']);
  const traceId =
    /^[\da-f]{2}-([\da-f]{32})-/.exec(traceparent ?? '')?.[1] ?? /^([\da-f]{32})/.exec(cloud ?? '')?.[1];
  if (!traceId || !projectId) return {};
  return { 'logging.googleapis.com/trace': `projects/${projectId}/traces/${traceId}` };
}
