// The toolbar's row actions, each one user action built from the active cell.
import { letters, quoted } from './sheet-window.js';

/** The user action of toolbar button `name` for the active cell of `state`, or null when it cannot apply. */
export function toolbarAction(name, state) {
  const { sheet, sel } = state;
  const { r, c } = sel;
  switch (name) {
    case 'insertAbove':
      return { type: 'insertRows', sheet: sheet.sheetId, index: r, count: 1 };
    case 'insertBelow':
      return { type: 'insertRows', sheet: sheet.sheetId, index: r + 1, count: 1 };
    case 'deleteRow':
      return { type: 'deleteRows', sheet: sheet.sheetId, index: r, count: 1 };
    case 'sortAsc':
    case 'sortDesc':
      // Sorting keeps row 1 in place: it is the header row of a synced table.
      return {
        type: 'sortRange',
        range: `${quoted(sheet.title)}!A2:${letters(sheet.columnCount - 1)}${sheet.rowCount}`,
        sortSpecs: [{ dimensionIndex: c, sortOrder: name === 'sortAsc' ? 'ASCENDING' : 'DESCENDING' }],
      };
    case 'moveUp':
      return r > 0
        ? { type: 'moveRows', sheet: sheet.sheetId, index: r, count: 1, destinationIndex: r - 1 }
        : null;
    case 'moveDown':
      return r < sheet.rowCount - 1
        ? { type: 'moveRows', sheet: sheet.sheetId, index: r, count: 1, destinationIndex: r + 2 }
        : null;
    default:
      return null;
  }
}
