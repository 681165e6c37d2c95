/**
 * The model clock of the Apps Script limits model (emulator/src/apps-script/virtual-clock.ts):
 * model time moves only by scheduled durations, never while something holds the clock (an
 * execution computing), events happen in time order one at a time, and `timeScale` only paces it.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../emulator/src/apps-script/virtual-clock.ts';

const ORIGIN = Date.UTC(2026, 0, 1);
const realSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Busy-waits: real time spent computing. */
const compute = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};

describe('the virtual clock', () => {
  it('stands still while an execution computes, and counts only its waits', async () => {
    const clock = new VirtualClock(0, ORIGIN);
    const execution = clock.join();
    compute(50);
    expect(clock.now()).toBe(ORIGIN);
    await execution.sleep(300);
    compute(50);
    await execution.sleep(20);
    expect(clock.now()).toBe(ORIGIN + 320);
    execution.end();
  });

  it('runs concurrent executions in model-time order, one at a time, ties in the order scheduled', async () => {
    const clock = new VirtualClock(0, ORIGIN);
    const trace: string[] = [];
    let computing = 0;
    const run = async (name: string, waits: number[]) => {
      const execution = clock.join();
      for (const ms of waits) {
        await execution.sleep(ms);
        trace.push(`${name}@${clock.now() - ORIGIN}`);
        computing++;
        expect(computing).toBe(1);
        await realSleep(Math.random() * 5); // real time, in any order: it must not matter
        computing--;
      }
      execution.end();
    };
    const runs = Promise.all([run('a', [100, 100, 50]), run('b', [50, 150, 100])]);
    await runs;
    // At 200 both are due: b scheduled its wake first (at 50, a at 100).
    expect(trace).toEqual(['b@50', 'a@100', 'b@200', 'a@200', 'a@250', 'b@300']);
  });

  it('without pacing, lets idle time pass only by advance, firing what is due on the way', async () => {
    const clock = new VirtualClock(0, ORIGIN);
    const fired: number[] = [];
    for (const at of [60_000, 120_000, 180_000])
      clock.schedule(ORIGIN + at, () => fired.push(clock.now() - ORIGIN));
    await realSleep(20);
    expect(fired).toEqual([]);
    await clock.advance(150_000);
    expect(fired).toEqual([60_000, 120_000]);
    expect(clock.now()).toBe(ORIGIN + 150_000);
  });

  it('goes straight to the next event while an execution is live, even past idle events', async () => {
    const clock = new VirtualClock(0, ORIGIN);
    const fired: number[] = [];
    clock.schedule(ORIGIN + 60_000, () => fired.push(clock.now() - ORIGIN));
    const execution = clock.join();
    await execution.sleep(90_000);
    expect(fired).toEqual([60_000]);
    expect(clock.now()).toBe(ORIGIN + 90_000);
    execution.end();
  });

  it('paces model time to real time with a timeScale, counting none of the computing', async () => {
    const clock = new VirtualClock(0.01, ORIGIN);
    const execution = clock.join();
    const started = Date.now();
    await execution.sleep(10_000); // 100 ms of real time at least
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(clock.now()).toBe(ORIGIN + 10_000);
    compute(100);
    expect(clock.now()).toBe(ORIGIN + 10_000);
    execution.end();
    // Idle, it flows with real time (up to the next event).
    await realSleep(50);
    expect(clock.now()).toBeGreaterThan(ORIGIN + 10_000);
  });

  it('cancels what an ended execution waited for, and lets the clock go on', async () => {
    const clock = new VirtualClock(0, ORIGIN);
    const stopped = clock.join();
    let woke = false;
    void stopped.sleep(1_000).then(() => {
      woke = true;
    });
    const other = clock.join();
    clock.schedule(ORIGIN + 500, () => stopped.end());
    await other.sleep(2_000);
    expect(woke).toBe(false);
    expect(clock.now()).toBe(ORIGIN + 2_000);
    other.end();
  });

  it('refuses a negative or unbounded timeScale', () => {
    expect(() => new VirtualClock(-1)).toThrow(/timeScale/);
    expect(() => new VirtualClock(Number.POSITIVE_INFINITY)).toThrow(/timeScale/);
  });
});
