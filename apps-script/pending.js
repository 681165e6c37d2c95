// sheetsync: edits and row changes whose trigger could not get the script lock in time (another
// execution held it: a big paste, a slow webhook, a long drain of the queue). Each is kept as a
// Script Property of its own (one call, no lock needed), or, when the Script Properties are full
// ("Properties total storage: 500 KB"), as a row of the hidden `_sheetsync_pending` tab
// (Sheet.appendRow finds the last row and writes below it in one call, so executions appending at
// once each get a row; the lock holder only removes rows from the top). The next execution that
// holds the lock sends them, and only then forgets them: an execution stopped on the way leaves
// them for the one after.

/**
 * Keeps an edit or change whose trigger could not get the script lock, to be sent by the next
 * execution that holds it.
 * @param {Object} pending {kind: 'edit', sheet, sheetId, range} or {kind: 'change', changeType}
 */
function remember_(pending) {
  const key = `${SHEETSYNC_PENDING}${String(Date.now()).padStart(15, '0')}_${Utilities.getUuid()}`;
  const json = JSON.stringify(pending);
  try {
    PropertiesService.getScriptProperties().setProperty(key, json);
  } catch (error) {
    console.warn(
      `sheetsync: SHEETSYNC_E612 Script Properties are full (${error}); the ${pending.kind} is kept in ${SHEETSYNC_PENDING_TAB}`,
    );
    pendingSheet_().appendRow([SHEETSYNC_CELL_PREFIX + key, SHEETSYNC_CELL_PREFIX + json]);
  }
  console.warn(`sheetsync: the script lock was busy; the ${pending.kind} is sent by the next run`);
}

/**
 * Sends the pending edits and changes, as the sheet shows them now: an edit's range is read again
 * (its values now, which later edits may have changed and sent too), a change sends the tabs' ids
 * now. Each is forgotten once sent; those this execution has no time for wait for the next.
 * Runs holding the script lock.
 * @param {boolean=} fresh read the Script Properties now instead of this execution's copy
 */
function sendPending_(fresh) {
  const store = PropertiesService.getScriptProperties();
  const props = fresh ? store.getProperties() : scriptProperties_();
  const keys = Object.keys(props)
    .filter((key) => key.indexOf(SHEETSYNC_PENDING) === 0)
    .sort();
  for (const key of keys) {
    if (overBudget_()) return;
    // Another execution may have sent it since this one read its properties.
    const json = fresh ? props[key] : store.getProperty(key);
    if (json && sendOnePending_(json) === 'kept') continue;
    store.deleteProperty(key);
  }
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(SHEETSYNC_PENDING_TAB);
  if (!sheet || sheet.getLastRow() === 0) return;
  // Oldest first from the top; rows appended meanwhile go below and wait for the next run.
  const rows = sheet.getRange(1, 1, sheet.getLastRow(), 2).getValues();
  for (const row of rows) {
    if (overBudget_()) return;
    const json = unprefix_(row[1]);
    if (json === null)
      console.error('sheetsync: SHEETSYNC_E611 a row of the pending tab was changed; it is dropped');
    else if (sendOnePending_(json) === 'kept') return;
    removeTopRows_(sheet, 1);
  }
}

/**
 * Sends one pending edit or change.
 * @param {string} json
 * @return {string} 'sent', 'dropped' (nothing to send: its tab or its rows are gone, or it could
 *   not be read) or 'kept' (it failed now and is tried again by the next run)
 */
function sendOnePending_(json) {
  let pending;
  try {
    pending = JSON.parse(json);
  } catch (_error) {
    console.error('sheetsync: SHEETSYNC_E611 a pending edit could not be read; it is dropped');
    return 'dropped';
  }
  try {
    if (pending.kind === 'change') {
      sendChange_(pending.changeType);
      return 'sent';
    }
    const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(pending.sheet);
    if (!sheet || sheet.getSheetId() !== pending.sheetId || !isSynced_(sheet)) return 'dropped';
    const range = rangeInGrid_(sheet, String(pending.range));
    // Rows deleted since: the structure event of that deletion told the webhook.
    if (!range) return 'dropped';
    sendEdit_(sheet, range, pending.user || '');
    return 'sent';
  } catch (error) {
    console.error(
      `sheetsync: SHEETSYNC_E614 a pending ${pending.kind} of ${pending.sheet || 'the spreadsheet'} could not be sent now (${error}); the next run tries again`,
    );
    return 'kept';
  }
}

/**
 * The part of an A1 range (as getA1Notation wrote it) that is still inside the grid, or null when
 * none is: rows or columns may have been deleted since.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {string} a1
 */
function rangeInGrid_(sheet, a1) {
  const match = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/.exec(a1);
  if (!match) return null;
  const column = (letters) => letters.split('').reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);
  const row = Number(match[2]);
  const col = column(match[1]);
  const lastRow = Math.min(Number(match[4] || match[2]), sheet.getMaxRows());
  const lastCol = Math.min(column(match[3] || match[1]), sheet.getMaxColumns());
  if (row > lastRow || col > lastCol) return null;
  return sheet.getRange(row, col, lastRow - row + 1, lastCol - col + 1);
}

function pendingSheet_() {
  const ss = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = ss.getSheetByName(SHEETSYNC_PENDING_TAB);
  if (sheet) return sheet;
  try {
    return ss.insertSheet(SHEETSYNC_PENDING_TAB).hideSheet();
  } catch (_error) {
    // Another execution created it meanwhile.
    return ss.getSheetByName(SHEETSYNC_PENDING_TAB);
  }
}
