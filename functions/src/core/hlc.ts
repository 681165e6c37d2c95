/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): a wall-clock time in
 * milliseconds plus a logical counter that breaks ties and keeps causality when clocks skew. The
 * core never reads a clock: callers pass `now`.
 *
 * Invariant kept by the merge: the time stored for a cell is greater than the time of every
 * value it superseded, so last-writer-wins never lets an older change beat one that had seen it.
 */

export interface Hlc {
  /** Milliseconds since the epoch. */
  wall: number;
  logical: number;
}

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical;
}

export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/** A local event at `now` after `last`. */
export function tick(last: Hlc, now: number): Hlc {
  return now > last.wall ? { wall: now, logical: 0 } : { wall: last.wall, logical: last.logical + 1 };
}

/** The time of an event that carries `remote` and happens after `local` was seen. */
export function receive(local: Hlc, remote: Hlc): Hlc {
  if (compareHlc(remote, local) > 0) return remote;
  return { wall: local.wall, logical: local.logical + 1 };
}

/** Sortable text form `0001732540000000.0003` (16-digit wall, 4+ digit logical). */
export function formatHlc(time: Hlc): string {
  return `${String(time.wall).padStart(16, '0')}.${String(time.logical).padStart(4, '0')}`;
}
