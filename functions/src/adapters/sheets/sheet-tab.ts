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
import { SheetsyncError } from '../../errors.ts';
import { columnLetters, quoteTitle } from './a1.ts';
import { OutcomeUnknownError } from './request-failure.ts';
import type { SheetsApi } from './sheets-api.ts';
import {
  ID_HEADER,
  idsByRow,
  isBlankRow,
  type PlacedWrite,
  type SheetValue,
  type TabSnapshot,
  type TabWrite,
  type WriteStats,
} from './tab-model.ts';
import { placeInserts, planWrite } from './tab-write-plan.ts';
import { remainingWrite, type SentWrite, sentWrite } from './write-remainder.ts';

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

export interface SheetTabOptions {
  /**
   * A token that changes whenever the tab may have changed other than through this SheetTab
   * (VersionStore.sheetEpochs: the webhook bumps it for every sheet event it accepts). While it
   * stays the same, read() returns the snapshot kept from the last read, brought up to date
   * with this SheetTab's own writes, and costs no Sheets API read. Without it every read()
   * reads the tab. A token `{rows, values}` tells in-place edits (`values`: cells of rows that
   * had their sync id changed, no row moved) from the rest: after those, read() keeps the
   * snapshot and verify() reads again only the rows a flush is about to write.
   */
  changeToken?: () => Promise<unknown>;
  /**
   * A kept snapshot is read again after this long even when the token has not changed, so a
   * change the webhook never saw (another API client; an Apps Script that could not reach the
   * webhook) is picked up within this time. Default 30 s (one read request every 30 s at most).
   * A tab whose read takes longer than a tenth of this is kept ten times its last read's
   * duration instead, so those reads take at most a tenth of the time (a tab near the
   * 10-million-cell cap takes seconds to read: README, big-tab benchmark).
   */
  maxSnapshotAgeMs?: number;
  /**
   * A tab whose grid holds more cells than this is read without its values: the header row and
   * the id column give the positions, and verify() reads the rows a flush decides on (a kept
   * copy of every value of a tab near the 10-million-cell cap is ≈ 520 MB and takes seconds to
   * read). Needs changeToken. Default 1,000,000 (a tab of 2M cells read whole peaked at 590 MB).
   */
  positionsOnlyAboveCells?: number;
  now?: () => number;
}

/** What read() served from the kept snapshot and what it read from the API. */
export interface ReadCounts {
  apiReads: number;
  keptReads: number;
  /** Rows verify() read again after in-place edits. */
  verifiedRows: number;
}

/** Runs of consecutive rows verify() reads in one request (a small tab with more is read whole). */
const MAX_VERIFY_RUNS = 100;

/** Sorted row numbers as runs of consecutive rows. */
function runsOf(rows: number[]): Array<{ from: number; to: number }> {
  const runs: Array<{ from: number; to: number }> = [];
  for (const row of rows) {
    const last = runs.at(-1);
    if (last && row <= last.to + 1) last.to = row;
    else runs.push({ from: row, to: row });
  }
  return runs;
}

/** A change token's parts: `{rows, values}` as VersionStore.sheetEpochs gives, or one value. */
function splitToken(token: unknown): { rows: unknown; values: unknown } {
  if (token && typeof token === 'object' && 'rows' in token && 'values' in token) {
    const { rows, values } = token as { rows: unknown; values: unknown };
    return { rows, values };
  }
  return { rows: token, values: undefined };
}

interface KeptSnapshot {
  snapshot: TabSnapshot;
  token: unknown;
  /** The `values` part of a two-part token when the snapshot's values were last all current. */
  valuesToken: unknown;
  /**
   * Set when cells were edited in place since the snapshot was read: which rows' values are
   * current again (read by verify(), since). Undefined while all are current.
   */
  verified?: Set<string>;
  /** Whether the positions are as read, with no in-place edit since (which could have moved rows). */
  positionsFresh: boolean;
  at: number;
  /** How long the read that made it took (ms). */
  readMs: number;
  /** Rows (1-based, below the header) holding values but no id of `rows`: id-less rows, copies. */
  otherRows: number[];
}

export class SheetTab {
  readonly readCounts: ReadCounts = { apiReads: 0, keptReads: 0, verifiedRows: 0 };
  /** The change token the last read() took (VersionStore.sheetEpochs, with its write hold). */
  lastToken: unknown;
  private kept: KeptSnapshot | undefined;

  constructor(
    readonly api: SheetsApi,
    readonly spreadsheetId: string,
    readonly title: string,
    private readonly options: SheetTabOptions = {},
  ) {}

  /**
   * The tab's sheetId and grid size change rarely and only by people; they are cached and
   * refreshed after a write fails or when the values read show the grid grew, so a flush
   * usually costs one read request (the per-user read quota is 60 a minute).
   */
  private properties: { sheetId: number; rowCount: number; columnCount: number } | undefined;

  /** Forgets cached tab properties and the kept snapshot (after a failed write, or a structural change). */
  invalidate(): void {
    this.properties = undefined;
    this.kept = undefined;
  }

  private async readProperties() {
    const meta = await this.api.call('read', 'spreadsheets.get', () =>
      this.api.client.spreadsheets.get({
        spreadsheetId: this.spreadsheetId,
        fields: 'sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))',
      }),
    );
    const properties = meta.sheets?.find((s) => s.properties?.title === this.title)?.properties;
    if (!properties || properties.sheetId == null) {
      throw new SheetsyncError(
        'SHEETSYNC_E504',
        `spreadsheet ${this.spreadsheetId} has no tab titled "${this.title}"; check the link's "sheet"`,
      );
    }
    this.properties = {
      sheetId: properties.sheetId,
      rowCount: properties.gridProperties?.rowCount ?? 1000,
      columnCount: properties.gridProperties?.columnCount ?? 26,
    };
    return this.properties;
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
        ? await this.readPositionsFromApi(idColumn)
        : undefined;
    this.valuesNeeded = false;
    const { snapshot, otherRows } = positions ?? (await this.readFromApi());
    this.readCounts.apiReads++;
    if (before) this.rememberVanished(before, snapshot);
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
   * Rows that were on the tab at one read and gone at the next (deleted in the sheet), each with
   * the id of the row that was above it then (null: it was the first row under the header).
   * returnRow() puts a row the database would not delete back there. The most recent
   * MAX_VANISHED are kept; a read that finds more rows gone than that records none of them.
   */
  private readonly vanished = new Map<string, string | null>();

  private rememberVanished(before: readonly (string | undefined)[], after: TabSnapshot): void {
    // Both reads in row order, side by side: a row found where the new read's order continues
    // costs a comparison; only the others are looked up (a tab of 1.4M rows takes ~0.3 s to look
    // up every id, ~0.1 s this way after rows were inserted or deleted; a sort costs the lookups).
    const seen = idsByRow(after);
    const gone: Array<[string, string | null]> = [];
    let above: string | null = null;
    let next = 2;
    for (const id of before) {
      if (id === undefined) continue;
      while (next < seen.length && seen[next] === undefined) next++;
      if (seen[next] === id) {
        next++;
      } else {
        const found = after.rows.get(id);
        if (!found) {
          gone.push([id, above]);
          if (gone.length > MAX_VANISHED) return;
        } else if (found.row > next) next = found.row + 1; // rows were inserted above it
      }
      above = id;
    }
    for (const [id, upper] of gone) {
      this.vanished.delete(id); // re-inserted: the newest last
      this.vanished.set(id, upper);
    }
    for (const id of this.vanished.keys()) {
      if (this.vanished.size <= MAX_VANISHED) break;
      this.vanished.delete(id);
    }
  }

  /**
   * Where a row that vanished from the tab goes back: below the row that was above it when it
   * was last seen (below that row's own upper row if it vanished too), as a row (1-based) of
   * the tab after `deletes`. Undefined when this SheetTab did not see the row vanish.
   */
  returnRow(rowId: string, snapshot: TabSnapshot, deletes: readonly string[]): number | undefined {
    let above = this.vanished.get(rowId);
    for (let hops = 0; above !== undefined && hops <= MAX_VANISHED; hops++) {
      if (above === null) return 2;
      const target = snapshot.rows.get(above);
      if (target) {
        let deletedAbove = 0;
        for (const id of deletes) {
          const row = snapshot.rows.get(id)?.row;
          if (row !== undefined && row <= target.row) deletedAbove++;
        }
        return target.row + 1 - deletedAbove;
      }
      above = this.vanished.get(above);
    }
    return undefined;
  }

  /** Set when the next read must read the values too (verify() could not do with positions). */
  private valuesNeeded = false;

  private async isBig(): Promise<boolean> {
    const { rowCount, columnCount } = this.properties ?? (await this.readProperties());
    return rowCount * columnCount > (this.options.positionsOnlyAboveCells ?? 1_000_000);
  }

  /**
   * A big tab's positions without its values: its header row and id column, in one
   * values.batchGet when the id column is where the last read found it, two otherwise. Every
   * row's values stay unknown until verify() reads them; so do rows holding values but no id,
   * so the positions of rows appended after them may be counted short: verify() proves each
   * row's position by its id before it is written. Undefined for a tab without an id column.
   */
  private async readPositionsFromApi(
    knownIdColumn: number | undefined,
  ): Promise<{ snapshot: TabSnapshot; otherRows: number[] } | undefined> {
    let properties = this.properties ?? (await this.readProperties());
    const title = quoteTitle(this.title);
    const idRange = (column: number) => `${title}!${columnLetters(column)}2:${columnLetters(column)}`;
    const get = (ranges: string[]) =>
      this.api.call('read', 'values.batchGet', () =>
        this.api.client.spreadsheets.values.batchGet({
          spreadsheetId: this.spreadsheetId,
          ranges,
          valueRenderOption: 'UNFORMATTED_VALUE',
          dateTimeRenderOption: 'SERIAL_NUMBER',
          majorDimension: 'COLUMNS',
        }),
      );
    const first = await get(
      knownIdColumn === undefined ? [`${title}!1:1`] : [`${title}!1:1`, idRange(knownIdColumn)],
    );
    const headers = ((first.valueRanges?.[0]?.values ?? []) as SheetValue[][]).map((c) =>
      String(c?.[0] ?? '').trim(),
    );
    const idIndex = headers.indexOf(ID_HEADER);
    if (idIndex < 0) return undefined;
    const column =
      idIndex === knownIdColumn ? first.valueRanges?.[1] : (await get([idRange(idIndex)])).valueRanges?.[0];
    const ids = ((column?.values ?? [])[0] ?? []) as SheetValue[];
    const rows = new Map<string, { row: number; values: SheetValue[] }>();
    const duplicateRows: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = String(ids[i] ?? '');
      if (id === '') continue;
      if (rows.has(id)) duplicateRows.push(i + 2);
      else rows.set(id, { row: i + 2, values: [] });
    }
    if (headers.length > properties.columnCount || ids.length + 1 > properties.rowCount)
      properties = await this.readProperties();
    return {
      snapshot: {
        sheetId: properties.sheetId,
        title: this.title,
        columnCount: properties.columnCount,
        rowCount: properties.rowCount,
        headers,
        idColumn: idIndex,
        rows,
        duplicateRows,
        lastRow: Math.max(1, ids.length + 1),
      },
      otherRows: [],
    };
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
    const idColumn = snapshot.idColumn;
    if (!kept?.verified || kept.snapshot !== snapshot || idColumn === null) return snapshot;
    const verified = kept.verified;
    const ids = [...new Set(rowIds)];
    const valueIds = new Set(ids);
    const placeIds = [...new Set(positionOnly)].filter((id) => !valueIds.has(id));
    const again = async () => {
      if (!retried && (await this.isBig()))
        return this.verify(await this.readAgain(false), ids, placeIds, true);
      return this.readAgain(true);
    };
    const rowsOf = (list: string[]) =>
      list
        .filter((id) => snapshot.rows.has(id) && !verified.has(id))
        .map((id) => ({ id, row: snapshot.rows.get(id)!.row }))
        .sort((a, b) => a.row - b.row);
    const targets = rowsOf(ids);
    const places = kept.positionsFresh ? [] : rowsOf(placeIds);
    if (targets.length === 0 && places.length === 0) return snapshot;
    const valueRuns = runsOf(targets.map((t) => t.row));
    const placeRuns = runsOf(places.map((t) => t.row));
    if (valueRuns.length + placeRuns.length > MAX_VERIFY_RUNS && !(await this.isBig()))
      return this.readAgain(true);
    const title = quoteTitle(this.title);
    const lastColumn = columnLetters(Math.max(snapshot.headers.length, idColumn + 1) - 1);
    const idLetter = columnLetters(idColumn);
    const ranges = [
      ...valueRuns.map((r) => `${title}!A${r.from}:${lastColumn}${r.to}`),
      ...placeRuns.map((r) => `${title}!${idLetter}${r.from}:${idLetter}${r.to}`),
    ];
    const answers: SheetValue[][][] = [];
    for (let i = 0; i < ranges.length; i += MAX_VERIFY_RUNS) {
      const answer = await this.api.call('read', 'values.batchGet', () =>
        this.api.client.spreadsheets.values.batchGet({
          spreadsheetId: this.spreadsheetId,
          ranges: ranges.slice(i, i + MAX_VERIFY_RUNS),
          valueRenderOption: 'UNFORMATTED_VALUE',
          dateTimeRenderOption: 'SERIAL_NUMBER',
          majorDimension: 'ROWS',
        }),
      );
      for (const range of answer.valueRanges ?? []) answers.push((range.values ?? []) as SheetValue[][]);
    }
    const byRow = (runs: Array<{ from: number; to: number }>, offset: number) => {
      const found = new Map<number, SheetValue[]>();
      runs.forEach((run, i) => {
        const values = answers[offset + i] ?? [];
        for (let row = run.from; row <= run.to; row++) found.set(row, values[row - run.from] ?? []);
      });
      return found;
    };
    const fresh = byRow(valueRuns, 0);
    const idCells = byRow(placeRuns, valueRuns.length);
    for (const { id, row } of targets) if (String(fresh.get(row)?.[idColumn] ?? '') !== id) return again();
    for (const { id, row } of places) if (String(idCells.get(row)?.[0] ?? '') !== id) return again();
    for (const { id, row } of targets) {
      snapshot.rows.get(id)!.values = fresh.get(row)!;
      verified.add(id);
    }
    this.readCounts.verifiedRows += targets.length;
    return snapshot;
  }

  /** Drops the kept snapshot and reads the tab: the whole of it with `values`. */
  private async readAgain(values: boolean): Promise<TabSnapshot> {
    this.kept = undefined;
    this.valuesNeeded = values;
    return this.read();
  }

  private async readFromApi(): Promise<{ snapshot: TabSnapshot; otherRows: number[] }> {
    let properties = this.properties ?? (await this.readProperties());
    const { grid, headers } = await readTabValues(this.api, this.spreadsheetId, this.title);
    const idIndex = headers.indexOf(ID_HEADER);
    const rows = new Map<string, { row: number; values: SheetValue[] }>();
    const duplicateRows: number[] = [];
    const otherRows: number[] = [];
    for (let r = 1; r < grid.length; r++) {
      const id = idIndex >= 0 ? String(grid[r]?.[idIndex] ?? '') : '';
      if (id !== '' && !rows.has(id)) {
        rows.set(id, { row: r + 1, values: grid[r] ?? [] });
        continue;
      }
      if (id !== '') duplicateRows.push(r + 1);
      if (!isBlankRow(grid[r] ?? [])) otherRows.push(r + 1);
    }
    const width = grid.reduce((w, row) => Math.max(w, row.length), 0);
    if (width > properties.columnCount || grid.length > properties.rowCount)
      properties = await this.readProperties();
    const snapshot: TabSnapshot = {
      sheetId: properties.sheetId,
      title: this.title,
      columnCount: properties.columnCount,
      rowCount: properties.rowCount,
      headers,
      idColumn: idIndex >= 0 ? idIndex : null,
      rows,
      duplicateRows,
      lastRow: Math.max(1, grid.length),
    };
    return { snapshot, otherRows };
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
        if (!(error instanceof OutcomeUnknownError) || round >= this.api.maxAttempts) throw error;
        sent ??= sentWrite(snapshot, write);
        await this.api.backoff(round - 1);
        tab = await this.read();
        tab = await this.verify(
          tab,
          write.updates.map((u) => u.rowId),
          write.deletes,
        );
        rest = remainingWrite(tab, sent);
      }
    }
    for (const insert of write.inserts) this.vanished.delete(insert.rowId);
    // All of it found on the tab by the read after an unknown outcome: that read is kept as is.
    if (!rest) return stats;
    // New columns change the grid's width and the headers: read again next time.
    if (rest.addHeaders.length > 0 || tab.idColumn === null) this.invalidate();
    else if (this.kept?.snapshot === tab) this.applyToKept(this.kept, rest);
    return stats;
  }

  /** Brings the kept snapshot up to date with a write that succeeded (no new columns). */
  private applyToKept(kept: KeptSnapshot, write: PlacedWrite): void {
    const { snapshot } = kept;
    const columnOf = new Map(snapshot.headers.map((h, i) => [h, i]));
    const setCells = (values: SheetValue[], cells: Record<string, SheetValue>) => {
      for (const [header, value] of Object.entries(cells)) {
        const column = columnOf.get(header);
        if (column === undefined || column === snapshot.idColumn) continue;
        while (values.length <= column) values.push('');
        values[column] = value ?? '';
      }
    };
    for (const update of write.updates) {
      const target = snapshot.rows.get(update.rowId);
      if (target) setCells(target.values, update.cells);
    }
    const deleted = write.deletes
      .map((id) => snapshot.rows.get(id)?.row)
      .filter((r): r is number => r !== undefined)
      .sort((a, b) => a - b);
    if (deleted.length > 0) {
      for (const id of write.deletes) snapshot.rows.delete(id);
      const shift = (row: number) => {
        // rows deleted above `row` (binary search in the sorted list)
        let lo = 0;
        let hi = deleted.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (deleted[mid]! < row) lo = mid + 1;
          else hi = mid;
        }
        return row - lo;
      };
      for (const target of snapshot.rows.values()) target.row = shift(target.row);
      kept.otherRows = kept.otherRows.map(shift);
      snapshot.duplicateRows = snapshot.duplicateRows.map(shift);
    }
    // Each insert moves the rows at and below its row down by one (ascending, as written).
    for (const insert of write.inserts) {
      const down = (row: number) => (row >= insert.row ? row + 1 : row);
      for (const target of snapshot.rows.values()) target.row = down(target.row);
      kept.otherRows = kept.otherRows.map(down);
      snapshot.duplicateRows = snapshot.duplicateRows.map(down);
      const values: SheetValue[] = snapshot.headers.map(() => '');
      setCells(values, insert.cells);
      values[snapshot.idColumn!] = insert.rowId;
      snapshot.rows.set(insert.rowId, { row: insert.row, values });
    }
    // appendCells writes after the last row holding values.
    let last = 1;
    for (const target of snapshot.rows.values()) if (target.row > last) last = target.row;
    for (const row of kept.otherRows) if (row > last) last = row;
    for (const append of write.appends) {
      last++;
      const values: SheetValue[] = snapshot.headers.map(() => '');
      setCells(values, append.cells);
      values[snapshot.idColumn!] = append.rowId;
      // Not marked verified after in-place edits: the position counted from the last row is the
      // one thing an edit reported as in place (a paste below the last row) could have changed.
      snapshot.rows.set(append.rowId, { row: last, values });
    }
    snapshot.lastRow = last;
    if (last > snapshot.rowCount) {
      snapshot.rowCount = last;
      if (this.properties) this.properties.rowCount = last;
    }
  }

  /** Sends the requests of `write` (planWrite), counting them in `stats` as they go. */
  private async writeOnce(snapshot: TabSnapshot, write: PlacedWrite, stats: WriteStats): Promise<void> {
    const plan = planWrite(snapshot, this.title, write);
    stats.cellsWritten += plan.cellsWritten;
    stats.rowsAppended += plan.rowsAppended;
    stats.rowsDeleted += plan.rowsDeleted;
    if (plan.structure.length > 0) await this.batchUpdate(plan.structure, stats);
    for (const data of plan.values) {
      await this.api.call('write', 'values.batchUpdate', () =>
        this.api.client.spreadsheets.values.batchUpdate({
          spreadsheetId: this.spreadsheetId,
          requestBody: { valueInputOption: 'RAW', data },
        }),
      );
      stats.writeRequests++;
    }
    for (const requests of plan.rows)
      await this.batchUpdateUnderCellCap(snapshot, plan.width, requests, stats);
  }

  /**
   * Google counts every cell of every tab's grid against a spreadsheet's 10M cells, empty cells
   * too, and a new tab is 26 columns wide: a tab syncing 7 columns fills the spreadsheet at about
   * 384,000 rows. When appended rows would pass the cap, the tab's columns right of the synced
   * ones are deleted if they hold no value, and the request (which Google applied in none of its
   * parts) is sent again. When they hold values, or the rows still do not fit, the write fails
   * with SHEETSYNC_E508 (the changes are retried, and dead-lettered in the end: none is lost).
   */
  private async batchUpdateUnderCellCap(
    snapshot: TabSnapshot,
    width: number,
    requests: sheets_v4.Schema$Request[],
    stats: WriteStats,
  ): Promise<void> {
    try {
      await this.batchUpdate(requests, stats);
      return;
    } catch (error) {
      if (!isCellLimit(error) || !requests.some((r) => r.appendCells || r.insertDimension)) throw error;
      if (!(await this.deleteEmptyColumns(snapshot, width, stats))) throw tabFull(this.title, error, false);
    }
    await this.batchUpdate(requests, stats).catch((error: unknown) => {
      throw isCellLimit(error) ? tabFull(this.title, error, true) : error;
    });
  }

  /** Deletes the tab's columns right of the first `width` when no cell in them holds a value. */
  private async deleteEmptyColumns(
    snapshot: TabSnapshot,
    width: number,
    stats: WriteStats,
  ): Promise<boolean> {
    const { columnCount } = await this.readProperties();
    if (columnCount <= width) return false;
    const range = `${quoteTitle(this.title)}!${columnLetters(width)}:${columnLetters(columnCount - 1)}`;
    const found = await this.api.call('read', 'values.get', () =>
      this.api.client.spreadsheets.values.get({ spreadsheetId: this.spreadsheetId, range }),
    );
    if ((found.values ?? []).some((row) => row.some((value) => value !== '' && value != null))) return false;
    await this.batchUpdate(
      [
        {
          deleteDimension: {
            range: {
              sheetId: snapshot.sheetId,
              dimension: 'COLUMNS',
              startIndex: width,
              endIndex: columnCount,
            },
          },
        },
      ],
      stats,
    );
    snapshot.columnCount = width;
    if (this.properties) this.properties.columnCount = width;
    return true;
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

/** How many vanished rows a SheetTab remembers (SheetTab.returnRow). */
const MAX_VANISHED = 10_000;

/** Google's answer to a request that would grow a spreadsheet past its 10M cells. */
function isCellLimit(error: unknown): boolean {
  return (
    error instanceof SheetsyncError &&
    error.code === 'SHEETSYNC_E501' &&
    /number of cells in the workbook above the limit/i.test(error.message)
  );
}

function tabFull(title: string, cause: unknown, trimmed: boolean): SheetsyncError {
  return new SheetsyncError(
    'SHEETSYNC_E508',
    `tab "${title}" cannot take more rows: its spreadsheet is at Google's limit of 10,000,000 cells (every tab's whole grid counts, empty cells too)${trimmed ? ', even with the empty columns right of the synced ones deleted' : ', and the columns right of the synced ones hold values'}. Delete unused tabs, rows or columns, or move the link's tab to a spreadsheet of its own; the changes are retried meanwhile.`,
    'permanent',
    { cause },
  );
}

/**
 * The whole tab in one values.get (UNFORMATTED_VALUE, dates as serial numbers), with its header
 * row trimmed: SheetTab's reads and attach/reconcile's (functions/src/sync/sheet-grid.ts).
 */
export async function readTabValues(
  api: SheetsApi,
  spreadsheetId: string,
  title: string,
): Promise<{ grid: SheetValue[][]; headers: string[] }> {
  const values = await api.call('read', 'values.get', () =>
    api.client.spreadsheets.values.get({
      spreadsheetId,
      range: quoteTitle(title),
      valueRenderOption: 'UNFORMATTED_VALUE',
      dateTimeRenderOption: 'SERIAL_NUMBER',
      majorDimension: 'ROWS',
    }),
  );
  const grid = (values.values ?? []) as SheetValue[][];
  return { grid, headers: (grid[0] ?? []).map((h) => String(h ?? '').trim()) };
}

export { columnLetters };
