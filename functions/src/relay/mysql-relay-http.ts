/** The MySQL relay as a scheduled HTTP function (functions/src/index.ts `outboxRelay` on MySQL). */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { silentLogger } from '../log.ts';
import { describeError, drainMysqlFor, type MysqlRelayOptions } from './mysql-relay.ts';

/** The functions-framework HTTP handler draining for a bounded time, as outboxRelayHttpHandler. */
export function mysqlRelayHttpHandler(
  options: Omit<MysqlRelayOptions, 'signal'> & { maxDrainMs?: number },
): HttpFunction {
  const maxDrainMs = options.maxDrainMs ?? 50_000;
  const logger = options.logger ?? silentLogger;
  return async (req, res) => {
    const asked = Number(req.query?.ms ?? (req.body as { ms?: unknown } | undefined)?.ms ?? maxDrainMs);
    const ms = Number.isFinite(asked) && asked > 0 ? Math.min(asked, maxDrainMs) : maxDrainMs;
    try {
      res.status(200).json(await drainMysqlFor(options, ms, { stayUntilDeadline: true }));
    } catch (error) {
      const described = describeError(error);
      logger.error('outbox drain failed', described);
      res.status(500).json({ error: described.error, code: described.code });
    }
  };
}
