/**
 * The Sheets API requests of one TabWrite against the tab as read (SheetTab.write sends them):
 *
 * 1. structure, one `spreadsheets.batchUpdate`: room for new columns and, for a tab without an
 *    id column, its header cell, hidden and protected (a warning only). Google applies a batch
 *    atomically, so the id column is there with its protection, or neither is;
 * 2. values, `values.batchUpdate` (RAW, so text never becomes a formula): new and renamed
 *    headers and only the changed cells, one range per run of adjacent columns in a row;
 * 3. rows, `spreadsheets.batchUpdate`: deletes bottom-up (so earlier indexes stay valid), rows put
 *    back where they were, then appends at the end, each row with its sync id.
 *
 * Payloads are split under 2 MB.
 */
import type { sheets_v4 } from '@googleapis/sheets';
import { renamedHeaders } from '../../core/header-match.ts';
import { rowSpanA1 } from './a1.ts';
import {
  cellData,
  chunksUnder,
  ID_HEADER,
  MAX_PAYLOAD_BYTES,
  type PlacedWrite,
  type SheetValue,
  type TabSnapshot,
  type TabWrite,
} from './tab-model.ts';

export interface WritePlan {
  structure: sheets_v4.Schema$Request[];
  values: sheets_v4.Schema$ValueRange[][];
  rows: sheets_v4.Schema$Request[][];
  /** Columns the written rows span: the headers, new ones and the id column included. */
  width: number;
  cellsWritten: number;
  rowsAppended: number;
  rowsDeleted: number;
}

/**
 * Places a write's inserts in the tab as it will stand after the write's deletes: in ascending
 * order of their rows, each below the header and below the one before (two rows asked for the
 * same row keep their order); one that would land past the last row holding values is
 * appended instead, ahead of the write's own appends.
 */
export function placeInserts(snapshot: TabSnapshot, write: TabWrite): PlacedWrite {
  const asked = [...(write.inserts ?? [])].sort((a, b) => a.row - b.row);
  if (asked.length === 0) return { ...write, inserts: [] };
  const deleted = new Set(write.deletes.filter((id) => snapshot.rows.has(id)));
  let last = snapshot.lastRow - deleted.size;
  const inserts: PlacedWrite['inserts'] = [];
  const appended: TabWrite['appends'] = [];
  let previous = 1;
  for (const insert of asked) {
    const row = Math.max(insert.row, previous + 1, 2);
    if (row > last) {
      appended.push({ rowId: insert.rowId, cells: insert.cells });
      continue;
    }
    inserts.push({ ...insert, row });
    previous = row;
    last++;
  }
  return { ...write, inserts, appends: [...appended, ...write.appends] };
}

export function planWrite(snapshot: TabSnapshot, title: string, write: PlacedWrite): WritePlan {
  const headers = renamedHeaders(snapshot.headers, write.renameHeaders ?? []);
  const renamedAt = headers.flatMap((h, i) => (h !== snapshot.headers[i] ? [i] : []));
  const newHeaders = write.addHeaders.filter((h) => !headers.includes(h));
  const needsId = snapshot.idColumn === null;
  const firstNew = headers.length;
  headers.push(...newHeaders);
  if (needsId) headers.push(ID_HEADER);
  const idColumn = headers.indexOf(ID_HEADER);
  const { sheetId } = snapshot;

  const structure: sheets_v4.Schema$Request[] = [];
  if (headers.length > snapshot.columnCount) {
    structure.push({
      appendDimension: { sheetId, dimension: 'COLUMNS', length: headers.length - snapshot.columnCount },
    });
  }
  if (needsId) {
    structure.push(
      {
        updateCells: {
          start: { sheetId, rowIndex: 0, columnIndex: firstNew },
          rows: [{ values: headers.slice(firstNew).map(cellData) }],
          fields: 'userEnteredValue',
        },
      },
      {
        updateDimensionProperties: {
          range: { sheetId, dimension: 'COLUMNS', startIndex: idColumn, endIndex: idColumn + 1 },
          properties: { hiddenByUser: true },
          fields: 'hiddenByUser',
        },
      },
      {
        addProtectedRange: {
          protectedRange: {
            range: { sheetId, startColumnIndex: idColumn, endColumnIndex: idColumn + 1 },
            description: 'sheetsync row ids: do not edit',
            warningOnly: true,
          },
        },
      },
    );
  }

  const data: sheets_v4.Schema$ValueRange[] = [];
  if (!needsId && firstNew < headers.length) {
    data.push({
      range: rowSpanA1(title, 1, firstNew, headers.length - 1),
      values: [headers.slice(firstNew)],
    });
  }
  // Renamed headers (a table column renamed), each its own cell of the header row.
  for (const column of renamedAt) {
    data.push({ range: rowSpanA1(title, 1, column, column), values: [[headers[column]!]] });
  }
  let cellsWritten = 0;
  const columnOf = new Map(headers.map((h, i) => [h, i]));
  for (const update of write.updates) {
    const target = snapshot.rows.get(update.rowId);
    if (!target) continue;
    const cells = [...Object.entries(update.cells)]
      .map(([header, value]) => [columnOf.get(header), value] as const)
      .filter((c): c is readonly [number, SheetValue] => c[0] !== undefined)
      .sort((a, b) => a[0] - b[0]);
    for (const run of runs(cells)) {
      data.push({
        range: rowSpanA1(title, target.row, run[0]![0], run.at(-1)![0]),
        values: [run.map(([, value]) => value ?? '')],
      });
      cellsWritten += run.length;
    }
  }

  const rowsToDelete = write.deletes
    .map((id) => snapshot.rows.get(id)?.row)
    .filter((r): r is number => r !== undefined)
    .sort((a, b) => b - a);
  // Units never split between two requests: a row put back is its insert and its cells.
  const units: sheets_v4.Schema$Request[][] = [];
  for (const [start, end] of descendingRuns(rowsToDelete)) {
    units.push([
      { deleteDimension: { range: { sheetId, dimension: 'ROWS', startIndex: start - 1, endIndex: end } } },
    ]);
  }
  const rowData = (row: { rowId: string; cells: Record<string, SheetValue> }) => {
    const values: sheets_v4.Schema$CellData[] = headers.map(() => ({}));
    for (const [header, value] of Object.entries(row.cells)) {
      const column = columnOf.get(header);
      if (column !== undefined && column !== idColumn) values[column] = cellData(value);
    }
    values[idColumn] = cellData(row.rowId);
    return { values };
  };
  // Rows put back where they were, top-down, each moving the rows below it down one.
  for (const insert of write.inserts) {
    units.push([
      {
        insertDimension: {
          range: { sheetId, dimension: 'ROWS', startIndex: insert.row - 1, endIndex: insert.row },
          // Formatting from the row above, not the header's, for a row put back under it.
          inheritFromBefore: insert.row > 2,
        },
      },
      {
        updateCells: {
          start: { sheetId, rowIndex: insert.row - 1, columnIndex: 0 },
          rows: [rowData(insert)],
          fields: 'userEnteredValue',
        },
      },
    ]);
  }
  const appended = write.appends.map(rowData);
  for (const chunk of chunksUnder(appended, MAX_PAYLOAD_BYTES)) {
    units.push([{ appendCells: { sheetId, rows: chunk, fields: 'userEnteredValue' } }]);
  }
  return {
    structure,
    values: chunksUnder(data, MAX_PAYLOAD_BYTES),
    rows: chunksUnder(units, MAX_PAYLOAD_BYTES).map((chunk) => chunk.flat()),
    width: headers.length,
    cellsWritten,
    rowsAppended: write.inserts.length + appended.length,
    rowsDeleted: rowsToDelete.length,
  };
}

/** Groups sorted [column, value] pairs into runs of adjacent columns. */
function runs<T>(cells: ReadonlyArray<readonly [number, T]>): Array<Array<readonly [number, T]>> {
  const out: Array<Array<readonly [number, T]>> = [];
  for (const cell of cells) {
    const last = out.at(-1);
    if (last && last.at(-1)![0] + 1 === cell[0]) last.push(cell);
    else out.push([cell]);
  }
  return out;
}

/** Descending 1-based rows → [start, end] runs of consecutive rows, still bottom-up. */
function descendingRuns(rows: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const row of rows) {
    const last = out.at(-1);
    if (last && last[0] - 1 === row) last[0] = row;
    else out.push([row, row]);
  }
  return out;
}
