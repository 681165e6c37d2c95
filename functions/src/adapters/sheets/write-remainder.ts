/**
 * What is left of a TabWrite after a request whose outcome is unknown (OutcomeUnknownError):
 * the tab is read again and each part is checked by sync id, never by position, because rows
 * may have moved since (the write's own deletes, or a person's):
 *
 * - a row to delete is deleted when its id is gone;
 * - an appended row, or a row put back, landed when its id is on the tab (each is one
 *   appendCells or insert + updateCells request, applied atomically);
 * - a cell landed when it shows the written value. It is written again only when it still shows
 *   what it showed before the write; a cell that shows a third value was changed by someone
 *   since, and that change is newer than this write (it reaches the table through the webhook),
 *   so it is left alone. When either read lacks the row's values, the cell is written again;
 * - a row put back goes below the row that was above it (by that row's id), as first placed.
 *
 * Sending the rest instead of the whole write is what keeps a retry from appending a row twice,
 * putting it back twice or deleting the row that moved up into a deleted row's place.
 */
import { SheetsyncError } from '../../errors.ts';
import {
  ID_HEADER,
  idsByRow,
  type PlacedWrite,
  type SheetValue,
  type TabSnapshot,
  type TabWrite,
} from './tab-model.ts';
import { placeInserts } from './tab-write-plan.ts';

/** Where a row put back goes: `offset` rows below the row holding id `above` (null: the header). */
interface Anchor {
  above: string | null;
  offset: number;
}

/** A write as sent against the tab as it was read before it. */
export interface SentWrite {
  before: TabSnapshot;
  write: PlacedWrite;
  anchors: Map<string, Anchor>;
}

/** Row ids from row 2 down (index 0 = row 2) after `deletes`; holes are rows without an id. */
function rowOrder(snapshot: TabSnapshot, deletes: ReadonlySet<string>): Array<string | undefined> {
  const byRow = idsByRow(snapshot);
  const order: Array<string | undefined> = [];
  for (let row = 2; row <= snapshot.lastRow; row++) {
    const id = byRow[row];
    if (id === undefined || !deletes.has(id)) order.push(id);
  }
  return order;
}

/** Records where each row put back goes, by the id of the nearest row above it that has one. */
export function sentWrite(before: TabSnapshot, write: PlacedWrite): SentWrite {
  const anchors = new Map<string, Anchor>();
  if (write.inserts.length > 0) {
    const order = rowOrder(before, new Set(write.deletes));
    for (const insert of write.inserts) {
      const index = insert.row - 2;
      let above = index - 1;
      while (above >= 0 && order[above] === undefined) above--;
      anchors.set(
        insert.rowId,
        above < 0 ? { above: null, offset: index + 1 } : { above: order[above]!, offset: index - above },
      );
      order.splice(index, 0, insert.rowId);
    }
  }
  return { before, write, anchors };
}

/**
 * The index in `order` (row ids from row 2 down) where a row anchored so goes; undefined when its
 * anchor row is gone (someone deleted it since): the row then goes where it was first placed.
 */
function placeByAnchor(
  order: ReadonlyArray<string | undefined>,
  anchor: Anchor | undefined,
): number | undefined {
  if (!anchor) return undefined;
  if (anchor.above === null) return anchor.offset - 1;
  const at = order.indexOf(anchor.above);
  return at < 0 ? undefined : at + anchor.offset;
}

const shown = (value: SheetValue | undefined) => (value === null || value === undefined ? '' : value);

/** Whether a read holds the row's values (a tab read for its positions only does not). */
const hasValues = (values: readonly SheetValue[] | undefined): values is SheetValue[] =>
  values !== undefined && values.length > 0;

/**
 * The part of `sent` that `fresh` (the tab read after the unknown outcome) does not show yet,
 * placed against `fresh`; undefined when all of it landed. Throws a retryable SHEETSYNC_E513 when
 * the id column is gone: rows can no longer be told apart, and the change is decided again.
 */
export function remainingWrite(fresh: TabSnapshot, sent: SentWrite): PlacedWrite | undefined {
  const { before, write } = sent;
  if (before.idColumn !== null && fresh.idColumn === null) {
    throw new SheetsyncError(
      'SHEETSYNC_E513',
      `tab "${fresh.title}" lost its ${ID_HEADER} column while sheetsync was writing to it; nothing more is written, and the changes are decided again`,
      'retry',
    );
  }
  const updates: TabWrite['updates'] = [];
  for (const update of write.updates) {
    const now = fresh.rows.get(update.rowId);
    if (!now) continue; // deleted since: nothing to write to
    const was = before.rows.get(update.rowId)?.values;
    const cells: Record<string, SheetValue> = {};
    for (const [header, value] of Object.entries(update.cells)) {
      const column = fresh.headers.indexOf(header);
      if (column >= 0 && hasValues(now.values)) {
        const current = shown(now.values[column]);
        if (current === shown(value)) continue;
        const old = before.headers.indexOf(header);
        if (old >= 0 && hasValues(was) && current !== shown(was[old])) continue;
      }
      cells[header] = value;
    }
    if (Object.keys(cells).length > 0) updates.push({ rowId: update.rowId, cells });
  }
  const deletes = write.deletes.filter((id) => fresh.rows.has(id));
  const appends = write.appends.filter((row) => !fresh.rows.has(row.rowId));
  const inserts: NonNullable<TabWrite['inserts']> = [];
  const missing = write.inserts.filter((row) => !fresh.rows.has(row.rowId));
  if (missing.length > 0) {
    const order = rowOrder(fresh, new Set(deletes));
    for (const insert of missing) {
      const index = placeByAnchor(order, sent.anchors.get(insert.rowId)) ?? insert.row - 2;
      order.splice(index, 0, insert.rowId);
      inserts.push({ ...insert, row: index + 2 });
    }
  }
  const addHeaders = write.addHeaders.filter((h) => !fresh.headers.includes(h));
  // A rename that landed left its old header gone (or its new one there already).
  const renameHeaders = (write.renameHeaders ?? []).filter(
    (r) => fresh.headers.includes(r.from) && !fresh.headers.includes(r.to),
  );
  const rest = {
    updates,
    appends,
    inserts,
    deletes,
    addHeaders,
    ...(renameHeaders.length > 0 ? { renameHeaders } : {}),
  };
  const empty =
    updates.length +
      appends.length +
      inserts.length +
      deletes.length +
      addHeaders.length +
      renameHeaders.length ===
      0 && fresh.idColumn !== null;
  return empty ? undefined : placeInserts(fresh, rest);
}
