/**
 * A database change seen through a link's `columns` allowlist (core/link-columns.ts): the cells
 * (and the whole row before, `old`) of the listed columns and the key only. The relay applies it
 * before publishing, so a column outside the list (`password_hash`) never travels on Pub/Sub, and
 * applyToSheet again before writing, for messages published by a relay without the config.
 */
import { allowedColumns, onlyAllowed } from '../core/link-columns.ts';
import type { DbChangeMessage } from '../wire/db-change.ts';

export function withinColumns(
  change: DbChangeMessage,
  columns: readonly string[] | undefined,
): DbChangeMessage {
  // A SCHEMA change's cells describe columns (renamed, dropped), not values.
  if (!columns || change.op === 'SCHEMA') return change;
  const allowed = allowedColumns(columns, change.keyColumns);
  return {
    ...change,
    cells: onlyAllowed(change.cells, allowed),
    ...(change.old ? { old: onlyAllowed(change.old, allowed) } : {}),
    types: onlyAllowed(change.types, allowed),
  };
}
