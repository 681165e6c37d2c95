/**
 * applyToDb, step 3 (write): inside the flush's sheet transaction (Table port, origin 'sheet'),
 * the writes the decisions made: set-based upserts and deletes, kept values shown again
 * (reshow), refused deletes put back (restore), and the sync id → key map (row ids). Rows the
 * database refused become problems (E409, E412, E413, E414).
 */
import type { Cells } from '../../core/cell-value.ts';
import { keyId } from '../../core/key-id.ts';
import type { RowDelete, RowError, RowUpsert, SheetTransaction, TableSchema } from '../../ports/table.ts';
import type { RowCommit, VersionStore } from '../../ports.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';
import type { FlushState, TableWrites } from './decide.ts';

/**
 * Writes what the flush decided and records its outcome in `state`: a row the database refused
 * is not committed (or, for a delete, keeps its commit from before) and becomes a problem; rows
 * inserted now get their key in their commit.
 */
export async function writeDecisions(
  tx: SheetTransaction,
  input: {
    link: string;
    schema: TableSchema;
    store: Pick<VersionStore, 'rowIdsForKeys'>;
    messages: readonly SheetChangeMessage[];
    writes: TableWrites;
  },
  state: FlushState,
): Promise<void> {
  const { link, schema, writes } = input;
  const { deletes, beforeDelete } = writes;
  const { commits, problems } = state;
  await keepRowsOwnedByOthers(input.store, link, deletes, commits);
  const merged = mergeUpserts(writes.upserts);
  const result = await tx.write(schema, merged, deletes);
  await reshowKept(tx, schema, writes.reshows, result.keys);
  // Rows the database would not delete (another table's foreign key refers to them) go back
  // on the sheet: recorded as DB inserts of their current values, which applyToSheet puts
  // back with their sync ids (mergeDbChange, SheetTab.returnRow).
  const refused = new Set(result.errors.filter((e) => e.op === 'delete').map((e) => e.rowId));
  const restored = [...deletes.filter((d) => refused.has(d.rowId)).map((d) => d.key), ...writes.restores];
  if (restored.length > 0) await tx.restore(schema, restored);
  // Sync id → key of the rows just inserted, in the same transaction (see sql/install.sql).
  await tx.recordRowIds(
    link,
    merged.flatMap((u) =>
      !u.key && result.keys.has(u.rowId) ? [{ rowId: u.rowId, key: result.keys.get(u.rowId)! }] : [],
    ),
  );
  await tx.forgetRowIds(
    link,
    deletes.filter((d) => !refused.has(d.rowId)).map((d) => d.rowId),
  );
  const rowOf = new Map(
    input.messages.map((message) => [
      message.rowId,
      { ...(message.row === undefined ? {} : { row: message.row }), time: message.time },
    ]),
  );
  for (const error of result.errors) {
    if (error.op === 'delete') {
      // The row stays as this flush's earlier changes of it left it.
      const before = beforeDelete.get(error.rowId);
      if (before) commits.set(error.rowId, before);
      else commits.delete(error.rowId);
      problems.push({
        link,
        rowId: error.rowId,
        code: 'SHEETSYNC_E412',
        message: `the database refused to delete the row (${error.sqlState}): ${error.message}; it is back on the sheet`,
        sqlState: error.sqlState,
        ...(rowOf.get(error.rowId) ?? {}),
      });
      continue;
    }
    commits.delete(error.rowId); // not applied: nothing to record
    problems.push({
      link,
      rowId: error.rowId,
      code: error.code,
      message: refusalMessage(error),
      sqlState: error.sqlState,
      ...(error.column ? { column: error.column } : {}),
      ...(rowOf.get(error.rowId) ?? {}),
    });
  }
  await reshowRefused(tx, schema, merged, result.errors);
  for (const [rowId, key] of result.keys) {
    const commit = commits.get(rowId);
    if (commit) commits.set(rowId, { ...commit, next: { ...commit.next, key: key as Cells } });
  }
}

/**
 * Records the DB values a sheet change kept at the deferral cap as DB changes once more
 * (sql/install.sql, sheetsync.reshow), one call per set of columns, after this flush's writes
 * (a row they changed is found by its key after the write).
 */
async function reshowKept(
  tx: SheetTransaction,
  schema: TableSchema,
  reshows: ReadonlyMap<string, { key: Cells; columns: ReadonlySet<string> }>,
  keysAfterWrite: ReadonlyMap<string, Record<string, unknown>>,
): Promise<void> {
  const byColumns = new Map<string, { columns: string[]; keys: unknown[] }>();
  for (const [rowId, { key, columns }] of reshows) {
    if (columns.size === 0) continue;
    const sorted = [...columns].sort();
    const id = sorted.join('\u0000');
    const group = byColumns.get(id) ?? { columns: sorted, keys: [] };
    group.keys.push(keysAfterWrite.get(rowId) ?? key);
    byColumns.set(id, group);
  }
  for (const { columns, keys } of byColumns.values()) {
    await tx.reshow(schema, keys, columns);
  }
}

/**
 * A change of an existing row that the database refused (a cleared NOT NULL cell, a duplicate
 * key, a failed CHECK) leaves the sheet showing what the table does not hold: the table's values
 * of the columns it carried go to the sheet again (sheetsync.reshow), so both sides agree and the
 * errors tab says why (issue 19).
 */
async function reshowRefused(
  tx: SheetTransaction,
  schema: TableSchema,
  upserts: readonly RowUpsert[],
  errors: readonly { op: string; rowId: string }[],
): Promise<void> {
  const refused = new Set(errors.filter((e) => e.op !== 'delete').map((e) => e.rowId));
  if (refused.size === 0) return;
  const known = new Set(schema.columns.map((c) => c.name));
  const reshows = new Map<string, { key: Cells; columns: Set<string> }>();
  for (const upsert of upserts) {
    if (!refused.has(upsert.rowId) || !upsert.key) continue;
    const columns = new Set(Object.keys(upsert.cells).filter((c) => known.has(c)));
    reshows.set(upsert.rowId, { key: upsert.key as Cells, columns });
  }
  await reshowKept(tx, schema, reshows, new Map());
}

/** One write per row: later changes of a row in the batch fold into the first. */
function mergeUpserts(upserts: RowUpsert[]): RowUpsert[] {
  const byRow = new Map<string, RowUpsert>();
  for (const upsert of upserts) {
    const earlier = byRow.get(upsert.rowId);
    byRow.set(
      upsert.rowId,
      earlier ? { ...earlier, dot: upsert.dot, cells: { ...earlier.cells, ...upsert.cells } } : upsert,
    );
  }
  return [...byRow.values()];
}

/**
 * Leaves out of `deletes` (in place) the rows whose key another sync id now owns: its key
 * document names another row, or a row of this flush that is not deleted holds it. That happens
 * when a row lost its id (the hidden column cleared or deleted) and came back under a new one:
 * the old id's document still names the key, and deleting by it would delete the row the new id
 * shows. Only the old document is tombstoned; the table row stays.
 */
async function keepRowsOwnedByOthers(
  store: Pick<VersionStore, 'rowIdsForKeys'>,
  link: string,
  deletes: RowDelete[],
  commits: ReadonlyMap<string, RowCommit>,
): Promise<void> {
  if (deletes.length === 0) return;
  const owners = await store.rowIdsForKeys(
    link,
    deletes.map((d) => d.key as Cells),
  );
  const heldHere = new Map<string, string>();
  for (const [rowId, { next }] of commits)
    if (next.key && !next.tombstone) heldHere.set(keyId(next.key), rowId);
  const kept = deletes.filter((d) => {
    const id = keyId(d.key as Cells);
    const owner = heldHere.get(id) ?? owners.get(id);
    return owner === undefined || owner === d.rowId;
  });
  deletes.splice(0, deletes.length, ...kept);
}

/** What the errors tab says of a refused row: the SQLSTATE, the database's message, a remedy. */
function refusalMessage({ code, sqlState, message }: RowError): string {
  switch (code) {
    case 'SHEETSYNC_E413':
      return (
        `the database does not let sheetsync write a column of this row (${sqlState}): ${message}; ` +
        `leave that cell empty, or take the column out of the link's columns (or grant the privilege)`
      );
    case 'SHEETSYNC_E414':
      return `the database refused the row's values (${sqlState}): ${message}; change them in the sheet`;
    default:
      return `the database refused the row (${sqlState}): ${message}`;
  }
}
