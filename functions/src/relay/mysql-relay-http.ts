/** The MySQL relay as a scheduled HTTP function (functions/src/index.ts `outboxRelay` on MySQL). */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { drainHttpHandler } from './drain-http.ts';
import { drainMysqlFor, type MysqlRelayOptions } from './mysql-relay.ts';

/** The functions-framework HTTP handler draining for a bounded time, as outboxRelayHttpHandler. */
export function mysqlRelayHttpHandler(
  options: Omit<MysqlRelayOptions, 'signal'> & { maxDrainMs?: number },
): HttpFunction {
  return drainHttpHandler((ms) => drainMysqlFor(options, ms, { stayUntilDeadline: true }), options);
}
