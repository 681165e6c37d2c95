/**
 * A stable string hash for spreading rows over ordering-key buckets (the DB side's
 * relay/outbox-messages.ts and the sheet side's sheet-webhook/batches.ts). Pure; the value never
 * changes across processes or versions, because a row must always land in the same bucket.
 */

/** 32-bit FNV-1a over UTF-16 code units: stable across processes and versions. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
