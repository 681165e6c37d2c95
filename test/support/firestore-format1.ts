/**
 * Row documents as sheetsync wrote them before format 2 (functions/src/adapters/firestore-codec.ts),
 * for the tests that prove such documents stay readable.
 */
import type { CellValue } from '../../functions/src/core/cell-value.ts';
import type { Hlc } from '../../functions/src/core/hlc.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';

const text = (value: CellValue) => JSON.stringify(value);
const hlc = (time: Hlc): Hlc => ({ wall: time.wall, logical: time.logical });

/** A row document in format 1 (cells and events as Firestore maps), as earlier versions wrote it. */
export function encodeRowFormat1(doc: RowDocument): Record<string, unknown> {
  const cells: Record<string, unknown> = {};
  for (const [column, state] of Object.entries(doc.cells)) {
    cells[column] = {
      value: text(state.value),
      dot: state.dot,
      time: hlc(state.time),
      echoed: state.echoed,
      sheetValue: text(state.sheetValue),
      sheetWrittenAt: state.sheetWrittenAt,
      contender: state.contender
        ? {
            value: text(state.contender.value),
            dot: state.contender.dot,
            time: hlc(state.contender.time),
            shownAt: state.contender.shownAt,
          }
        : null,
    };
  }
  return {
    rowId: doc.rowId,
    key: doc.key === null ? null : text(doc.key),
    vv: { sheet: doc.vv.sheet, db: doc.vv.db },
    cells,
    tombstone: doc.tombstone ? { dot: doc.tombstone.dot, time: hlc(doc.tombstone.time) } : null,
    events: doc.events,
    eventsFloor: doc.eventsFloor,
  };
}
