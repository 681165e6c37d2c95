/**
 * A database change too large for one Pub/Sub message. Pub/Sub takes at most 10 MB per message
 * and per publish request (https://cloud.google.com/pubsub/quotas#resource_limits; Google
 * refuses a larger request with "request_size is too large … the maximum value is 10000000").
 * A change over it failed its publish forever, and since the relay publishes in order it stopped
 * table → sheet sync for the whole database. Google's emulator does not enforce the limit (it
 * took a 10.5 MB message, and a 12 MB one stalled until the client's 60 s deadline), so the
 * relay enforces it itself. Pure: no I/O, no clock.
 *
 * What reaches the sheet: the change with its largest values replaced, largest first, until it
 * fits. A text longer than a sheet cell holds (50,000 characters) appears on the sheet as its
 * preview anyway (coercion.sheetPreview: its start and a note with its length, SHEETSYNC_E509),
 * so such a value travels as that preview, and the sheet shows what it would have shown; other
 * values travel as a short note. The row's other cells travel as they are, and the table keeps
 * the whole value. Values are replaced only
 * in a change that does not fit, so a long value that fits still travels whole (and is
 * previewed by applyToSheet). Whatever remains always fits: a key fits a btree entry (about
 * 2.7 KB) and a table has at most 1,600 columns.
 */
import { SHEET_CELL_MAX_CHARS, sheetPreview } from '../core/coercion.ts';
import type { DbChangeMessage } from '../wire/db-change.ts';

/** Pub/Sub's limit on a message and on a publish request, in bytes. */
export const PUBSUB_MAX_MESSAGE_BYTES = 10_000_000;

/**
 * A change's JSON stays at or under this many bytes: a message adds its batch wrapper, ordering
 * key (at most 1 KB) and attributes, and its request the topic name.
 */
export const MAX_CHANGE_BYTES = 9_000_000;

/** A value replaced to make a change fit. */
export interface ReplacedValue {
  column: string;
  /** `cells` (the new values) or `old` (the row before a DELETE or key change). */
  part: 'cells' | 'old';
  /** Its length as text on the sheet (characters), and its size in the change's JSON (bytes). */
  chars: number;
  bytes: number;
}

export interface FittedChange {
  change: DbChangeMessage;
  /** The JSON size of the change as it came, in bytes. */
  bytes: number;
  replaced: ReplacedValue[];
}

/** The byte length of a change's JSON, `json`, when it may pass `maxBytes` (else a lower bound). */
export function jsonBytes(json: string, maxBytes: number): number {
  // A UTF-16 unit takes at most 3 bytes in UTF-8: no need to encode what cannot pass.
  return json.length * 3 <= maxBytes ? json.length : Buffer.byteLength(json);
}

/** `change` (whose JSON is `json`) with its largest values replaced until it fits `maxBytes`. */
export function fitChange(change: DbChangeMessage, json: string, maxBytes = MAX_CHANGE_BYTES): FittedChange {
  const bytes = Buffer.byteLength(json);
  const parts = { cells: { ...change.cells }, old: change.old ? { ...change.old } : undefined };
  const candidates: Array<ReplacedValue & { text: string }> = [];
  for (const part of ['cells', 'old'] as const) {
    for (const [column, value] of Object.entries(parts[part] ?? {})) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      candidates.push({
        column,
        part,
        chars: text.length,
        bytes: Buffer.byteLength(JSON.stringify(value)),
        text,
      });
    }
  }
  candidates.sort((a, b) => b.bytes - a.bytes);
  const replaced: ReplacedValue[] = [];
  let total = bytes;
  for (const { text, ...candidate } of candidates) {
    if (total <= maxBytes) break;
    const marker = shownInstead(parts[candidate.part]![candidate.column]!, text);
    total += Buffer.byteLength(JSON.stringify(marker)) - candidate.bytes;
    parts[candidate.part]![candidate.column] = marker;
    replaced.push(candidate);
  }
  return {
    change: { ...change, cells: parts.cells, ...(parts.old ? { old: parts.old } : {}) },
    bytes,
    replaced,
  };
}

/**
 * What the sheet is sent instead of a value that does not fit: a long text, the preview the sheet
 * shows of it anyway; anything else (a JSON document or an array, or a text of a row with
 * hundreds of long cells), a note, which the sheet shows in its place.
 */
function shownInstead(value: unknown, text: string): string {
  if (typeof value === 'string' && text.length > SHEET_CELL_MAX_CHARS) return sheetPreview(text);
  return `[sheetsync: ${text.length.toLocaleString('en-US')} characters in the database; too large to send to the sheet]`;
}
