/**
 * Chaos: the script's queue under Google's limits. The real apps-script/ in the local sheet's
 * Apps Script runtime under the model of Google's limits (emulator/src/apps-script/limits.ts),
 * with its minute trigger draining the queue as Set up installs it, against the real webhook
 * handler with latency.
 *
 * - A backlog of 2,000 queued events with 300 ms of webhook latency: every minute's drain stops
 *   within its time budget, before the 6-minute limit; every event is delivered exactly once, in
 *   order, and the queue tab ends empty.
 * - A drain that is stopped at the limit where it is (its budget raised past 6 minutes): what it
 *   delivered has left the queue, the next run goes on from there, and the one event in flight
 *   when it was stopped is answered 409 when sent again.
 *
 * Time is the limits model's (virtual-clock.ts, model-time.ts): the webhook's latency and each
 * service call's cost are model time, the script's own computing none, and the clock is not paced
 * (timeScale 0): the test lets model minutes pass at once, so the runs, their durations and what
 * each delivers are the same on a loaded machine as on an idle one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE, type ScriptHarness, startScriptHarness } from '../integration/apps-script-harness.ts';

/**
 * Queues `count` edit events (rows 2 on) while the webhook fails, in runs of at most `perRun`: each
 * run must stay inside the modelled 6 minutes.
 */
async function queueBacklog(h: ScriptHarness, count: number, perRun = 500): Promise<void> {
  await h.webhook.setMode('failing');
  for (let first = 2; first < count + 2; first += perRun) {
    const run = await h.run('editRows', [first, Math.min(perRun, count + 2 - first)]);
    expect(run.status, run.error).toBe('COMPLETED');
  }
  expect(h.rowsOf(QUEUE)).toBe(count);
}

const namesOf = (count: number) => Array.from({ length: count }, (_, i) => `name ${i + 2}`);

describe('chaos: a backlog of 2,000 queued events, 300 ms of webhook latency, the 6-minute limit', () => {
  let h: ScriptHarness;
  beforeAll(async () => {
    h = await startScriptHarness({ timeScale: 0, limits: {}, clock: true });
  });
  afterAll(() => h?.close());

  // Some 60,000 service calls between threads: 20 s on an idle machine, up to 80 s when other
  // processes keep both cores busy. Load slows it; it no longer changes what the model sees.
  it('delivers every event once and in order, each drain within the limit, and empties the queue', async () => {
    const runtime = h.emulator.appsScript!;
    await queueBacklog(h, 2_000);
    const queuedAt = h.webhook.arrivals.length;
    const executionsBefore = runtime.executions().length;
    h.webhook.latencyMs = 300;
    await h.webhook.setMode('up');

    expect(await h.advanceUntil(() => h.rowsOf(QUEUE) === 0, 30 * 60_000)).toBe(true);
    await h.advance(2 * 60_000); // two more minute triggers: nothing is sent again
    const arrivals = h.webhook.arrivals.slice(queuedAt);
    expect(arrivals.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(new Set(arrivals.map((a) => a.eventId)).size).toBe(2_000);
    expect(arrivals).toHaveLength(2_000);
    expect(h.names()).toEqual(namesOf(2_000));

    const executions = runtime.executions().slice(executionsBefore);
    expect(executions.filter((e) => e.status === 'FAILED')).toEqual([]);
    const drains = executions.filter((e) => e.functionName === 'flushQueue');
    // The drain took several runs (each stopped by its budget), none near the limit; durations
    // are model time.
    expect(drains.filter((e) => e.durationMs > 60_000).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...drains.map((e) => e.durationMs))).toBeLessThan(300_000);
  }, 240_000);
});

describe('chaos: a drain stopped at the 6-minute limit', () => {
  let h: ScriptHarness;
  beforeAll(async () => {
    // A budget of 10 model minutes: every drain that has work left is stopped at 6.
    h = await startScriptHarness({
      timeScale: 0,
      limits: {},
      clock: true,
      properties: { SHEETSYNC_DRAIN_MS: '600000' },
    });
  });
  afterAll(() => h?.close());

  it('goes on where the stopped one was, and sends the one in flight again (409)', async () => {
    const runtime = h.emulator.appsScript!;
    await queueBacklog(h, 300);
    const queuedAt = h.webhook.arrivals.length;
    // 3 model seconds an event: a 6-minute run delivers about a hundred.
    h.webhook.latencyMs = 3_000;
    await h.webhook.setMode('up');

    expect(await h.advanceUntil(() => h.rowsOf(QUEUE) === 0, 30 * 60_000)).toBe(true);
    const stopped = runtime
      .executions()
      .filter(
        (e) => e.functionName === 'flushQueue' && e.error === 'Exception: Exceeded maximum execution time',
      );
    expect(stopped.length).toBeGreaterThanOrEqual(2);
    const arrivals = h.webhook.arrivals.slice(queuedAt);
    const accepted = arrivals.filter((a) => a.status === 200).map((a) => a.eventId);
    expect(new Set(accepted).size).toBe(300);
    expect(accepted).toHaveLength(300);
    // Sent again: only events whose run was stopped while they were in flight, each answered 409.
    const again = arrivals.filter((a) => a.status !== 200);
    expect(again.every((a) => a.status === 409)).toBe(true);
    expect(again.length).toBeLessThanOrEqual(stopped.length);
    expect(h.names()).toEqual(namesOf(300));
  }, 120_000);
});
