// sheetsync: the script that runs inside the Google Sheet.
//
// It sends every edit of a synced tab to the sheetWebhook function as a signed POST, and, after a
// structural change (rows removed, sorted, moved), the set of sync ids still present so the
// server finds deletions. Row identity is the hidden `_sheetsync_id` column: position is never
// identity, because people sort, insert, move and delete rows.
//
// Apps Script facts this relies on (Apps Script reference, "Installable triggers" and
// "Event objects"):
// - Installable onEdit fires for a person's edit or paste, never for changes made by a script or
//   through the Sheets API, so the ids and values this script or sheetsync writes cause no event.
// - onEdit's e.range is the edited block; onChange gives only e.changeType (EDIT, INSERT_ROW,
//   REMOVE_ROW, INSERT_COLUMN, REMOVE_COLUMN, INSERT_GRID, REMOVE_GRID, FORMAT, OTHER).
// - UrlFetchApp.fetch is synchronous; a failed delivery is kept in a hidden queue tab and retried
//   by a time-driven trigger, so no edit is lost while the functions are down.
// - Executions run concurrently and serialise on the script lock; one that cannot get it in time
//   keeps its edit or change as a Script Property (pending.js), sent by the next one that holds
//   the lock.

/* exported onOpen, setupFromMenu, setup, handleEdit, handleChange, flushQueue, showStatus */

const SHEETSYNC_ID_HEADER = '_sheetsync_id';
const SHEETSYNC_QUEUE_TAB = '_sheetsync_queue';
const SHEETSYNC_REJECTED_TAB = '_sheetsync_rejected';
const SHEETSYNC_PENDING_TAB = '_sheetsync_pending';
const SHEETSYNC_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * Most sync ids in one structure event (100,000 ids are 3.9 MB; the webhook refuses bodies over
 * 10 MiB). A tab with more sends 16 events instead, each with the ids that start with one hex
 * digit (`idPrefix`). The Script Property SHEETSYNC_STRUCTURE_IDS overrides it.
 */
const SHEETSYNC_STRUCTURE_IDS = 100000;
/**
 * Most characters of rows in one edit event: a bigger paste is sent as several edit events, in
 * order, each with some of its rows (the webhook refuses bodies over 10 MiB). The Script Property
 * SHEETSYNC_EDIT_CHARS overrides it.
 */
const SHEETSYNC_EDIT_CHARS = 4000000;
/**
 * How long an execution waits for the script lock (ms). An edit or change whose trigger does not
 * get it in time (another execution held it that long: a big paste, a slow webhook) is kept as a
 * pending Script Property and sent by the next execution that holds the lock. The Script
 * Property SHEETSYNC_LOCK_WAIT_MS overrides it.
 */
const SHEETSYNC_LOCK_WAIT_MS = 30000;
/** Script Property keys of pending edits and changes: the prefix, the time, a unique suffix. */
const SHEETSYNC_PENDING = 'SHEETSYNC_PENDING_';
/**
 * How long an execution may go on sending (ms from its start), queued events and pending edits
 * included; what is left waits for the next run. Google stops an execution at 6 minutes ("Script
 * runtime: 6 min / execution") wherever it is: 4 leave room for the last delivery and the rest.
 * The Script Property SHEETSYNC_DRAIN_MS overrides it.
 */
const SHEETSYNC_DRAIN_MS = 240000;
/** When this execution started: every execution loads the script into a fresh global scope. */
const SHEETSYNC_STARTED = Date.now();

/** Simple trigger: adds the sheetsync menu. */
function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('sheetsync')
    .addItem('Set up…', 'setupFromMenu')
    .addItem('Retry queued changes now', 'flushQueue')
    .addItem('Status', 'showStatus')
    .addToUi();
}

/** Menu "sheetsync → Set up…": asks for the webhook URL and secret, then installs the triggers. */
function setupFromMenu() {
  const ui = SpreadsheetApp.getUi();
  const url = ui.prompt(
    'sheetsync',
    'Webhook URL (the sheetWebhook output of terraform apply):',
    ui.ButtonSet.OK_CANCEL,
  );
  if (url.getSelectedButton() !== ui.Button.OK) return;
  const secret = ui.prompt('sheetsync', 'Webhook secret:', ui.ButtonSet.OK_CANCEL);
  if (secret.getSelectedButton() !== ui.Button.OK) return;
  const tabs = ui.prompt(
    'sheetsync',
    'Tabs to sync, comma-separated (empty: all tabs):',
    ui.ButtonSet.OK_CANCEL,
  );
  if (tabs.getSelectedButton() !== ui.Button.OK) return;
  setup(url.getResponseText().trim(), secret.getResponseText().trim(), tabs.getResponseText());
  ui.alert('sheetsync is set up: edits of the synced tabs now reach the database.');
}

/**
 * Stores the webhook URL and secret in Script Properties and (re)installs the triggers.
 * @param {string} webhookUrl
 * @param {string} secret
 * @param {string=} tabs comma-separated tab titles to sync; empty means every tab
 */
function setup(webhookUrl, secret, tabs) {
  if (!/^https?:\/\//.test(webhookUrl))
    throw new Error('sheetsync: the webhook URL must start with https://');
  if (!secret || secret.length < 16) throw new Error('sheetsync: the secret must be at least 16 characters');
  sheetsyncProperties_ = null;
  PropertiesService.getScriptProperties().setProperties({
    SHEETSYNC_WEBHOOK_URL: webhookUrl,
    SHEETSYNC_SECRET: secret,
    SHEETSYNC_TABS: (tabs || '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .join(','),
  });
  const ss = SpreadsheetApp.getActiveSpreadsheet();
  ScriptApp.getProjectTriggers().forEach((trigger) => {
    const name = trigger.getHandlerFunction();
    if (name === 'handleEdit' || name === 'handleChange' || name === 'flushQueue')
      ScriptApp.deleteTrigger(trigger);
  });
  ScriptApp.newTrigger('handleEdit').forSpreadsheet(ss).onEdit().create();
  ScriptApp.newTrigger('handleChange').forSpreadsheet(ss).onChange().create();
  ScriptApp.newTrigger('flushQueue').timeBased().everyMinutes(1).create();
  const synced = syncedSheets_(ss);
  synced.forEach(ensureIdColumn_);
  // Tabs are followed by sheetId from now on, so a tab renamed later stays synced (issue 19).
  if (tabs) {
    PropertiesService.getScriptProperties().setProperty(
      'SHEETSYNC_TAB_IDS',
      synced.map((sheet) => String(sheet.getSheetId())).join(','),
    );
    sheetsyncProperties_ = null;
  }
}

/**
 * Installable onEdit: sends the edited cells of each row, assigning sync ids to new rows.
 * @param {GoogleAppsScript.Events.SheetsOnEdit} e
 */
function handleEdit(e) {
  const sheet = e.range.getSheet();
  // A choice in the conflicts tab (conflicts.js): resolved through the webhook, not synced.
  if (sheet.getName() === SHEETSYNC_CONFLICTS_TAB) {
    resolveConflictChoices_(sheet, e.range);
    return;
  }
  if (!isSynced_(sheet)) return;
  const user = editorEmail_(e);
  const ran = withLock_(() => sendEdit_(sheet, e.range, user));
  if (!ran) {
    remember_({
      kind: 'edit',
      sheet: sheet.getName(),
      sheetId: sheet.getSheetId(),
      range: e.range.getA1Notation(),
      user: user,
    });
  }
}

/**
 * Sends what an edit of `range` changed. A row whose every cell was cleared is gone, as if deleted
 * (issue 19): its id is cleared with it, and a structure event lets the webhook find it missing,
 * so its delete goes through the same mass-change guard as deleted rows.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {GoogleAppsScript.Spreadsheet.Range} range
 * @param {string=} user the editor's email, when Apps Script gave it (editorEmail_)
 */
function sendEdit_(sheet, range, user) {
  const cleared = [];
  const payload = editPayload_(sheet, range, cleared);
  if (payload && payload.kind === 'edit' && user) payload.user = user;
  if (payload) sendInParts_(payload);
  if (cleared.length > 0) sendStructure_(sheet, 'CLEAR_ROWS');
  // Pasted copies of other rows' ids may have covered rows that had ids of their own: those rows
  // are missing now without being deleted, and the server shows their table values again.
  else if (payload && payload.kind === 'edit' && payload.rows.some((row) => row.copyOf))
    sendStructure_(sheet, 'PASTE');
}

/**
 * Sends an edit event, split into several by its rows when they are too many characters for one
 * request (SHEETSYNC_EDIT_CHARS); each part is an event of its own.
 * @param {Object} payload
 */
function sendInParts_(payload) {
  const limit = Number(scriptProperties_().SHEETSYNC_EDIT_CHARS) || SHEETSYNC_EDIT_CHARS;
  if (payload.kind !== 'edit' || JSON.stringify(payload.rows).length <= limit) {
    send_(payload);
    return;
  }
  const parts = [];
  let part = [];
  let size = 0;
  payload.rows.forEach((row) => {
    const length = JSON.stringify(row).length + 1;
    if (part.length > 0 && size + length > limit) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(row);
    size += length;
  });
  if (part.length > 0) parts.push(part);
  const events = parts.map((rows) => eventWith_(payload, { eventId: Utilities.getUuid(), rows: rows }));
  // Rows that all had their ids may be a sort of the visible columns: its parts travel as one
  // group through the queue, whose delivery writes the ids only once every part is answered.
  if (events.length > 1 && payload.canReidentify && payload.rows.every((row) => !row.isNew)) {
    const group = Utilities.getUuid();
    const queue = queueSheet_();
    events.forEach((event, index) => {
      event.part = { group: group, index: index, count: events.length };
      enqueue_(queue, event.eventId, JSON.stringify(event));
    });
    deliverQueued_();
    return;
  }
  events.forEach(send_);
}

/**
 * Installable onChange: after rows or columns are removed, or the tab is sorted or rearranged,
 * sends the set of sync ids still present so the server can find deleted rows.
 * @param {GoogleAppsScript.Events.SheetsOnChange} e
 */
function handleChange(e) {
  // EDIT and FORMAT come with an onEdit (or change no data).
  if (e.changeType === 'EDIT' || e.changeType === 'FORMAT') return;
  const changeType = String(e.changeType);
  if (!withLock_(() => sendChange_(changeType))) remember_({ kind: 'change', changeType: changeType });
}

/**
 * What a change of the spreadsheet's structure sends for each synced tab.
 * @param {string} changeType onChange's e.changeType
 */
function sendChange_(changeType) {
  if (changeType === 'INSERT_ROW') {
    // Only empty rows: no data to send, but the rows below moved, and the server writes to the
    // sheet by the positions it last read. A small event tells it to read them again.
    syncedSheets_(SpreadsheetApp.getActiveSpreadsheet()).forEach((sheet) => {
      send_(basePayload_(sheet, sheetContext_(sheet), 'layout', { changeType: 'INSERT_ROW' }));
    });
    return;
  }
  syncedSheets_(SpreadsheetApp.getActiveSpreadsheet()).forEach((sheet) => {
    sendStructure_(sheet, changeType);
  });
}

/**
 * Sends the sync ids a tab holds, so the server can find its deleted rows.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {string} changeType what changed the tab's rows
 */
function sendStructure_(sheet, changeType) {
  const context = sheetContext_(sheet);
  // The event's time is when the ids were read: a row sheetsync appends after that is missing
  // from the list without having been deleted, and the server tells the two apart by it.
  const readAt = Date.now();
  const ids = readIds_(sheet, context).filter((id) => SHEETSYNC_UUID.test(id));
  // Rows with data but no id mean ids were lost (the id column deleted or cleared), not rows:
  // the webhook then holds the deletes for a person instead of applying them.
  const unidentified = unidentifiedRows_(sheet, context, ids.length);
  const limit = Number(scriptProperties_().SHEETSYNC_STRUCTURE_IDS) || SHEETSYNC_STRUCTURE_IDS;
  if (ids.length <= limit) {
    send_(
      basePayload_(sheet, context, 'structure', {
        changeType: changeType,
        ids: ids,
        time: readAt,
        unidentified: unidentified,
      }),
    );
    return;
  }
  '0123456789abcdef'.split('').forEach((prefix) => {
    const part = ids.filter((id) => id.charAt(0).toLowerCase() === prefix);
    send_(
      basePayload_(sheet, context, 'structure', {
        changeType: changeType,
        idPrefix: prefix,
        ids: part,
        time: readAt,
        unidentified: unidentified,
      }),
    );
  });
}

/** Time-driven trigger (every minute) and menu item: delivers queued events in order. */
function flushQueue() {
  withLock_(() => {
    deliverQueued_();
  }, true);
}

/** Menu "sheetsync → Status". */
function showStatus() {
  const queue = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(SHEETSYNC_QUEUE_TAB);
  // An event's first row holds part 1 (a long one goes on below); an older script's rows, text.
  const parts =
    queue && queue.getLastRow() > 0 ? queue.getRange(1, 4, queue.getLastRow(), 1).getValues() : [];
  const waiting = parts.filter((row) => row[0] === 1 || typeof row[0] === 'string').length;
  const url = PropertiesService.getScriptProperties().getProperty('SHEETSYNC_WEBHOOK_URL') || '(not set up)';
  SpreadsheetApp.getUi().alert(`sheetsync\nWebhook: ${url}\nChanges waiting to be sent: ${waiting}`);
}

// ---------------------------------------------------------------------------------------------

/**
 * Reads the edited block once (every column of its rows), assigns missing or duplicated sync ids,
 * and returns the event to send, or null when nothing syncable changed. The ids of rows left
 * with no value at all are cleared and pushed to `cleared`.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {GoogleAppsScript.Spreadsheet.Range} range
 * @param {string[]} cleared
 */
function editPayload_(sheet, range, cleared) {
  const context = sheetContext_(sheet);
  const firstRow = Math.max(range.getRow(), 2);
  if (range.getLastRow() < firstRow) return basePayload_(sheet, context, 'headers', {});
  // The event's range is where the edit (or sort) was; a trigger runs after the person's next
  // action, which may have deleted rows since. Only rows the grid still has are read (a range
  // past its end fails "outside the dimensions of the sheet"); the deletion's own change event
  // sends the ids still present.
  const lastRow = Math.min(range.getLastRow(), sheet.getMaxRows());
  if (lastRow < firstRow) return null;
  const width = context.headers.length;
  const rowCount = lastRow - firstRow + 1;
  const block = sheet.getRange(firstRow, 1, rowCount, width).getValues();
  const firstColumn = range.getColumn();
  const lastColumn = range.getLastColumn();
  const idIndex = context.idColumn - 1;
  // A paste that covers the id column may bring copies of other rows' ids: the pasted row is
  // the copy, so it gets a fresh id and travels as a new row.
  const elsewhere = {};
  if (context.idColumn >= firstColumn && context.idColumn <= lastColumn) {
    readIds_(sheet, context).forEach((id, i) => {
      const rowNumber = i + 2;
      if (rowNumber < firstRow || rowNumber > lastRow) elsewhere[id] = true;
    });
  }
  const seen = {};
  let idsChanged = false;
  const rows = [];
  for (let r = 0; r < rowCount; r++) {
    const values = block[r];
    let id = String(values[idIndex] || '');
    const isNew = !SHEETSYNC_UUID.test(id) || elsewhere[id] === true || seen[id] === true;
    if (isNew && isBlank_(values, idIndex)) continue; // an empty row is not a row yet
    if (isBlank_(values, idIndex)) {
      values[idIndex] = '';
      idsChanged = true;
      cleared.push(id);
      continue;
    }
    // A copy of another row's id: the row it was copied from, told so that the server does not
    // take the copy for that row when its key is the same (issue 19).
    const copyOf = isNew && SHEETSYNC_UUID.test(id) ? id : '';
    if (isNew) {
      id = Utilities.getUuid();
      values[idIndex] = id;
      idsChanged = true;
    }
    seen[id] = true;
    const cells = {};
    for (let c = 0; c < width; c++) {
      const header = context.headers[c];
      if (c === idIndex || !header) continue;
      if (isNew || (c + 1 >= firstColumn && c + 1 <= lastColumn))
        cells[header] = cellValue_(values[c], context.timeZone);
    }
    const row = { rowId: id, row: firstRow + r, isNew: isNew, cells: cells };
    if (copyOf) row.copyOf = copyOf;
    rows.push(row);
  }
  if (idsChanged) {
    sheet
      .getRange(firstRow, context.idColumn, rowCount, 1)
      .setValues(block.map((values) => [values[idIndex]]));
  }
  if (rows.length === 0) return null;
  return basePayload_(sheet, context, 'edit', { rows: rows, canReidentify: true });
}

/**
 * The header row (read once: every event needs it) and the id column, created when missing.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 */
function sheetContext_(sheet) {
  let headers = headerRow_(sheet);
  let idColumn = headers.indexOf(SHEETSYNC_ID_HEADER) + 1;
  if (idColumn === 0) {
    idColumn = ensureIdColumn_(sheet);
    headers = headerRow_(sheet);
  }
  return { headers: headers, idColumn: idColumn, timeZone: sheet.getParent().getSpreadsheetTimeZone() };
}

/** Row 1 as trimmed strings, as wide as the sheet's content (at least one column). */
function headerRow_(sheet) {
  return sheet
    .getRange(1, 1, 1, Math.max(sheet.getLastColumn(), 1))
    .getValues()[0]
    .map((h) => String(h).trim());
}

/**
 * The 1-based column of `_sheetsync_id`, created (hidden, warning-only protected) when missing.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 */
function ensureIdColumn_(sheet) {
  const width = Math.max(sheet.getLastColumn(), 1);
  const headers = sheet.getRange(1, 1, 1, width).getValues()[0];
  for (let c = 0; c < headers.length; c++)
    if (String(headers[c]).trim() === SHEETSYNC_ID_HEADER) return c + 1;
  const column = sheet.getLastColumn() + 1;
  if (column > sheet.getMaxColumns()) sheet.insertColumnAfter(sheet.getMaxColumns());
  sheet.getRange(1, column).setValue(SHEETSYNC_ID_HEADER);
  sheet.hideColumns(column);
  sheet
    .getRange(1, column, sheet.getMaxRows(), 1)
    .protect()
    .setDescription('sheetsync row ids: do not edit')
    .setWarningOnly(true);
  return column;
}

/**
 * How many rows below the header hold data but no valid sync id. Reads the tab's values only when
 * there are fewer ids than rows, so a tab whose rows all have ids costs nothing more.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {{headers: string[], idColumn: number}} context
 * @param {number} idCount valid ids read from the id column
 * @return {number}
 */
function unidentifiedRows_(sheet, context, idCount) {
  const last = sheet.getLastRow();
  if (last - 1 <= idCount) return 0;
  const idIndex = context.idColumn - 1;
  const values = sheet
    .getRange(2, 1, last - 1, Math.max(context.headers.length, context.idColumn))
    .getValues();
  let count = 0;
  values.forEach((row) => {
    if (!SHEETSYNC_UUID.test(String(row[idIndex] || '')) && !isBlank_(row, idIndex)) count++;
  });
  return count;
}

/** The id column's values from row 2 down, as strings. */
function readIds_(sheet, context) {
  const last = sheet.getLastRow();
  if (last < 2) return [];
  return sheet
    .getRange(2, context.idColumn, last - 1, 1)
    .getValues()
    .map((row) => String(row[0] || ''));
}

/**
 * A copy of an event with `fields` set, leaving out the keys named in `without`.
 * @param {Object} payload
 * @param {Object} fields
 * @param {string[]=} without
 */
function eventWith_(payload, fields, without) {
  const event = {};
  for (const key in payload) if (!without || without.indexOf(key) < 0) event[key] = payload[key];
  for (const key in fields) event[key] = fields[key];
  return event;
}

function basePayload_(sheet, context, kind, extra) {
  const payload = {
    v: 1,
    eventId: Utilities.getUuid(),
    kind: kind,
    spreadsheetId: sheet.getParent().getId(),
    sheet: sheet.getName(),
    sheetId: sheet.getSheetId(),
    headers: context.headers,
    time: Date.now(),
  };
  return eventWith_(payload, extra);
}

/**
 * The editing person's email (links[].attribution). Apps Script gives it only for users of the
 * spreadsheet owner's Google Workspace domain: for consumer (gmail.com) accounts and people
 * outside the domain `e.user` is absent or its email empty ("Event objects": user; Session
 * getActiveUser), and the edit then carries no user.
 * @param {GoogleAppsScript.Events.SheetsOnEdit} e
 * @return {string}
 */
function editorEmail_(e) {
  try {
    return (e.user && typeof e.user.getEmail === 'function' && String(e.user.getEmail() || '')) || '';
  } catch (_error) {
    return '';
  }
}

/** A cell as JSON: dates in the spreadsheet's time zone, everything else as the sheet holds it. */
function cellValue_(value, timeZone) {
  if (value instanceof Date) {
    const hasTime = Utilities.formatDate(value, timeZone, 'HH:mm:ss.SSS') !== '00:00:00.000';
    return Utilities.formatDate(value, timeZone, hasTime ? "yyyy-MM-dd'T'HH:mm:ss.SSSXXX" : 'yyyy-MM-dd');
  }
  return value;
}

function isBlank_(values, skipIndex) {
  for (let c = 0; c < values.length; c++)
    if (c !== skipIndex && values[c] !== '' && values[c] !== null) return false;
  return true;
}

function isSynced_(sheet) {
  const name = sheet.getName();
  if (name.indexOf('_sheetsync') === 0) return false;
  const properties = scriptProperties_();
  const tabs = properties.SHEETSYNC_TABS;
  if (!tabs || tabs.split(',').indexOf(name) >= 0) return true;
  // A listed tab renamed since setup: found by its sheetId.
  const ids = properties.SHEETSYNC_TAB_IDS;
  return !!ids && ids.split(',').indexOf(String(sheet.getSheetId())) >= 0;
}

/** @type {Object<string, string>|null} */
let sheetsyncProperties_ = null;

/**
 * The Script Properties, read once per execution (an execution starts from a fresh global
 * scope): an edit needs the tabs, the URL and the secret, and each getProperty is its own call.
 * @return {Object<string, string>}
 */
function scriptProperties_() {
  if (!sheetsyncProperties_) sheetsyncProperties_ = PropertiesService.getScriptProperties().getProperties();
  return sheetsyncProperties_;
}

function syncedSheets_(ss) {
  return ss.getSheets().filter(isSynced_);
}

/**
 * Runs fn holding the script lock, after the edits and changes whose triggers could not get it.
 * @param {function(): void} fn
 * @param {boolean=} fresh read the pending ones from Script Properties now (the time trigger),
 *   not from the properties this execution read at its start
 * @return {boolean} false when the lock was not had in time: fn did not run
 */
function withLock_(fn, fresh) {
  const lock = LockService.getScriptLock();
  if (!lock.tryLock(Number(scriptProperties_().SHEETSYNC_LOCK_WAIT_MS) || SHEETSYNC_LOCK_WAIT_MS))
    return false;
  try {
    sendPending_(fresh);
    fn();
  } finally {
    lock.releaseLock();
  }
  return true;
}
