/**
 * chunkBySize, the one size-bounded chunking of the TypeScript (webhook batches, relay messages,
 * Sheets request bodies, Pub/Sub publish requests): table-driven cases, then properties over
 * random sizes and bounds: every item once and in order, each chunk within the bound unless one
 * item alone passes it, and greedy (a chunk ends only where the next item would not fit).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkBound, chunkBySize, OversizedItemError } from '../../functions/src/core/chunk-by-size.ts';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 300);
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

/** Items are their own sizes. */
const bySelf = (bound: Omit<ChunkBound<number>, 'sizeOf'>): ChunkBound<number> => ({
  sizeOf: (n) => n,
  ...bound,
});

describe('chunkBySize', () => {
  it.each<[string, number[], Omit<ChunkBound<number>, 'sizeOf'>, number[][]]>([
    ['no items, no chunks', [], { maxSize: 10 }, []],
    ['all fit in one', [1, 2, 3], { maxSize: 10 }, [[1, 2, 3]]],
    ['a chunk may reach the bound exactly', [4, 6, 1], { maxSize: 10 }, [[4, 6], [1]]],
    [
      'a new chunk when the next would pass it',
      [4, 4, 4, 4],
      { maxSize: 10 },
      [
        [4, 4],
        [4, 4],
      ],
    ],
    ['the overhead counts in every chunk', [4, 4, 4], { maxSize: 10, overhead: 2 }, [[4, 4], [4]]],
    ['an item too large alone gets a chunk of its own', [3, 12, 3], { maxSize: 10 }, [[3], [12], [3]]],
    ['first and last items too large', [12, 1, 13], { maxSize: 10 }, [[12], [1], [13]]],
    ['too large with the overhead only', [9, 9], { maxSize: 10, overhead: 2 }, [[9], [9]]],
    ['at most maxItems a chunk', [1, 1, 1, 1, 1], { maxSize: 100, maxItems: 2 }, [[1, 1], [1, 1], [1]]],
    ['both bounds', [5, 5, 1, 1, 1], { maxSize: 10, maxItems: 2 }, [[5, 5], [1, 1], [1]]],
    ['zero-size items fill by count', [0, 0, 0], { maxSize: 0, maxItems: 2 }, [[0, 0], [0]]],
  ])('%s', (_, items, bound, chunks) => {
    expect(chunkBySize(items, bySelf(bound))).toEqual(chunks);
  });

  it('measures each item once, in order', () => {
    const measured: string[] = [];
    const chunks = chunkBySize(['aa', 'bbb', 'c', 'dddd'], {
      sizeOf: (s) => {
        measured.push(s);
        return s.length;
      },
      maxSize: 4,
    });
    expect(measured).toEqual(['aa', 'bbb', 'c', 'dddd']);
    expect(chunks).toEqual([['aa'], ['bbb', 'c'], ['dddd']]);
  });

  it("throws for an item too large alone when the caller says 'throw', naming it", () => {
    const run = () => chunkBySize([3, 4, 9, 1], bySelf({ maxSize: 10, overhead: 2, oversized: 'throw' }));
    expect(run).toThrow(OversizedItemError);
    expect(run).toThrow(expect.objectContaining({ index: 2, size: 11, maxSize: 10 }));
    expect(chunkBySize([3, 4, 8], bySelf({ maxSize: 10, overhead: 2, oversized: 'throw' }))).toEqual([
      [3, 4],
      [8],
    ]);
  });

  const cases = fc.record({
    sizes: fc.array(fc.nat({ max: 60 }), { maxLength: 80 }),
    maxSize: fc.nat({ max: 50 }),
    overhead: fc.nat({ max: 8 }),
    maxItems: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  });

  it('keeps every item once, in order, in chunks within the bounds, greedily', () => {
    fc.assert(
      fc.property(cases, ({ sizes, maxSize, overhead, maxItems }) => {
        // Items are distinct objects, so "once" is checked by identity, not by size.
        const items = sizes.map((size, id) => ({ id, size }));
        const chunks = chunkBySize(items, {
          sizeOf: (item) => item.size,
          maxSize,
          overhead,
          ...(maxItems !== undefined ? { maxItems } : {}),
        });
        expect(chunks.flat()).toEqual(items);
        const total = (chunk: readonly { size: number }[]) =>
          chunk.reduce((sum, item) => sum + item.size, overhead);
        chunks.forEach((chunk, i) => {
          expect(chunk.length).toBeGreaterThan(0);
          if (maxItems !== undefined) expect(chunk.length).toBeLessThanOrEqual(maxItems);
          const alone = chunk.length === 1 && overhead + chunk[0]!.size > maxSize;
          if (!alone) expect(total(chunk)).toBeLessThanOrEqual(maxSize);
          // Greedy: the next chunk's first item would not have fitted in this one.
          const next = chunks[i + 1]?.[0];
          if (next)
            expect(
              (maxItems !== undefined && chunk.length >= maxItems) || total(chunk) + next.size > maxSize,
            ).toBe(true);
        });
      }),
      { numRuns },
    );
  });

  it("under 'throw', throws exactly when an item alone passes the bound", () => {
    fc.assert(
      fc.property(cases, ({ sizes, maxSize, overhead }) => {
        const first = sizes.findIndex((size) => overhead + size > maxSize);
        const run = () => chunkBySize(sizes, bySelf({ maxSize, overhead, oversized: 'throw' }));
        if (first === -1) expect(run().flat()).toEqual(sizes);
        else expect(run).toThrow(expect.objectContaining({ index: first }));
      }),
      { numRuns },
    );
  });
});
