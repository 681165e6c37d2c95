/**
 * Re-identifying rows by key. When the hidden `_sheetsync_id` column is deleted or cleared, the
 * rows lose their ids but not their data: a row that shows the table's key columns is the row
 * whose key it holds. Reconcile gives such a row the id sheetsync knows for that key (when no
 * other sheet row carries it) instead of a new one, so the row is matched, not inserted again
 * with its old self deleted.
 */
import type { SheetValue } from '../adapters/sheets/sheet-tab.ts';
import type { Cells } from '../core/cell-value.ts';
import { fromSheet } from '../core/coercion.ts';
import type { ColumnType } from '../core/column-type.ts';
import { keyId } from '../core/key-id.ts';
import type { VersionStore } from '../ports.ts';

export interface KeyColumns {
  /** Key column → its index in the sheet's rows. Every key column must be on the sheet. */
  at: ReadonlyMap<string, number>;
  types: Readonly<Record<string, ColumnType>>;
}

/**
 * For the rows of `rows` without an id (index → key-derived id): the ids the store maps their
 * keys to, leaving out ids in `taken` (carried by a sheet row, or given already). Adds the ids it
 * gives to `taken`. The caller still checks that each id's row is live.
 */
export async function idsByKey(
  store: Pick<VersionStore, 'rowIdsForKeys'>,
  link: string,
  rows: readonly SheetValue[][],
  idless: readonly number[],
  keyColumns: KeyColumns,
  taken: Set<string>,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (idless.length === 0 || keyColumns.at.size === 0) return found;
  const keys: Array<{ index: number; key: Cells }> = [];
  for (const index of idless) {
    const key: Cells = {};
    let complete = true;
    for (const [column, at] of keyColumns.at) {
      const coerced = fromSheet((rows[index]?.[at] ?? null) as SheetValue, keyColumns.types[column]!);
      if (!coerced.ok || coerced.value === null) {
        complete = false;
        break;
      }
      key[column] = coerced.value;
    }
    if (complete) keys.push({ index, key });
  }
  if (keys.length === 0) return found;
  const rowIds = await store.rowIdsForKeys(
    link,
    keys.map((k) => k.key),
  );
  for (const { index, key } of keys) {
    const rowId = rowIds.get(keyId(key));
    if (!rowId || taken.has(rowId)) continue;
    taken.add(rowId);
    found.set(index, rowId);
  }
  return found;
}
