// sheetsync: choices made in the `_sheetsync_conflicts` tab (issue 22, item 3).
//
// sheetsync lists each open conflict in that tab, one row each, with a `choose` dropdown
// (`take sheet`, `take database`). Picking one sends a signed `resolve` event to the webhook,
// which resolves the conflict as `sheetsync conflicts resolve --take` does; a resolved row (or
// one the webhook no longer knows as open) leaves the tab. A refused choice (the cell changed
// since the conflict) is cleared and its reason put in the cell's note.
//
// The choice is sent at once, not queued: it is a person's decision about the tab as it is now,
// and is answered now (a webhook that cannot be reached clears it, saying so; pick again).

/* exported resolveConflictChoices_ */

const SHEETSYNC_CONFLICTS_TAB = '_sheetsync_conflicts';
const SHEETSYNC_CONFLICT_CHOICES = { 'take sheet': 'sheet', 'take database': 'db' };

/**
 * Sends the choices picked in the edited rows of the conflicts tab.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet the conflicts tab
 * @param {GoogleAppsScript.Spreadsheet.Range} range the edited block
 */
function resolveConflictChoices_(sheet, range) {
  const width = sheet.getLastColumn();
  if (width < 1) return;
  const headers = sheet
    .getRange(1, 1, 1, width)
    .getValues()[0]
    .map((h) => String(h));
  const idAt = headers.indexOf('conflict id');
  const linkAt = headers.indexOf('link');
  const chooseAt = headers.indexOf('choose');
  if (idAt < 0 || linkAt < 0 || chooseAt < 0) return;
  const first = Math.max(range.getRow(), 2);
  const last = range.getLastRow();
  if (last < first) return;
  const rows = sheet.getRange(first, 1, last - first + 1, width).getValues();
  const leaving = [];
  rows.forEach((row, i) => {
    const take = SHEETSYNC_CONFLICT_CHOICES[String(row[chooseAt])];
    if (!take) return;
    const at = first + i;
    const result = sendConflictChoice_(sheet, String(row[linkAt]), String(row[idAt]), take);
    if (result.leave) {
      leaving.push(at);
      return;
    }
    const choice = sheet.getRange(at, chooseAt + 1);
    choice.setValue('');
    choice.setNote(`sheetsync: ${result.reason}`);
  });
  // Bottom-up, so the rows above keep their places.
  leaving.reverse().forEach((at) => {
    sheet.deleteRow(at);
  });
}

/**
 * Takes the conflict note and fill off the data cell of a resolved conflict (sheetsync put them
 * there while it was open). When the table already held the chosen value no change travels
 * back to the sheet, so this is the only thing that clears them.
 * @param {{sheet: string, rowId: string, column: string}} resolved the webhook's answer
 */
function clearConflictNote_(resolved) {
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(String(resolved.sheet));
  if (!sheet || sheet.getLastRow() < 2) return;
  const headers = sheet
    .getRange(1, 1, 1, sheet.getLastColumn())
    .getValues()[0]
    .map((h) => String(h));
  const idAt = headers.indexOf(SHEETSYNC_ID_HEADER);
  const loose = (name) =>
    name
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, '_');
  let columnAt = headers.indexOf(String(resolved.column));
  if (columnAt < 0) columnAt = headers.map(loose).indexOf(loose(String(resolved.column)));
  if (idAt < 0 || columnAt < 0) return;
  const ids = sheet.getRange(2, idAt + 1, sheet.getLastRow() - 1, 1).getValues();
  for (let i = 0; i < ids.length; i++) {
    if (String(ids[i][0]) !== resolved.rowId) continue;
    sheet
      .getRange(i + 2, columnAt + 1)
      .setNote(null)
      .setBackground(null);
    return;
  }
}

/**
 * Sends one choice; whether its row leaves the tab, or why it stays.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {string} link
 * @param {string} conflictId
 * @param {string} take 'sheet' or 'db'
 * @return {{leave: boolean, reason?: string}}
 */
function sendConflictChoice_(sheet, link, conflictId, take) {
  const payload = {
    v: 1,
    kind: 'resolve',
    eventId: Utilities.getUuid(),
    spreadsheetId: SpreadsheetApp.getActiveSpreadsheet().getId(),
    sheet: sheet.getName(),
    sheetId: sheet.getSheetId(),
    headers: [],
    time: Date.now(),
    link: link,
    conflictId: conflictId,
    take: take,
  };
  const delivery = deliver_(JSON.stringify(payload));
  const answer = delivery.answer || {};
  if (delivery.outcome === 'delivered' && answer.resolved) {
    clearConflictNote_(answer.resolved);
    return { leave: true };
  }
  const error = answer.error;
  // Not open (any more): resolved meanwhile, here or elsewhere.
  if (error && (error.code === 'SHEETSYNC_E401' || error.code === 'SHEETSYNC_E402')) return { leave: true };
  if (error) return { leave: false, reason: `${error.code}: ${error.message}` };
  return {
    leave: false,
    reason: delivery.reason || 'the webhook could not be reached; the choice was not made. Pick it again.',
  };
}
