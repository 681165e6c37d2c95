/**
 * Size-bounded chunking: items cut, in order, into consecutive chunks whose size stays within a
 * bound (bytes of a Pub/Sub message or request, of a Sheets API request body). Greedy: a chunk
 * takes items until the next one would pass the bound, so the chunks are as few as the order
 * allows. An item too large for any chunk gets a chunk of its own, or an error, as the caller
 * chooses. Pure: no I/O.
 *
 * The Apps Script cuts large edit events with a copy of its own (`sendInParts_` in
 * apps-script/sheetsync.js): the script cannot import this module.
 */

/** What bounds a chunk, and how an item is measured. */
export interface ChunkBound<T> {
  /** The size of one item, in the unit of `maxSize`; called once per item, in order. */
  sizeOf: (item: T) => number;
  /** A chunk's size (`overhead` plus its items' sizes) stays at or under this. */
  maxSize: number;
  /** The size of a chunk before its first item: the framing around the items. Default 0. */
  overhead?: number;
  /** Items per chunk at most. Default: no limit but the size. */
  maxItems?: number;
  /**
   * An item that alone passes `maxSize`: `'alone'` (default) puts it in a chunk of its own,
   * `'throw'` throws an OversizedItemError before any chunk is returned.
   */
  oversized?: 'alone' | 'throw';
}

/** An item too large for any chunk, under `oversized: 'throw'`. */
export class OversizedItemError extends Error {
  override name = 'OversizedItemError';
  constructor(
    /** The item's position in the input. */
    readonly index: number,
    /** Its size with the chunk's overhead. */
    readonly size: number,
    readonly maxSize: number,
  ) {
    super(`item ${index} is ${size} in size with its chunk's overhead; a chunk holds at most ${maxSize}`);
  }
}

/**
 * `items` in consecutive chunks, in order, each item once. Every chunk's size is at most
 * `maxSize`, and it holds at most `maxItems`, except a chunk of one item that alone passes
 * `maxSize` (unless `oversized` is `'throw'`). No empty chunk; no items, no chunks.
 */
export function chunkBySize<T>(items: readonly T[], bound: ChunkBound<T>): T[][] {
  const { sizeOf, maxSize, overhead = 0, maxItems = Number.POSITIVE_INFINITY } = bound;
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = overhead;
  items.forEach((item, index) => {
    const itemSize = sizeOf(item);
    if (bound.oversized === 'throw' && overhead + itemSize > maxSize)
      throw new OversizedItemError(index, overhead + itemSize, maxSize);
    if (current.length > 0 && (current.length >= maxItems || size + itemSize > maxSize)) {
      chunks.push(current);
      current = [];
      size = overhead;
    }
    current.push(item);
    size += itemSize;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}
