/**
 * The row document (DESIGN.md §2): what the version store keeps for one synced row, stored at
 * `sheetsync_links/{link}/rows/{rowId}`. It is the meeting point of the two apply functions:
 * applyToDb reads and writes it around its PostgreSQL transaction, applyToSheet around its flush.
 *
 * Per cell it keeps the decided value (both sides converge to it), the dot and HLC time of the
 * change that wrote it, and two facts about the sheet that make conflicts decidable later (see
 * docs/design/sync-core.md): when sheetsync last wrote the cell to the sheet, and what the sheet is
 * known to show.
 */
import type { Cells, CellValue } from './cell-value.ts';
import type { ConflictSide } from './conflict-policy.ts';
import { type Dot, emptyVersionVector, joinVectors, parseDot, type VersionVector } from './dot.ts';
import { compareHlc, type Hlc } from './hlc.ts';

export interface CellState {
  /** The decided value of the cell, in canonical form. */
  value: CellValue;
  /** `sheet:n` or `db:m`, the change that wrote `value`. */
  dot: string;
  /** HLC time of that change, raised above every value it superseded. */
  time: Hlc;
  /**
   * For a sheet dot: whether its effect at the DB is accounted for in the outbox stream (its
   * echo was consumed, or the write changed nothing so no echo will come). A DB change that
   * arrives while this is false was committed before that sheet change and is superseded.
   */
  echoed: boolean;
  /** What the sheet shows for the cell, as far as sheetsync knows. */
  sheetValue: CellValue;
  /** Wall time (ms) just after sheetsync last wrote the cell to the sheet; 0 if never. */
  sheetWrittenAt: number;
  /**
   * The DB change this sheet-written value beat in a conflict, while sheet edits made before
   * `sheetWrittenAt` (which never saw it either) may still arrive and must be decided against it.
   */
  contender?: Contender;
}

/** A DB change that lost (or was merged) in a conflict, and when it had been shown on the sheet. */
export interface Contender extends ConflictSide {
  shownAt: number;
}

export interface RememberedEvent {
  counter: number;
  wall: number;
}

export interface Tombstone {
  dot: string;
  time: Hlc;
}

export interface RowDocument {
  rowId: string;
  /** The row's primary key (column → value), once known. */
  key: Cells | null;
  vv: VersionVector;
  cells: Record<string, CellState>;
  tombstone: Tombstone | null;
  /** Apps Script event id → sheet counter and wall time of the recent sheet changes. */
  events: Record<string, RememberedEvent>;
  /** Wall time of the newest event id evicted from `events`; older unknown events are replays. */
  eventsFloor: number;
  /**
   * Wall time (ms) from which the row is known to be on the sheet: just after applyToSheet
   * appended it there, or the time of the sheet edit that created it; after a row came back
   * (a delete the database refused, a row reconcile put back), the time it came back: merges
   * keep the later time. A `structure` event lists the ids the tab held when the script read
   * them, at the event's time: a row that reached the sheet after that is missing from it
   * without having been deleted. Absent in documents written before it was kept.
   */
  onSheetSince?: number;
  /**
   * The row's cells marked as refused on the sheet (issue 22 item 2, core/cell-marks.ts), by
   * loose column name: `on` while the mark is there, `at` the sheet time of the change that set
   * or cleared it. Kept with the row so a redelivery decides the same and a later value of the
   * cell knows to clear it; merges keep each cell's later entry. Absent: nothing ever marked.
   */
  marks?: Record<string, CellMarkState>;
}

export interface CellMarkState {
  on: boolean;
  at: number;
}

/** How many event ids a row remembers (a document stays far below Firestore's 1 MiB). */
export const rememberedEvents = 256;

export function emptyRowDocument(rowId: string, key: Cells | null = null): RowDocument {
  return {
    rowId,
    key,
    vv: { ...emptyVersionVector },
    cells: {},
    tombstone: null,
    events: {},
    eventsFloor: 0,
  };
}

export function dotOf(state: CellState): Dot {
  const dot = parseDot(state.dot);
  if (!dot) throw new Error(`invalid dot ${state.dot} in a row document`);
  return dot;
}

/**
 * Joins the stored document with one computed from an older read of it. Both apply functions
 * commit through this (inside a store transaction), so their commits commute: vectors join,
 * event ids union, and per cell the later write by HLC time wins (the merge keeps stored times
 * above what they superseded, so "later" follows causality). Entries for the same dot merge
 * their bookkeeping.
 */
export function mergeRowDocuments(stored: RowDocument | undefined, next: RowDocument): RowDocument {
  if (!stored) return next;
  const cells: Record<string, CellState> = { ...stored.cells };
  for (const [column, incoming] of Object.entries(next.cells)) {
    const current = cells[column];
    cells[column] = current ? mergeCell(current, incoming) : incoming;
  }
  let tombstone = stored.tombstone ?? next.tombstone;
  if (stored.tombstone && next.tombstone && compareHlc(next.tombstone.time, stored.tombstone.time) > 0) {
    tombstone = next.tombstone;
  }
  const events = includesAll(next.events, stored.events) ? next.events : { ...stored.events, ...next.events };
  const since = [stored.onSheetSince, next.onSheetSince].filter((t) => t !== undefined);
  const marks = mergeMarks(stored.marks, next.marks);
  return trimEvents({
    rowId: next.rowId,
    key: next.key ?? stored.key,
    vv: joinVectors(stored.vv, next.vv),
    cells,
    tombstone,
    events,
    eventsFloor: Math.max(stored.eventsFloor, next.eventsFloor),
    ...(since.length > 0 ? { onSheetSince: Math.max(...since) } : {}),
    ...(marks ? { marks } : {}),
  });
}

/** Per cell the later entry by sheet time; at the same time a clear wins (the value synced). */
function mergeMarks(a: RowDocument['marks'], b: RowDocument['marks']): RowDocument['marks'] | undefined {
  if (!a || !b) return a ?? b;
  const marks = { ...a };
  for (const [column, entry] of Object.entries(b)) {
    const current = marks[column];
    if (!current || entry.at > current.at || (entry.at === current.at && !entry.on)) marks[column] = entry;
  }
  return marks;
}

function mergeCell(a: CellState, b: CellState): CellState {
  if (a.dot === b.dot) {
    const written = b.sheetWrittenAt >= a.sheetWrittenAt ? b : a;
    const value = compareHlc(b.time, a.time) >= 0 ? b : a;
    return {
      ...value,
      echoed: a.echoed || b.echoed,
      sheetValue: written.sheetValue,
      sheetWrittenAt: written.sheetWrittenAt,
    };
  }
  const winner = compareHlc(b.time, a.time) >= 0 ? b : a;
  const loser = winner === a ? b : a;
  // The sheet facts are about the sheet, not about the write: keep the newest.
  if (loser.sheetWrittenAt > winner.sheetWrittenAt) {
    return { ...winner, sheetValue: loser.sheetValue, sheetWrittenAt: loser.sheetWrittenAt };
  }
  return winner;
}

/**
 * Keeps the newest `rememberedEvents` event ids (by counter) and raises the floor to the newest
 * evicted time: an unknown event id older than the floor is treated as a replay (at most once
 * wins over a sheet edit that reaches us after 256 newer edits of the same row).
 */
export function trimEvents(doc: RowDocument): RowDocument {
  let count = 0;
  for (const _ in doc.events) count++;
  if (count <= rememberedEvents) return doc;
  const entries = Object.entries(doc.events);
  entries.sort((x, y) => y[1].counter - x[1].counter);
  const evicted = entries.slice(rememberedEvents);
  return {
    ...doc,
    events: Object.fromEntries(entries.slice(0, rememberedEvents)),
    eventsFloor: Math.max(doc.eventsFloor, ...evicted.map(([, e]) => e.wall)),
  };
}

/** Whether every event id of `part` is in `whole` (the common case: `next` was read from `stored`). */
function includesAll(whole: RowDocument['events'], part: RowDocument['events']): boolean {
  for (const id in part) if (!Object.hasOwn(whole, id)) return false;
  return true;
}
