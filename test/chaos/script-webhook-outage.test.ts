/**
 * Chaos: the webhook unreachable for minutes (nothing listens on its port). The real
 * apps-script/ in the local sheet's Apps Script runtime under the model of Google's limits, with
 * its minute trigger installed as Set up installs it. A person goes on editing through five model
 * minutes of outage, an edit every 20 model seconds: the queue tab takes every event, the minute
 * trigger's retries fail, and once the webhook listens again the minute trigger (no one flushes by
 * hand) drains the queue in order. Every event reaches the webhook once, signed afresh over its
 * UTF-8 bytes (the webhook checks a ±5 minute window on the same model clock).
 *
 * Time is the limits model's (virtual-clock.ts), not paced (timeScale 0): the test lets the model
 * seconds between edits pass at once, so the same edits meet the same minute triggers on any
 * machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE, type ScriptHarness, startScriptHarness, TAB } from '../integration/apps-script-harness.ts';

describe('chaos: the webhook unreachable for minutes', () => {
  let h: ScriptHarness;
  beforeAll(async () => {
    h = await startScriptHarness({ timeScale: 0, limits: {}, clock: true });
  });
  afterAll(() => h?.close());

  it('queues every event while the webhook is unreachable, then drains them in order, each once', async () => {
    const runtime = h.emulator.appsScript!;
    const upserts = () => h.webhook.published.filter((c) => c.op === 'upsert').map((c) => c.cells.name);
    await h.act([{ type: 'edit', range: `${TAB}!A2:B2`, values: [['k0', 'v0']] }]);
    expect(upserts()).toEqual(['v0']);

    await h.webhook.setMode('unreachable');
    const outageStarted = runtime.now();
    const typed: string[] = [];
    for (let i = 1; runtime.now() < outageStarted + 5 * 60_000; i++) {
      // Rows 2 to 5, round and round: new rows first, then edits of rows the queue already holds;
      // some of what people type is not ASCII.
      const row = 2 + (i % 4);
      const value = i % 3 === 0 ? `v${i} Zoë 😀` : `v${i}`;
      const results = await h.act([
        { type: 'edit', range: `${TAB}!A${row}:B${row}`, values: [[`k${row}`, value]] },
      ]);
      expect(results[0]!.triggers.map((t) => t.status)).not.toContain('FAILED');
      typed.push(value);
      await h.advance(20_000);
    }
    // A row deleted while it is down: a structure event joins the queue behind the edits.
    await h.act([{ type: 'deleteRows', sheet: TAB, index: 4, count: 1 }]);
    const minuteRuns = runtime
      .executions()
      .filter((e) => e.functionName === 'flushQueue' && e.type === 'CLOCK');
    expect(minuteRuns.length).toBeGreaterThanOrEqual(3);
    expect(h.webhook.arrivals).toHaveLength(1);
    expect(h.rowsOf(QUEUE)).toBeGreaterThan(typed.length);
    expect(typed.length).toBeGreaterThan(10);

    await h.webhook.setMode('up');
    expect(
      await h.advanceUntil(
        () => h.rowsOf(QUEUE) === 0 && h.webhook.arrivals.length > typed.length + 1,
        10 * 60_000,
      ),
    ).toBe(true);
    await h.advance(2 * 60_000); // two more minute triggers: nothing is sent again

    const ids = h.webhook.arrivals.map((a) => a.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(h.webhook.arrivals.every((a) => a.status !== null && a.status < 300)).toBe(true);
    expect(upserts()).toEqual(['v0', ...typed]);
    const deletes = h.webhook.published.filter((c) => c.op === 'delete');
    expect(deletes).toHaveLength(1);
    expect(h.webhook.published.at(-1)).toBe(deletes[0]);
    expect(runtime.executions().filter((e) => e.status === 'FAILED')).toEqual([]);
  }, 90_000);
});
