/**
 * Cloud Scheduler's two jobs, locally: terraform/relay.tf starts an outboxRelay drain of
 * relay_drain_seconds every minute (`* * * * *`, POST {"ms": …}); terraform/scheduler.tf starts
 * reconcile on reconcile_schedule (default: every 30 minutes on the clock). Each job
 * POSTs to its function's URL with the job's attempt deadline, like the scheduler (without OIDC:
 * the local functions are not behind Cloud Run's invoker check). The first drain starts at once,
 * as the first minute of a fresh deployment does.
 */

import type { Logger } from '../../../functions/src/log.ts';
import type { RelayCounters } from '../../../functions/src/relay/outbox-relay.ts';

export interface SchedulerOptions {
  relayUrl: string;
  reconcileUrl: string;
  /** terraform/variables.tf relay_drain_seconds (default 75). */
  relayDrainSeconds: number;
  /** Minutes between reconcile starts, on the clock (terraform/variables.tf: every 30). */
  reconcileEveryMinutes: number;
  logger: Logger;
}

export interface Scheduler {
  /** What the drains this scheduler started answered, for the dashboard. */
  relayCounters(): RelayCounters;
  stop(): void;
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  const stop = new AbortController();
  const counters: RelayCounters = {
    active: false,
    published: 0,
    batches: 0,
    lastBatchSize: 0,
    lagMs: 0,
    outboxDepth: 0,
    errors: 0,
  };
  let running = 0;
  const drain = async () => {
    running++;
    counters.active = true;
    try {
      const answer = (await post(
        options.relayUrl,
        { ms: options.relayDrainSeconds * 1000 },
        60 + options.relayDrainSeconds,
        stop.signal,
      )) as {
        acquired?: boolean;
        published?: number;
        batches?: number;
      };
      // A drain that found the lock held past its deadline did nothing: worth seeing in the log.
      if (answer.acquired === false)
        options.logger.info('a scheduled outboxRelay start found another drain holding the lock');
      counters.published += answer.published ?? 0;
      counters.batches += answer.batches ?? 0;
    } catch (error) {
      if (!stop.signal.aborted) {
        counters.errors++;
        options.logger.warn(`a scheduled outboxRelay start failed: ${(error as Error).message}`);
      }
    } finally {
      counters.active = --running > 0;
    }
  };
  const reconcile = async () => {
    await post(options.reconcileUrl, undefined, 1800, stop.signal).catch((error: Error) => {
      if (!stop.signal.aborted) options.logger.warn(`a scheduled reconcile failed: ${error.message}`);
    });
  };
  void drain();
  const relayTimer = setInterval(() => void drain(), 60_000);
  // On the clock, like cron: the next multiple of the period, then every period.
  const period = options.reconcileEveryMinutes * 60_000;
  let reconcileTimer: NodeJS.Timeout | undefined;
  const first = setTimeout(
    () => {
      void reconcile();
      reconcileTimer = setInterval(() => void reconcile(), period);
    },
    period - (Date.now() % period),
  );
  return {
    relayCounters: () => ({ ...counters }),
    stop: () => {
      stop.abort();
      clearInterval(relayTimer);
      clearTimeout(first);
      clearInterval(reconcileTimer);
    },
  };
}

async function post(
  url: string,
  body: unknown,
  deadlineSeconds: number,
  stop: AbortSignal,
): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.any([stop, AbortSignal.timeout(deadlineSeconds * 1000)]),
  });
  const answer = (await response.json().catch(() => ({}))) as unknown;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return answer;
}
