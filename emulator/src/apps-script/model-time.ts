/**
 * What an execution's model time is made of, under the limits model (limits.ts). Google does not
 * publish how long its services take ("Using JavaScript operations within your script is
 * considerably faster than calling other services", https://developers.google.com/apps-script/guides/support/best-practices),
 * so the model assumes a fixed cost per service call, and the latency a test gives the servers a
 * script fetches from. Nothing else takes model time: a script's own JavaScript takes none,
 * however long the machine takes to run it.
 *
 * - Each service call (SpreadsheetApp, PropertiesService, CacheService, LockService, ScriptApp,
 *   UrlFetchApp) takes `serviceCallMs`, counted after its effect: a write is visible to other
 *   executions from the call on; the script goes on `serviceCallMs` later.
 * - UrlFetchApp takes `serviceCallMs` plus the server's `serverLatencyMs`, after the real HTTP
 *   exchange (whose real time counts for nothing); a server slower than UrlFetchApp's 60-second
 *   deadline is not waited for, and the fetch throws `Timeout: <url>` at 60 model seconds.
 * - Utilities.sleep(ms) takes ms; a lock wait takes until the lock is handed over or the wait
 *   times out, plus `serviceCallMs`. Logging takes nothing.
 */
import { FETCH_TIMEOUT_MS, fetchOverHttp } from './http-fetch.ts';
import type { ServiceOp } from './protocol.ts';
import type { HostTime } from './script-host.ts';
import type { ClockParticipant, VirtualClock } from './virtual-clock.ts';
import type { ServeCall } from './worker-pool.ts';

/** The model's assumed durations. */
export interface ModelCosts {
  /** Model milliseconds of one service call. Default {@link SERVICE_CALL_MS}. */
  serviceCallMs: number;
  /**
   * The latency of the server at `url`, in model milliseconds, added to a UrlFetchApp call to
   * it; `Infinity` for a server that never answers. Default 0.
   */
  serverLatencyMs: (url: string) => number;
}

/**
 * The assumed cost of one service call: of the order a script measures for a small Sheets read
 * or a Properties call. Not documented by Google.
 */
export const SERVICE_CALL_MS = 20;

export const DEFAULT_COSTS: ModelCosts = { serviceCallMs: SERVICE_CALL_MS, serverLatencyMs: () => 0 };

/** Calls that take no model time of their own, or charge their own (see above). */
const UNCHARGED: ReadonlySet<ServiceOp> = new Set<ServiceOp>(['log', 'clock.sleep', 'url.fetch']);

/**
 * The host's time on the model clock, for executions that joined it (`participantOf`); others
 * (none, under the limits model) get real time.
 */
export function modelHostTime(
  clock: VirtualClock,
  participantOf: (runId: number) => ClockParticipant | undefined,
  costs: ModelCosts,
): HostTime {
  return {
    now: () => clock.now(),
    sleep: async (runId, ms) => participantOf(runId)?.sleep(ms),
    suspend: (runId, waiting) => participantOf(runId)?.suspend(waiting) ?? waiting,
    async fetch(request, runId) {
      const participant = participantOf(runId);
      if (!participant) return fetchOverHttp(request, AbortSignal.timeout(FETCH_TIMEOUT_MS));
      const latency = costs.serverLatencyMs(request.url);
      if (!(costs.serviceCallMs + latency < FETCH_TIMEOUT_MS)) {
        // The request goes out; the script gives up on it at the deadline.
        const giveUp = new AbortController();
        fetchOverHttp(request, AbortSignal.any([giveUp.signal, participant.signal])).catch(() => {});
        await participant.sleep(FETCH_TIMEOUT_MS);
        giveUp.abort();
        throw new Error(`Timeout: ${request.url}`);
      }
      // The execution holds the clock through the real exchange: its real time is no model time.
      try {
        const response = await fetchOverHttp(
          request,
          AbortSignal.any([AbortSignal.timeout(FETCH_TIMEOUT_MS), participant.signal]),
        );
        await participant.sleep(costs.serviceCallMs + latency);
        return response;
      } catch (error) {
        const timedOut = (error as Error).message.startsWith('Timeout:');
        await participant.sleep(timedOut ? FETCH_TIMEOUT_MS : costs.serviceCallMs);
        throw error;
      }
    },
  };
}

/**
 * Charges each service call of an execution on the model clock its cost, and stamps the answer
 * with the model time it comes back at (the script's Date reads it).
 */
export function chargeServiceCalls(
  serve: ServeCall,
  clock: VirtualClock,
  participantOf: (runId: number) => ClockParticipant | undefined,
  costs: ModelCosts,
): ServeCall {
  return async (call, runId) => {
    const reply = await serve(call, runId);
    const participant = participantOf(runId);
    if (!participant) return reply;
    if (!UNCHARGED.has(call.op)) await participant.sleep(costs.serviceCallMs);
    return { ...reply, now: clock.now() };
  };
}
