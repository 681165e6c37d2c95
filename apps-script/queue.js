// sheetsync: the hidden tabs that keep events for later. `_sheetsync_queue` holds the events not
// delivered yet, oldest first; `_sheetsync_rejected` the events the webhook refused for good, or
// that could not be read back, for a person to look at.
//
// Layout: an event's body is cut into chunks of at most SHEETSYNC_CHUNK characters, at code point
// boundaries (a chunk never ends inside an emoji's surrogate pair, which a cell could not hold),
// one chunk a row, so a long body goes down the tab, never wider than it:
//   [eventId, time, tries (queue) or reason (rejected), part (1-based), parts, chunk]
// Range.setValues parses strings as typed input ("If a value begins with =, it's interpreted as a
// formula"; a leading ' marks text and is dropped; number- and date-like text becomes a number or
// a date), and nothing writes them raw. So the id and every chunk are stored behind
// SHEETSYNC_CELL_PREFIX, a character that begins no formula, number, date, boolean or error: the
// parser keeps such text as it is, and the prefix is taken off when the row is read back.

/** Characters of a body in one cell: Google caps a cell at 50,000. */
const SHEETSYNC_CHUNK = 40000;
const SHEETSYNC_CELL_PREFIX = '~';
/** Queue rows read at once: up to 50 chunks of 40,000 characters. */
const SHEETSYNC_READ_ROWS = 50;
/** Columns of the queue and rejected tabs. */
const SHEETSYNC_QUEUE_WIDTH = 6;

/**
 * Appends an event to the queue tab. Runs holding the script lock (only its holder writes the
 * queue), so the rows below the last one are this execution's.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} queue
 * @param {string} eventId
 * @param {string} body
 */
function enqueue_(queue, eventId, body) {
  writeRows_(queue, eventRows_(eventId, 0, body));
}

/**
 * Keeps an event the webhook refused for good (or that could not be read back) in the rejected
 * tab, with the reason, for a person to look at. Runs holding the script lock.
 * @param {string} eventId
 * @param {string} body
 * @param {string} reason
 */
function reject_(eventId, body, reason) {
  const ss = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = ss.getSheetByName(SHEETSYNC_REJECTED_TAB) || ss.insertSheet(SHEETSYNC_REJECTED_TAB);
  writeRows_(sheet, eventRows_(eventId, reason, body));
}

function queueSheet_() {
  const ss = SpreadsheetApp.getActiveSpreadsheet();
  let queue = ss.getSheetByName(SHEETSYNC_QUEUE_TAB);
  if (!queue) {
    queue = ss.insertSheet(SHEETSYNC_QUEUE_TAB);
    queue.hideSheet();
  }
  return queue;
}

/** The rows that hold one event: [id, time, tries or reason, part, parts, chunk]. */
function eventRows_(eventId, third, body) {
  const chunks = chunks_(body, SHEETSYNC_CHUNK);
  const now = new Date();
  return chunks.map((chunk, i) => [
    SHEETSYNC_CELL_PREFIX + eventId,
    now,
    third,
    i + 1,
    chunks.length,
    SHEETSYNC_CELL_PREFIX + chunk,
  ]);
}

/**
 * Cuts text into pieces of at most `size` characters, never between the two halves of a
 * surrogate pair.
 * @param {string} text
 * @param {number} size
 * @return {string[]} at least one piece
 */
function chunks_(text, size) {
  const pieces = [];
  let start = 0;
  do {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    pieces.push(text.slice(start, end));
    start = end;
  } while (start < text.length);
  return pieces;
}

/** Writes rows below the last row with content, growing the grid when they do not fit. */
function writeRows_(sheet, rows) {
  const first = sheet.getLastRow() + 1;
  const missing = first + rows.length - 1 - sheet.getMaxRows();
  if (missing > 0) sheet.insertRowsAfter(sheet.getMaxRows(), missing);
  sheet.getRange(first, 1, rows.length, rows[0].length).setValues(rows);
}

/**
 * Deletes the first `count` rows. Google refuses to delete every row of a sheet ("You can't
 * delete all the rows on the sheet"), so when they are all the rows one empty row is added first.
 */
function removeTopRows_(sheet, count) {
  if (count <= 0) return;
  if (count >= sheet.getMaxRows()) sheet.insertRowsAfter(sheet.getMaxRows(), 1);
  sheet.deleteRows(1, count);
}

/** A stored text without its prefix; null when the cell does not hold one (it was changed). */
function unprefix_(value) {
  return typeof value === 'string' && value.charAt(0) === SHEETSYNC_CELL_PREFIX ? value.slice(1) : null;
}

/**
 * Reads the queue from its head, one event at a time, while its holder delivers and removes them.
 * Only the holder of the script lock changes the queue, so the rows read stay valid until
 * `consumed` says they were removed.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} queue
 */
function queueReader_(queue) {
  let rows = [];
  /** Makes sure rows[0..n-1] are read (fewer when the queue is shorter); returns how many are. */
  const ensure = (n) => {
    if (rows.length >= n) return rows.length;
    const last = queue.getLastRow();
    if (last === 0) {
      rows = [];
      return 0;
    }
    const count = Math.min(last, Math.max(n, SHEETSYNC_READ_ROWS));
    rows = queue.getRange(1, 1, count, SHEETSYNC_QUEUE_WIDTH).getValues();
    return rows.length;
  };
  /** The text of rows[from..from+count-1] as they are: an unreadable event, kept for a person. */
  const raw = (from, count) =>
    rows
      .slice(from, from + count)
      .map((row) => (unprefix_(row[5]) === null ? String(row[5]) : unprefix_(row[5])))
      .join('');
  return {
    /**
     * The event at row `at` (1-based, counted from the head), or null past the end. When its rows
     * do not make an event (`readable` false), `rows` says how many to set aside and `body` holds
     * their text as it is.
     * @return {{eventId: string, tries: number, rows: number, body: string, readable: boolean}|null}
     */
    eventAt(at) {
      if (ensure(at) < at) return null;
      const head = rows[at - 1];
      const eventId = unprefix_(head[0]) || String(head[0]);
      const tries = Number(head[2]) || 0;
      const unreadable = (count) => ({
        eventId: eventId,
        tries: tries,
        rows: count,
        body: raw(at - 1, count),
        readable: false,
      });
      // A row written by an earlier version of this script: the whole body across its columns.
      if (typeof head[3] === 'string') {
        const width = Math.max(queue.getLastColumn(), 4);
        const body = queue.getRange(at, 1, 1, width).getValues()[0].slice(3).join('');
        return { eventId: eventId, tries: tries, rows: 1, body: body, readable: true };
      }
      const parts = Number(head[4]);
      if (Number(head[3]) !== 1 || !(parts >= 1)) return unreadable(1);
      const available = ensure(at + parts - 1) - at + 1;
      const chunks = [];
      for (let i = 0; i < Math.min(parts, available); i++) {
        const row = rows[at - 1 + i];
        const chunk = unprefix_(row[5]);
        if (chunk === null || Number(row[3]) !== i + 1 || String(row[0]) !== String(head[0])) {
          return unreadable(Math.max(i, 1));
        }
        chunks.push(chunk);
      }
      if (chunks.length < parts) return unreadable(chunks.length);
      return { eventId: eventId, tries: tries, rows: parts, body: chunks.join(''), readable: true };
    },
    /** The first `count` rows were removed from the tab. */
    consumed(count) {
      rows = rows.slice(count);
    },
  };
}
