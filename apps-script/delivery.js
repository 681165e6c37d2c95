// sheetsync: signed delivery to the webhook, and the queue that keeps events while it is down.
//
// Signature: X-Sheetsync-Timestamp is the send time in milliseconds since the epoch, and
// X-Sheetsync-Signature is "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
// A queued event is signed afresh when it is retried, so a retry after the server's ±5 minute
// window is accepted; the event id in the body stays the same, so the server applies it once.
//
// Order: while anything is queued, new events queue behind it and the queue is sent oldest
// first, stopping at the first failure, so the server sees one tab's events in the order made.
//
// Answers: the webhook may answer an edit with `reidentify` (rows sorted without their hidden
// ids); the script then writes those ids (followAnswer_) and sends a `layout` event.

/**
 * Sends one event, or queues it when the webhook cannot take it now.
 * @param {Object} payload
 */
function send_(payload) {
  const body = JSON.stringify(payload);
  const queue = queueSheet_();
  if (queue.getLastRow() === 0) {
    const delivery = deliver_(body);
    if (delivery.outcome === 'delivered') {
      const sheet = followAnswer_(payload, delivery.answer);
      if (sheet) sendReidentified_(sheet);
      return;
    }
    if (delivery.outcome === 'rejected') return reject_(payload.eventId, body);
  }
  enqueue_(queue, payload.eventId, body);
  deliverQueued_();
}

/** Sends queued events oldest first; stops at the first one that cannot be delivered yet. */
function deliverQueued_() {
  const queue = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(SHEETSYNC_QUEUE_TAB);
  if (!queue || queue.getLastRow() === 0) return;
  const rows = queue.getDataRange().getValues();
  let done = 0;
  const relaid = [];
  const groups = {};
  for (let i = 0; i < rows.length; i++) {
    const body = rows[i].slice(3).join('');
    const delivery = deliver_(body);
    if (delivery.outcome === 'retry') {
      queue.getRange(i + 1, 3).setValue(Number(rows[i][2] || 0) + 1);
      break;
    }
    const payload = JSON.parse(body);
    if (delivery.outcome === 'rejected') reject_(String(rows[i][0]), body);
    if (payload.part) {
      const group = groups[payload.part.group] || { first: i, count: payload.part.count, parts: [] };
      groups[payload.part.group] = group;
      group.parts.push({
        payload: payload,
        answer: delivery.outcome === 'delivered' ? delivery.answer : null,
      });
    } else if (delivery.outcome === 'delivered') {
      const sheet = followAnswer_(payload, delivery.answer);
      if (sheet) relaid.push(sheet);
    }
    done++;
  }
  const resend = [];
  Object.keys(groups).forEach((id) => {
    const group = groups[id];
    // Stopped within the group: its parts stay queued and are sent again (the webhook answers a
    // repeated part 409 with its moves again).
    if (group.parts.length < group.count) {
      done = Math.min(done, group.first);
      return;
    }
    const sheet = followGroup_(group.parts, resend);
    if (sheet) relaid.push(sheet);
  });
  if (done > 0) queue.deleteRows(1, done);
  // After the delivered ones left the queue: these may queue behind the rest.
  resend.forEach(send_);
  relaid.forEach(sendReidentified_);
}

/**
 * Tells the webhook the ids of rows sorted without them were written: a `layout` event, so
 * applyToSheet reads the positions again and its write hold ends.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 */
function sendReidentified_(sheet) {
  send_(basePayload_(sheet, sheetContext_(sheet), 'layout', { changeType: 'REIDENTIFY' }));
}

/**
 * Follows the answers to every part of a split edit that may be a sort. When every part was
 * answered with moves and together they are a permutation of the rows' ids, the ids are written
 * (followAnswer_). Otherwise the event was no sort: the parts answered with moves were not
 * applied, so their rows go to `resend` as plain edits.
 * @param {{payload: Object, answer: Object|null}[]} parts
 * @param {Object[]} resend
 * @return {GoogleAppsScript.Spreadsheet.Sheet|null} the tab whose ids were written
 */
function followGroup_(parts, resend) {
  const moves = [];
  const rows = [];
  let sorted = true;
  parts.forEach((part) => {
    const answered = part.answer && Array.isArray(part.answer.reidentify) ? part.answer.reidentify : null;
    if (answered) {
      answered.forEach((move) => {
        moves.push(move);
      });
    } else sorted = false;
    part.payload.rows.forEach((row) => {
      rows.push(row);
    });
  });
  if (sorted && isPermutation_(moves)) {
    return followAnswer_(eventWith_(parts[0].payload, { rows: rows }), { reidentify: moves });
  }
  parts.forEach((part) => {
    if (!part.answer || !Array.isArray(part.answer.reidentify)) return;
    resend.push(eventWith_(part.payload, { eventId: Utilities.getUuid() }, ['part', 'canReidentify']));
  });
  return null;
}

/** Whether the moves take ids only from rows that give theirs: each id leaves one row and lands on one. */
function isPermutation_(moves) {
  const from = moves.map((move) => String(move.from)).sort();
  const to = moves.map((move) => String(move.to)).sort();
  return from.length > 0 && from.every((id, i) => id === to[i] && (i === 0 || id !== from[i - 1]));
}

/**
 * Follows the webhook's answer to a delivered event. `reidentify` lists rows sorted without
 * their hidden ids: the row at `row` carried id `from` and holds the values of row `to`. The ids
 * are written only when every listed row still has the id the event sent, and either the values
 * it sent or values no other row of the event had (an edit since, not another move); otherwise
 * nothing is written and the rows keep their ids.
 * @param {Object} payload the delivered event
 * @param {Object|null} answer the webhook's JSON answer
 * @return {GoogleAppsScript.Spreadsheet.Sheet|null} the tab whose ids were written
 */
function followAnswer_(payload, answer) {
  const moves = answer && Array.isArray(answer.reidentify) ? answer.reidentify : [];
  if (payload.kind !== 'edit' || !isPermutation_(moves)) return null;
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(payload.sheet);
  if (!sheet || sheet.getSheetId() !== payload.sheetId) return null;
  const context = sheetContext_(sheet);
  const headers = Object.keys(payload.rows[0].cells);
  /** The row's values as the event would carry them, one string. */
  const valuesKey = (cells) => JSON.stringify(headers.map((header) => cells[header]));
  const sent = {};
  const sentKeys = {};
  payload.rows.forEach((row) => {
    sent[row.rowId] = row;
    sentKeys[valuesKey(row.cells)] = true;
  });
  let first = Infinity;
  let last = 0;
  moves.forEach((move) => {
    first = Math.min(first, move.row);
    last = Math.max(last, move.row);
  });
  if (first < 2 || last > sheet.getLastRow()) return null;
  const block = sheet.getRange(first, 1, last - first + 1, context.headers.length).getValues();
  const idIndex = context.idColumn - 1;
  // A row whose values changed since the event was either edited (a person typed into a sorted
  // row before its id came: that edit's trigger waits for this one's lock and then reads the id
  // written here, so it reaches the right row) or moved again, holding another sent row's
  // values (another sort: nothing is written, and that sort's own event re-identifies the rows
  // from the ids they still have).
  const followable = moves.every((move) => {
    const values = block[move.row - first];
    const row = sent[move.from];
    if (!row || String(values[idIndex]) !== move.from || !SHEETSYNC_UUID.test(String(move.to))) return false;
    const now = {};
    for (const header of headers) {
      const c = context.headers.indexOf(header);
      if (c < 0) return false;
      now[header] = cellValue_(values[c], context.timeZone);
    }
    const key = valuesKey(now);
    return key === valuesKey(row.cells) || !sentKeys[key];
  });
  if (!followable) {
    console.warn('sheetsync: rows sorted without their ids moved again before their ids could be written');
    return null;
  }
  moves.forEach((move) => {
    block[move.row - first][idIndex] = move.to;
  });
  sheet
    .getRange(first, context.idColumn, block.length, 1)
    .setValues(block.map((values) => [values[idIndex]]));
  return sheet;
}

/**
 * POSTs a body to the webhook.
 * @param {string} body
 * @return {{outcome: string, answer: Object|null}} outcome 'delivered', 'retry' (try again later)
 *   or 'rejected' (will never be accepted); answer the webhook's JSON answer to a delivery
 */
function deliver_(body) {
  const props = scriptProperties_();
  const url = props.SHEETSYNC_WEBHOOK_URL;
  const secret = props.SHEETSYNC_SECRET;
  if (!url || !secret) return { outcome: 'retry', answer: null }; // not set up yet: keep the event until it is
  const timestamp = String(Date.now());
  const signature = hex_(Utilities.computeHmacSha256Signature(`${timestamp}.${body}`, secret));
  let response;
  try {
    response = UrlFetchApp.fetch(url, {
      method: 'post',
      contentType: 'application/json',
      payload: body,
      headers: { 'X-Sheetsync-Timestamp': timestamp, 'X-Sheetsync-Signature': `sha256=${signature}` },
      muteHttpExceptions: true,
      followRedirects: false,
    });
  } catch (error) {
    console.warn(`sheetsync: webhook unreachable, event queued: ${error}`);
    return { outcome: 'retry', answer: null };
  }
  const code = response.getResponseCode();
  // 409: this event id was already received (an earlier try got through); nothing to resend.
  if ((code >= 200 && code < 300) || code === 409) return { outcome: 'delivered', answer: answer_(response) };
  // 400 and 413 are final for this body; 401 (wrong secret or clock) and 5xx/429 are not.
  if (code === 400 || code === 413) {
    console.error(`sheetsync: webhook rejected an event (${code}): ${response.getContentText()}`);
    return { outcome: 'rejected', answer: null };
  }
  console.warn(`sheetsync: webhook answered ${code}, event queued`);
  return { outcome: 'retry', answer: null };
}

/** The JSON body of an answer, or null (an empty or non-JSON body). */
function answer_(response) {
  try {
    return JSON.parse(response.getContentText());
  } catch (_error) {
    return null;
  }
}

function enqueue_(queue, eventId, body) {
  const row = [eventId, new Date().toISOString(), 0];
  for (let i = 0; i < body.length; i += SHEETSYNC_CHUNK) row.push(body.slice(i, i + SHEETSYNC_CHUNK));
  queue.appendRow(row);
}

/** A rejected event is kept, with the reason, in a hidden tab for a person to look at. */
function reject_(eventId, body) {
  const ss = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = ss.getSheetByName(SHEETSYNC_REJECTED_TAB) || ss.insertSheet(SHEETSYNC_REJECTED_TAB);
  const row = [eventId, new Date().toISOString()];
  for (let i = 0; i < body.length; i += SHEETSYNC_CHUNK) row.push(body.slice(i, i + SHEETSYNC_CHUNK));
  sheet.appendRow(row);
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

/** @param {number[]} bytes signed bytes, as Utilities returns them */
function hex_(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = (bytes[i] + 256) % 256;
    out += (b < 16 ? '0' : '') + b.toString(16);
  }
  return out;
}
