/**
 * Dots and version vectors (DESIGN.md §2, "Dots and idempotency").
 *
 * A dot names one change: `sheet:n` is the n-th sheet change applied to a row (n is a per-row
 * counter assigned on first application and remembered under the Apps Script's event id), and
 * `db:m` is the DB change with outbox id m. A row's version vector `{sheet, db}` covers a dot
 * when the dot's counter is at most the vector's entry for its origin:
 * - sheet counters are dense per row, so `sheet ≤ vv.sheet` means "already applied";
 * - outbox ids are sparse but increase per row in commit order (row locks serialise the writers
 *   of one row) and Pub/Sub's ordering key delivers them in order the first time, so
 *   `db ≤ vv.db` means "already consumed", and a replayed older message is a duplicate.
 */

export type Origin = 'sheet' | 'db';

export interface Dot {
  origin: Origin;
  counter: number;
}

export interface VersionVector {
  sheet: number;
  db: number;
}

export const emptyVersionVector: VersionVector = Object.freeze({ sheet: 0, db: 0 });

/** `sheet:12` or `db:4711`: the form stored in documents and sent in `SET LOCAL sheetsync.dot`. */
export function formatDot(dot: Dot): string {
  return `${dot.origin}:${dot.counter}`;
}

const dotPattern = /^(sheet|db):([1-9][0-9]{0,15})$/;

/** Parses `formatDot`'s output; undefined for anything else. */
export function parseDot(text: string): Dot | undefined {
  const match = dotPattern.exec(text);
  if (!match) return undefined;
  const counter = Number(match[2]);
  if (!Number.isSafeInteger(counter)) return undefined;
  return { origin: match[1] as Origin, counter };
}

export function covers(vv: VersionVector, dot: Dot): boolean {
  return dot.counter <= vv[dot.origin];
}

/** Pointwise maximum: the vector of a state that has seen both. */
export function joinVectors(a: VersionVector, b: VersionVector): VersionVector {
  return { sheet: Math.max(a.sheet, b.sheet), db: Math.max(a.db, b.db) };
}

export function advance(vv: VersionVector, dot: Dot): VersionVector {
  return { ...vv, [dot.origin]: Math.max(vv[dot.origin], dot.counter) };
}
