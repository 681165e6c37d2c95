/**
 * One synced tab, read and written through the Sheets API with as few requests as the budget
 * allows (DESIGN.md §2, Sheets API budget):
 *
 * - read: one `spreadsheets.get` for the tab's properties and one `values.get` of the tab
 *   (UNFORMATTED_VALUE) give the headers, the `_sheetsync_id` column and every row's position;
 * - write: at most three kinds of request (tab-write-plan.ts): structure, changed cells, and
 *   rows deleted, put back and appended. A request whose outcome is unknown is not sent again
 *   as it was: the tab is read again and only what did not land is written (write-remainder.ts).
 *
 * Formulas and formatting in cells sheetsync does not write are never touched.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { type CellMark, type CellRef, planCellMarks } from '../../core/cell-marks.ts';
import type { Sheet } from '../../ports/sheet.ts';
import { batchUpdateUnderCellCap } from './cell-cap.ts';
import {
  applyToKept,
  type KeptSnapshot,
  type ReadCounts,
  type SheetTabOptions,
  splitToken,
} from './kept-snapshot.ts';
import { OutcomeUnknownError, RowsMovedError } from './request-failure.ts';
import type { SheetsApi } from './sheets-api.ts';
import { idsByRow, type PlacedWrite, type TabSnapshot, type TabWrite, type WriteStats } from './tab-model.ts';
import {
  readPositions,
  readProperties,
  readSnapshot,
  type TabAddress,
  type TabProperties,
  type TabRead,
} from './tab-reads.ts';
import { rowsInPlace, verifyRows } from './tab-verify.ts';
import { placeInserts, planWrite } from './tab-write-plan.ts';
import { VanishedRows } from './vanished-rows.ts';
import { remainingWrite, type SentWrite, sentWrite } from './write-remainder.ts';

export { columnLetters } from './a1.ts';
export type { ReadCounts, SheetTabOptions } from './kept-snapshot.ts';
export {
  chunksUnder,
  ID_HEADER,
  isBlankRow,
  MAX_PAYLOAD_BYTES,
  type SheetValue,
  type TabSnapshot,
  type TabWrite,
  type WriteStats,
} from './tab-model.ts';
export { readTabValues } from './tab-reads.ts';

export class SheetTab implements Sheet {
  readonly readCounts: ReadCounts = { apiReads: 0, keptReads: 0, verifiedRows: 0 };
  /** The change token the last read() took (VersionStore.sheetEpochs, with its write hold). */
  lastToken: unknown;
  private kept: KeptSnapshot | undefined;
  /** Rows deleted in the sheet, for returnRow(). */
  private readonly vanished = new VanishedRows();
  /** Set when the next read must read the values too (verify() could not do with positions). */
  private valuesNeeded = false;
  private readonly address: TabAddress;

  constructor(
    readonly api: SheetsApi,
    readonly spreadsheetId: string,
    title: string,
    private readonly options: SheetTabOptions = {},
  ) {
    this.address = { api, spreadsheetId, title };
  }

  /** The tab's title: the config's until the tab is found by its sheetId under another. */
  get title(): string {
    return this.address.title;
  }

  /**
   * The tab's sheetId and grid size change rarely and only by people; they are cached and
   * refreshed after a write fails or when the values read show the grid grew, so a flush
   * usually costs one read request (the per-user read quota is 60 a minute).
   */
  private properties: TabProperties | undefined;

  /** Forgets cached tab properties and the kept snapshot (after a failed write, or a structural change). */
  invalidate(): void {
    this.properties = undefined;
    this.kept = undefined;
  }

  private async readProperties(): Promise<TabProperties> {
    const linked = this.options.linkedTab;
    let record = false;
    if (linked && this.address.sheetId === undefined) {
      const known = await linked.get();
      if (known?.spreadsheetId === this.spreadsheetId) this.address.sheetId = known.sheetId;
      else record = true;
    }
    this.properties = await readProperties(this.address);
    const { title } = this.properties;
    if (title !== undefined && title !== this.address.title) {
      linked?.renamed?.(this.address.title, title);
      this.address.title = title;
    }
    if (record && linked) {
      this.address.sheetId = this.properties.sheetId;
      await linked.record({
        spreadsheetId: this.spreadsheetId,
        sheetId: this.properties.sheetId,
        title: this.address.title,
      });
    }
    return this.properties;
  }

  /** After a failed read: whether the tab, found by its sheetId, has another title now. */
  private async renamedSince(): Promise<boolean> {
    if (this.address.sheetId === undefined) return false;
    const before = this.address.title;
    await this.readProperties().catch(() => undefined);
    return this.address.title !== before;
  }

  /**
   * The tab as it is now: from the kept snapshot while the change token is unchanged and the
   * snapshot younger than maxSnapshotAgeMs, otherwise read from the API. The snapshot returned
   * is the kept one: callers must not change it, and write() brings it up to date.
   */
  async read(): Promise<TabSnapshot> {
    const now = this.options.now ?? Date.now;
    const { changeToken } = this.options;
    // The token is taken before the read: a sheet change during the read bumps it, and the next
    // read() then reads again.
    this.lastToken = changeToken ? await changeToken() : undefined;
    const { rows: token, values: valuesToken } = splitToken(this.lastToken);
    const kept = this.kept;
    if (
      changeToken &&
      kept &&
      Object.is(kept.token, token) &&
      now() - kept.at < Math.max(this.options.maxSnapshotAgeMs ?? 30_000, 10 * kept.readMs)
    ) {
      if (!Object.is(kept.valuesToken, valuesToken)) {
        // Cells were edited in place: the positions hold, the values of any row may be stale.
        kept.valuesToken = valuesToken;
        kept.verified = new Set();
        kept.positionsFresh = false;
      }
      this.readCounts.keptReads++;
      return kept.snapshot;
    }
    const at = now();
    // The kept copy is let go before the read: a big tab's two copies need not fit at once. Its
    // ids in row order stay (one reference per row) to tell where rows that vanish were.
    const idColumn = kept?.snapshot.idColumn ?? undefined;
    const before = kept ? idsByRow(kept.snapshot) : undefined;
    this.kept = undefined;
    const positions =
      changeToken && !this.valuesNeeded && (await this.isBig())
        ? await this.readPositions(idColumn)
        : undefined;
    this.valuesNeeded = false;
    const { snapshot, otherRows } = positions ?? (await this.readFromApi());
    this.readCounts.apiReads++;
    if (before) this.vanished.remember(before, snapshot);
    this.kept = changeToken
      ? {
          snapshot,
          token,
          valuesToken,
          at,
          readMs: Math.max(0, now() - at),
          otherRows,
          positionsFresh: true,
          ...(positions ? { verified: new Set<string>() } : {}),
        }
      : undefined;
    return snapshot;
  }

  /**
   * Where a row that vanished from the tab goes back: below the row that was above it when it
   * was last seen (below that row's own upper row if it vanished too), as a row (1-based) of
   * the tab after `deletes`. Undefined when this SheetTab did not see the row vanish.
   */
  returnRow(rowId: string, snapshot: TabSnapshot, deletes: readonly string[]): number | undefined {
    return this.vanished.returnRow(rowId, snapshot, deletes);
  }

  private async isBig(): Promise<boolean> {
    const { rowCount, columnCount } = this.properties ?? (await this.readProperties());
    return rowCount * columnCount > (this.options.positionsOnlyAboveCells ?? 1_000_000);
  }

  private async readPositions(knownIdColumn: number | undefined): Promise<TabRead | undefined> {
    const properties = this.properties ?? (await this.readProperties());
    return readPositions(this.address, properties, () => this.readProperties(), knownIdColumn);
  }

  private async readFromApi(): Promise<TabRead> {
    const properties = this.properties ?? (await this.readProperties());
    try {
      return await readSnapshot(this.address, properties, () => this.readProperties());
    } catch (error) {
      // A renamed tab: its old title no longer parses as a range.
      if (!(await this.renamedSince())) throw error;
      return readSnapshot(this.address, this.properties ?? properties, () => this.readProperties());
    }
  }

  /**
   * Makes the values of rows `rowIds` of `snapshot` current before a flush decides on them:
   * after in-place edits (see changeToken), and for a tab read without its values, their rows
   * are read again, in values.batchGet requests of the runs of consecutive rows, and each row's
   * id proves it is still where the snapshot has it. Rows in `positionOnly` (rows the flush only
   * deletes) need their place, not their values: only their id cells are read, and only after
   * in-place edits since the positions were read. Returns the snapshot to use: `snapshot`
   * itself, or a fresh read when a row is not where it was (for a big tab, its positions and the
   * rows once more), or when a small tab's rows are too scattered for one request.
   */
  async verify(
    snapshot: TabSnapshot,
    rowIds: Iterable<string>,
    positionOnly: Iterable<string> = [],
    retried = false,
  ): Promise<TabSnapshot> {
    const kept = this.kept;
    if (!kept?.verified || kept.snapshot !== snapshot || snapshot.idColumn === null) return snapshot;
    const ids = [...new Set(rowIds)];
    const valueIds = new Set(ids);
    const placeIds = [...new Set(positionOnly)].filter((id) => !valueIds.has(id));
    const outcome = await verifyRows(this.address, snapshot, {
      verified: kept.verified,
      ids,
      placeIds: kept.positionsFresh ? [] : placeIds,
      isBig: () => this.isBig(),
    });
    if (outcome === 'scattered') return this.readAgain(true);
    if (outcome === 'moved') {
      if (!retried && (await this.isBig()))
        return this.verify(await this.readAgain(false), ids, placeIds, true);
      return this.readAgain(true);
    }
    this.readCounts.verifiedRows += outcome;
    return snapshot;
  }

  /** Drops the kept snapshot and reads the tab: the whole of it with `values`. */
  private async readAgain(values: boolean): Promise<TabSnapshot> {
    this.kept = undefined;
    this.valuesNeeded = values;
    return this.read();
  }

  /**
   * Applies `write` to the tab as read in `snapshot`. Afterwards the kept snapshot (when
   * `snapshot` is it) shows the tab as this write left it: cells updated, deleted rows gone and
   * the rows below moved up, rows put back (`inserts`) in place with the rows below moved down,
   * appended rows at the end with their positions.
   */
  async write(snapshot: TabSnapshot, requested: TabWrite): Promise<WriteStats> {
    const write = placeInserts(snapshot, requested);
    const stats: WriteStats = { writeRequests: 0, cellsWritten: 0, rowsAppended: 0, rowsDeleted: 0 };
    let sent: SentWrite | undefined;
    let tab = snapshot;
    let rest: PlacedWrite | undefined = write;
    for (let round = 1; rest; round++) {
      try {
        await this.writeOnce(tab, rest, stats);
        break;
      } catch (error) {
        // A failed write may have been applied in part, and the cached grid size or sheetId may
        // be stale: read everything again next time.
        this.invalidate();
        const moved = error instanceof RowsMovedError;
        if (!(moved || error instanceof OutcomeUnknownError) || round >= this.api.maxAttempts) throw error;
        sent ??= sentWrite(snapshot, write);
        // Rows that moved were not written to: read again at once. An unknown outcome backs off.
        if (!moved) await this.api.backoff(round - 1);
        tab = await this.read();
        tab = await this.verify(
          tab,
          write.updates.map((u) => u.rowId),
          write.deletes,
        );
        rest = remainingWrite(tab, sent);
      }
    }
    for (const insert of write.inserts) this.vanished.forget(insert.rowId);
    // All of it found on the tab by the read after an unknown outcome: that read is kept as is.
    if (!rest) return stats;
    // New columns change the grid's width and the headers, renamed ones the headers: read again next time.
    if (rest.addHeaders.length > 0 || (rest.renameHeaders?.length ?? 0) > 0 || tab.idColumn === null)
      this.invalidate();
    else if (this.kept?.snapshot === tab) {
      const rowCount = applyToKept(this.kept, rest);
      if (rowCount !== undefined && this.properties) this.properties.rowCount = rowCount;
    }
    return stats;
  }

  /** Sends the requests of `write` (planWrite), counting them in `stats` as they go. */
  private async writeOnce(snapshot: TabSnapshot, write: PlacedWrite, stats: WriteStats): Promise<void> {
    const plan = planWrite(snapshot, this.title, write);
    stats.cellsWritten += plan.cellsWritten;
    stats.rowsAppended += plan.rowsAppended;
    stats.rowsDeleted += plan.rowsDeleted;
    if (plan.structure.length > 0) await this.batchUpdate(plan.structure, stats);
    const updated = write.updates.map((u) => u.rowId);
    for (const data of plan.values) {
      await this.proveRows(snapshot, updated, 'changed cells');
      await this.api.call('write', 'values.batchUpdate', () =>
        this.api.client.spreadsheets.values.batchUpdate({
          spreadsheetId: this.spreadsheetId,
          requestBody: { valueInputOption: 'RAW', data },
        }),
      );
      stats.writeRequests++;
    }
    // Deletes go first, all in the first request (units of one row run each, bottom-up); the
    // values writes above do not move rows, so the snapshot still places them.
    if (plan.rows.length > 0 && plan.rowsDeleted > 0)
      await this.proveRows(snapshot, write.deletes, 'row deletes');
    for (const requests of plan.rows)
      await batchUpdateUnderCellCap(this.address, snapshot, plan.width, requests, {
        batchUpdate: (r) => this.batchUpdate(r, stats),
        columnCount: async () => (await this.readProperties()).columnCount,
        narrowed: (width) => {
          if (this.properties) this.properties.columnCount = width;
        },
      });
  }

  /**
   * Marks or clears cells by sync id (core/cell-marks.ts) with one batchUpdate: the tab as read
   * (the kept snapshot while it holds) places them, and their rows are proven in place right
   * before the request, as for any write by position. A row moved since, or not on the snapshot
   * (a kept one may predate it), makes the tab be read again, once. Returns the marks still found
   * on no row (deleted since) or under no header: they are not written anywhere.
   */
  async markCells(marks: readonly CellMark[]): Promise<CellRef[]> {
    const stats: WriteStats = { writeRequests: 0, cellsWritten: 0, rowsAppended: 0, rowsDeleted: 0 };
    for (let round = 1; ; round++) {
      const snapshot = round === 1 ? await this.read() : await this.readAgain(false);
      const { requests, unplaced } = planCellMarks({
        sheetId: snapshot.sheetId,
        headers: snapshot.headers,
        rowOf: (rowId) => snapshot.rows.get(rowId)?.row,
        marks,
      });
      // A column not on the tab stays so; a row missing from a kept snapshot may have come since.
      if (round === 1 && unplaced.some((m) => !snapshot.rows.has(m.rowId))) continue;
      if (requests.length === 0) return unplaced;
      const missing = new Set(unplaced.map((m) => m.rowId));
      const placed = [...new Set(marks.map((m) => m.rowId))].filter((id) => !missing.has(id));
      try {
        await this.proveRows(snapshot, placed, 'cell marks');
      } catch (error) {
        if (error instanceof RowsMovedError && round === 1) continue;
        throw error;
      }
      await this.batchUpdate(requests, stats);
      return unplaced;
    }
  }

  /**
   * Throws RowsMovedError unless `ids` are where `snapshot` has them, read right before a request
   * that addresses them by position: the Sheets API has no conditional write, and a person may
   * sort, insert or delete rows while the write waits for its quota (docs/design/kept-snapshot.md).
   * The wait comes first, so the proof is as close to the request as a read can be.
   */
  private async proveRows(snapshot: TabSnapshot, ids: readonly string[], what: string): Promise<void> {
    if (snapshot.idColumn === null || ids.length === 0) return;
    await this.api.writeReady();
    if (!(await rowsInPlace(this.address, snapshot, ids))) throw new RowsMovedError(what);
  }

  private async batchUpdate(requests: sheets_v4.Schema$Request[], stats: WriteStats): Promise<void> {
    await this.api.call('write', 'spreadsheets.batchUpdate', () =>
      this.api.client.spreadsheets.batchUpdate({
        spreadsheetId: this.spreadsheetId,
        requestBody: { requests },
      }),
    );
    stats.writeRequests++;
  }
}
