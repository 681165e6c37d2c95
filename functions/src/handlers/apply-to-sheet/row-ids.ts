/**
 * applyToSheet, step 1 (decode): which sheet row each DB change names. Primary key → rowId by
 * direct reads of the key documents, and from the documents an earlier flush is still
 * committing; a row the database inserted gets an id derived from its change (rowIdForNewRow).
 */
import { createHash } from 'node:crypto';
import type { Cells } from '../../core/cell-value.ts';
import { keyId } from '../../core/key-id.ts';
import type { RowDocument } from '../../core/row-document.ts';
import type { VersionStore } from '../../ports.ts';
import type { DbChangeMessage } from '../../wire/db-change.ts';
import type { ColumnTypes } from './column-values.ts';

export interface ChangeRows {
  /** Per change: its key, and its key before an UPDATE that changed it. */
  keys: Cells[];
  previous: Array<Cells | undefined>;
  /** Per change: the row it names; undefined for a TRUNCATE or a delete of a row never synced. */
  rowIds: Array<string | undefined>;
  /** keyId → rowId of the live rows an earlier flush is still committing. */
  pendingLive: Map<string, string>;
  /** The rows DB INSERTs create if their key's row was deleted (read in case a redelivery made them). */
  reinserts: string[];
}

export const isTruncate = (message: DbChangeMessage) => message.op === 'TRUNCATE';
export const isDbInsert = (message: DbChangeMessage) => message.op === 'INSERT' && message.origin !== 'sheet';

export async function changeRows(
  store: Pick<VersionStore, 'rowIdsForKeys'>,
  link: string,
  messages: readonly DbChangeMessage[],
  types: ColumnTypes,
  pendingDocs: ReadonlyMap<string, RowDocument>,
): Promise<ChangeRows> {
  const keys = messages.map((message) => types.canonical(message.key, message));
  const previous = messages.map((message) =>
    message.previousKey ? types.canonical(message.previousKey, message) : undefined,
  );
  const known = await store.rowIdsForKeys(link, [
    ...keys.filter((_, i) => !isTruncate(messages[i]!)),
    ...previous.filter((k): k is Cells => k !== undefined),
  ]);
  // Keys of rows an earlier flush is still committing. A key inserted again after a DELETE or
  // TRUNCATE may name its new row only there while its key document still names the old one.
  const pendingLive = new Map<string, string>();
  for (const doc of pendingDocs.values()) {
    if (!doc.key || doc.tombstone) continue;
    pendingLive.set(keyId(doc.key), doc.rowId);
    if (!known.has(keyId(doc.key))) known.set(keyId(doc.key), doc.rowId);
  }
  const rowIds = messages.map((message, i) => {
    if (isTruncate(message)) return undefined;
    const found = known.get(keyId(previous[i] ?? keys[i]!)) ?? known.get(keyId(keys[i]!));
    if (found) return found;
    return message.op === 'DELETE' ? undefined : rowIdForNewRow(link, message.changeId);
  });
  const reinserts = messages.flatMap((message, i) =>
    isDbInsert(message) && rowIds[i] !== rowIdForNewRow(link, message.changeId)
      ? [rowIdForNewRow(link, message.changeId)]
      : [],
  );
  return { keys, previous, rowIds, pendingLive, reinserts };
}

/**
 * The sync id of a row the database inserted: derived from the link and the insert's change id,
 * so a redelivered insert names the same row (and finds it on the sheet) instead of appending a
 * second copy. Formatted as an RFC 4122 version 5-style UUID.
 */
export function rowIdForNewRow(link: string, changeId: number): string {
  const hex = createHash('sha256').update(`sheetsync:${link}:${changeId}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
