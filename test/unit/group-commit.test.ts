import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../functions/src/handlers/group-commit.ts';

describe('GroupCommit', () => {
  it('flushes concurrent submissions together and gives each its own result', async () => {
    const flushes: number[][] = [];
    const group = new GroupCommit<number, number>(
      async (items) => {
        flushes.push(items);
        return items.map((i) => i * 10);
      },
      { windowMs: 20 },
    );
    const results = await Promise.all([1, 2, 3].map((i) => group.submit(i)));
    expect(results).toEqual([10, 20, 30]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('gathers what arrives during a flush into the next one', async () => {
    const flushes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const group = new GroupCommit<number, number>(
      async (items) => {
        flushes.push(items);
        if (flushes.length === 1) await gate;
        return items;
      },
      { windowMs: 1 },
    );
    const first = group.submit(1);
    await new Promise((r) => setTimeout(r, 10));
    const later = [2, 3, 4].map((i) => group.submit(i));
    release();
    await Promise.all([first, ...later]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('rejects every submitter of a failed flush, and keeps working', async () => {
    let fail = true;
    const group = new GroupCommit<number, number>(
      async (items) => {
        if (fail) throw new Error('boom');
        return items;
      },
      { windowMs: 1 },
    );
    const results = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await group.submit(3)).toBe(3);
  });

  it('splits at maxItems', async () => {
    const sizes: number[] = [];
    const group = new GroupCommit<number, number>(
      async (items) => {
        sizes.push(items.length);
        return items;
      },
      { windowMs: 5, maxItems: 4 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => group.submit(i)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });
  it('waits for ready() before taking a group, so what arrives meanwhile joins it', async () => {
    const flushes: number[][] = [];
    let open!: () => void;
    let readyCalls = 0;
    const group = new GroupCommit<number, number>(
      async (items) => {
        flushes.push(items);
        return items;
      },
      {
        windowMs: 5,
        ready: () => {
          readyCalls++;
          return new Promise<void>((r) => {
            open = r;
          });
        },
      },
    );
    const first = group.submit(1);
    await new Promise((r) => setTimeout(r, 30)); // the window has closed; ready() is pending
    expect(readyCalls).toBe(1);
    const later = [group.submit(2), group.submit(3)];
    open();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('still flushes when ready() fails (it is a pacing hint)', async () => {
    const group = new GroupCommit<number, number>(async (items) => items, {
      windowMs: 1,
      ready: () => Promise.reject(new Error('no budget information')),
    });
    expect(await group.submit(7)).toBe(7);
  });
  it('starts the next flush when a flush releases early, and gives results when each finishes', async () => {
    const events: string[] = [];
    let finishFirst!: () => void;
    const firstDone = new Promise<void>((r) => {
      finishFirst = r;
    });
    const group = new GroupCommit<number, number>(
      async (items, release) => {
        events.push(`start ${items.join(',')}`);
        if (items[0] === 1) {
          release();
          await firstDone;
        }
        events.push(`end ${items.join(',')}`);
        return items;
      },
      { windowMs: 1 },
    );
    const first = group.submit(1);
    await new Promise((r) => setTimeout(r, 20));
    const second = group.submit(2);
    expect(await second).toBe(2); // did not wait for the first to finish
    expect(events).toEqual(['start 1', 'start 2', 'end 2']);
    const drained = group.drain();
    finishFirst();
    expect(await first).toBe(1);
    await drained;
    expect(events).toEqual(['start 1', 'start 2', 'end 2', 'end 1']);
  });
});
