/**
 * The id of a key document `sheetsync_links/{link}/keys/{keyId}`: primary key → rowId by a direct
 * document read (DESIGN.md §2). Derived from the key's values with sorted column names, so the
 * same key always maps to the same document; hashed because a document id must stay under 1,500
 * bytes and must not contain `/`.
 */
import { createHash } from 'node:crypto';
import { type Cells, stableText } from './cell-value.ts';

export function keyId(key: Cells): string {
  return createHash('sha256').update(stableText(key)).digest('base64url');
}
