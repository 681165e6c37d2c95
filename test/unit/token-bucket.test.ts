import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffMs, type Clock, TokenBucket } from '../../functions/src/adapters/sheets/token-bucket.ts';

/** A clock that only moves when someone sleeps. */
function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe('TokenBucket', () => {
  it('never admits more than perMinute requests in any 60 s window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 300 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 50, maxLength: 400 }),
        async (perMinute, gaps) => {
          const clock = fakeClock();
          const bucket = new TokenBucket({ perMinute, clock });
          const sent: number[] = [];
          for (const gap of gaps) {
            clock.t += gap;
            await bucket.take();
            sent.push(clock.t);
          }
          for (let i = 0; i < sent.length; i++) {
            let j = i;
            while (j < sent.length && sent[j]! < sent[i]! + 60_000) j++;
            expect(j - i).toBeLessThanOrEqual(perMinute);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('lets a burst go at once and then paces', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 60, burst: 10, clock });
    for (let i = 0; i < 10; i++) await bucket.take();
    expect(clock.t).toBe(0);
    await bucket.take();
    expect(clock.t).toBeGreaterThan(0);
    // The sustained rate is (60 − 10) per minute: 50 more take about a minute.
    for (let i = 0; i < 49; i++) await bucket.take();
    expect(clock.t).toBeGreaterThanOrEqual(58_000);
    expect(clock.t).toBeLessThanOrEqual(61_000);
  });

  it('waits a full refill after drain()', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 60, burst: 10, clock });
    bucket.drain();
    await bucket.take();
    expect(clock.t).toBeGreaterThanOrEqual(1000);
  });
});

describe('TokenBucket.ready', () => {
  it('resolves at once with a full bucket and takes no token', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 60, clock });
    await bucket.ready();
    expect(clock.t).toBe(0);
    for (let i = 0; i < bucket.burst; i++) await bucket.take();
    expect(clock.t).toBe(0); // the whole burst was still there
  });

  it('spaces callers out as the bucket empties, and never resolves before a token is there', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 60, burst: 10, clock }); // a token every 1.2 s
    const gaps: number[] = [];
    let last = clock.t;
    for (let i = 0; i < 30; i++) {
      await bucket.ready();
      gaps.push(clock.t - last);
      last = clock.t;
      await bucket.take();
      expect(clock.t - last).toBe(0); // ready() promised a token
    }
    // Spaced from the start (not 10 at once, then one per 1.2 s)...
    expect(gaps.slice(1, 10).every((g) => g > 0)).toBe(true);
    expect(gaps.slice(1, 10)).toEqual([...gaps.slice(1, 10)].sort((a, b) => a - b));
    // ...and in the steady state one per refill interval, as take() alone would.
    for (const g of gaps.slice(-5)) expect(g).toBeGreaterThanOrEqual(1190);
    for (const g of gaps.slice(-5)) expect(g).toBeLessThanOrEqual(1210);
  });
});

describe('backoffMs', () => {
  it('grows exponentially, stays within [ceiling/2, ceiling] and is truncated', () => {
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 1)).toBe(1000);
    expect(backoffMs(3, () => 1)).toBe(8000);
    expect(backoffMs(20, () => 1)).toBe(64_000);
    expect(backoffMs(20, () => 0)).toBe(32_000);
  });
});
