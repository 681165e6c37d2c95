import { describe, expect, it } from 'vitest';
import { withContentionRetry } from '../../functions/src/adapters/firestore-retry.ts';

const aborted = () => Object.assign(new Error('10 ABORTED: too much contention'), { code: 10 });

describe('withContentionRetry', () => {
  it('retries ABORTED with growing, jittered delays', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withContentionRetry(
      { random: () => 0.5, sleep: async (ms) => void delays.push(ms), baseDelayMs: 10 },
      async () => {
        calls++;
        if (calls < 4) throw aborted();
        return 'done';
      },
    );
    expect(result).toBe('done');
    expect(delays).toEqual([5, 10, 20]);
  });

  it('retries RESOURCE_EXHAUSTED (writes faster than Firestore has ramped up to)', async () => {
    let calls = 0;
    const exhausted = Object.assign(new Error('8 RESOURCE_EXHAUSTED: Quota exceeded.'), { code: 8 });
    const result = await withContentionRetry({ sleep: async () => {} }, async () => {
      calls++;
      if (calls < 3) throw exhausted;
      return 'written';
    });
    expect(result).toBe('written');
    expect(calls).toBe(3);
  });

  it('gives up with a retryable SHEETSYNC_E404 and passes other errors through', async () => {
    const options = { attempts: 3, sleep: async () => {} };
    await expect(withContentionRetry(options, async () => Promise.reject(aborted()))).rejects.toMatchObject({
      code: 'SHEETSYNC_E404',
      effect: 'retry',
    });
    const other = new Error('permission denied');
    await expect(withContentionRetry(options, async () => Promise.reject(other))).rejects.toBe(other);
  });
});
