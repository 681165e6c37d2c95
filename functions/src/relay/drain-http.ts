/**
 * A relay as a scheduled HTTP function, for either engine's relay: drains for a bounded time,
 * `?ms=` (or body `{"ms": n}`) up to `maxDrainMs` (default 50 s, under the function's timeout).
 * Answers 200 with what the drain did, or 500 with the error code (the scheduler retries).
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import type { ErrorCode } from '../error-codes.ts';
import { SheetsyncError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';

/** A relay failure as log labels and an answer: its code (E204 when it has none) and message. */
export function describeError(error: unknown): { code: ErrorCode; error: string } {
  return {
    code: error instanceof SheetsyncError ? error.code : 'SHEETSYNC_E204',
    error: error instanceof Error ? error.message : String(error),
  };
}

export function drainHttpHandler(
  drain: (ms: number) => Promise<unknown>,
  options: { maxDrainMs?: number; logger?: Logger },
): HttpFunction {
  const maxDrainMs = options.maxDrainMs ?? 50_000;
  const logger = options.logger ?? silentLogger;
  return async (req, res) => {
    const asked = Number(req.query?.ms ?? (req.body as { ms?: unknown } | undefined)?.ms ?? maxDrainMs);
    const ms = Number.isFinite(asked) && asked > 0 ? Math.min(asked, maxDrainMs) : maxDrainMs;
    try {
      res.status(200).json(await drain(ms));
    } catch (error) {
      const described = describeError(error);
      logger.error('outbox drain failed', described);
      res.status(500).json({ error: described.error, code: described.code });
    }
  };
}
