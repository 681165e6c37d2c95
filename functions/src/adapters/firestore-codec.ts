/**
 * Row documents and conflict records as Firestore stores them. Cell values are kept as JSON text:
 * Firestore cannot hold an array directly inside an array (a 2-D PostgreSQL array, nested jsonb),
 * and text keeps every canonical value exactly as the core produced it.
 *
 * A row document's `cells` and `events` are each one JSON text field (format 2). Nothing queries
 * inside them, and as maps (format 1: a map of seven fields per cell) every field was indexed:
 * the Firestore emulator wrote 440-710 rows/s of them in create batches against 950-1,290 rows/s
 * as text, and on Google each indexed field costs index writes and storage. Fields that are
 * queried (`tombstone`) or read alone (`rowId`) stay fields. Format 1 documents are still read.
 */
import type { Cells, CellValue } from '../core/cell-value.ts';
import type { ConflictRecord, ConflictRecordSide } from '../core/conflict-record.ts';
import type { Hlc } from '../core/hlc.ts';
import type { CellState, RowDocument } from '../core/row-document.ts';
import { SheetsyncError } from '../errors.ts';

type Stored = Record<string, unknown>;

const text = (value: CellValue) => JSON.stringify(value);
const hlc = (time: Hlc): Hlc => ({ wall: time.wall, logical: time.logical });

export function encodeRow(doc: RowDocument): Stored {
  return {
    rowId: doc.rowId,
    key: doc.key === null ? null : text(doc.key),
    vv: { sheet: doc.vv.sheet, db: doc.vv.db },
    cells: JSON.stringify(doc.cells),
    tombstone: doc.tombstone ? { dot: doc.tombstone.dot, time: hlc(doc.tombstone.time) } : null,
    events: JSON.stringify(doc.events),
    eventsFloor: doc.eventsFloor,
    ...(doc.onSheetSince === undefined ? {} : { onSheetSince: doc.onSheetSince }),
    ...(doc.marks === undefined ? {} : { marks: JSON.stringify(doc.marks) }),
    format: 2,
  };
}

export function decodeRow(path: string, data: Stored): RowDocument {
  try {
    if (typeof data.cells === 'string') {
      return {
        rowId: data.rowId as string,
        key: data.key === null ? null : (JSON.parse(data.key as string) as Cells),
        vv: data.vv as RowDocument['vv'],
        cells: JSON.parse(data.cells) as Record<string, CellState>,
        tombstone: (data.tombstone as RowDocument['tombstone']) ?? null,
        events: typeof data.events === 'string' ? (JSON.parse(data.events) as RowDocument['events']) : {},
        eventsFloor: (data.eventsFloor as number) ?? 0,
        ...(typeof data.onSheetSince === 'number' ? { onSheetSince: data.onSheetSince } : {}),
        ...(typeof data.marks === 'string' ? { marks: JSON.parse(data.marks) as RowDocument['marks'] } : {}),
      };
    }
    const cells: Record<string, CellState> = {};
    for (const [column, raw] of Object.entries(data.cells as Record<string, Stored>)) {
      cells[column] = {
        value: JSON.parse(raw.value as string) as CellValue,
        dot: raw.dot as string,
        time: raw.time as Hlc,
        echoed: raw.echoed as boolean,
        sheetValue: JSON.parse(raw.sheetValue as string) as CellValue,
        sheetWrittenAt: raw.sheetWrittenAt as number,
      };
      const contender = raw.contender as Stored | null | undefined;
      if (contender) {
        cells[column]!.contender = {
          value: JSON.parse(contender.value as string) as CellValue,
          dot: contender.dot as string,
          time: contender.time as Hlc,
          shownAt: contender.shownAt as number,
        };
      }
    }
    return {
      rowId: data.rowId as string,
      key: data.key === null ? null : (JSON.parse(data.key as string) as Cells),
      vv: data.vv as RowDocument['vv'],
      cells,
      tombstone: (data.tombstone as RowDocument['tombstone']) ?? null,
      events: (data.events as RowDocument['events']) ?? {},
      eventsFloor: (data.eventsFloor as number) ?? 0,
    };
  } catch (error) {
    throw new SheetsyncError(
      'SHEETSYNC_E405',
      `The row document ${path} is not readable: ${error}`,
      'permanent',
      {
        cause: error,
      },
    );
  }
}

const encodeSide = (side: ConflictRecordSide): Stored => ({
  value: text(side.value),
  dot: side.dot,
  time: side.time ? hlc(side.time) : null,
});
const decodeSide = (raw: Stored): ConflictRecordSide => ({
  value: JSON.parse(raw.value as string) as CellValue,
  dot: (raw.dot as string | null) ?? null,
  time: (raw.time as Hlc | null) ?? null,
});

export function encodeConflict(record: ConflictRecord): Stored {
  return {
    ...record,
    sheet: encodeSide(record.sheet),
    db: encodeSide(record.db),
    value: text(record.value),
    resolution: record.resolution ? { ...record.resolution, value: text(record.resolution.value) } : null,
  };
}

export function decodeConflict(data: Stored): ConflictRecord {
  const resolution = data.resolution as Stored | null;
  return {
    ...(data as unknown as ConflictRecord),
    sheet: decodeSide(data.sheet as Stored),
    db: decodeSide(data.db as Stored),
    value: JSON.parse(data.value as string) as CellValue,
    resolution: resolution
      ? {
          choice: resolution.choice as 'sheet' | 'db' | 'custom',
          value: JSON.parse(resolution.value as string) as CellValue,
          at: resolution.at as number,
        }
      : null,
  };
}
