// sheetsync: signed delivery to the webhook, and the queue that keeps events while it is down.
//
// Signature: X-Sheetsync-Spreadsheet is this spreadsheet's id, X-Sheetsync-Timestamp the send
// time in milliseconds since the epoch, and X-Sheetsync-Signature is
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), over the UTF-8 bytes that are
// sent. The secret is this spreadsheet's own (`sheetsync secret --spreadsheet ID` prints it): an
// editor of another linked spreadsheet cannot sign for this one.
// A queued event is signed afresh when it is retried, so a retry after the server's ±5 minute
// window is accepted; the event id in the body stays the same, so the server applies it once.
//
// Order: while anything is queued, new events queue behind it and the queue is sent oldest
// first, stopping at the first failure, so the server sees one tab's events in the order made.
// Each delivered event leaves the queue at once (queue.js), so an execution stopped at Google's
// 6-minute limit loses at most the answer to the one in flight, which is sent again (409).
//
// Answers: the webhook may answer an edit with `reidentify` (rows sorted without their hidden
// ids); the script then writes those ids (followAnswer_) and sends a `layout` event.

/**
 * Sends one event, or queues it when the webhook cannot take it now (or this execution has used
 * its time: the next one sends it).
 * @param {Object} payload
 */
function send_(payload) {
  const body = JSON.stringify(payload);
  const queue = queueSheet_();
  if (queue.getLastRow() === 0 && !overBudget_()) {
    const delivery = deliver_(body);
    if (delivery.outcome === 'delivered') {
      const sheet = followAnswer_(payload, delivery.answer);
      if (sheet) sendReidentified_(sheet);
      return;
    }
    if (delivery.outcome === 'rejected') return reject_(payload.eventId, body, delivery.reason);
  }
  enqueue_(queue, payload.eventId, body);
  deliverQueued_();
}

/**
 * Sends queued events oldest first, removing each from the queue once delivered, until one
 * cannot be delivered yet or this execution's time budget is spent: Google stops an execution at
 * 6 minutes wherever it is, and what was delivered before is gone from the queue by then, so the
 * next run goes on from there. The parts of a split sort travel as one unit (followGroup_).
 * Runs holding the script lock.
 */
function deliverQueued_() {
  const queue = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(SHEETSYNC_QUEUE_TAB);
  if (!queue) return;
  const reader = queueReader_(queue);
  const relaid = [];
  const resend = [];
  while (!overBudget_()) {
    const unit = queuedUnit_(reader);
    if (!unit) break;
    if (!deliverUnit_(unit, relaid, resend)) {
      queue.getRange(1, 3).setValue(unit.tries + 1);
      break;
    }
    removeTopRows_(queue, unit.rows);
    reader.consumed(unit.rows);
  }
  // After the delivered ones left the queue: these may queue behind the rest.
  resend.forEach(send_);
  relaid.forEach(sendReidentified_);
}

/**
 * The unit at the head of the queue: one event, or every part of a split edit that may be a sort
 * (the parts are queued together), or rows that do not read as an event.
 * @return {{rows: number, tries: number, events: {eventId: string, body: string, payload: Object|null}[]}|null}
 */
function queuedUnit_(reader) {
  const first = readQueued_(reader, 1);
  if (!first) return null;
  const unit = { rows: first.rows, tries: first.tries, events: [first] };
  const part = first.payload?.part;
  while (part && unit.events.length < part.count) {
    const next = readQueued_(reader, unit.rows + 1);
    const nextPart = next?.payload?.part;
    if (!nextPart || nextPart.group !== part.group) break;
    unit.events.push(next);
    unit.rows += next.rows;
  }
  return unit;
}

/** The event at row `at` of the queue, parsed; payload null when it cannot be read. */
function readQueued_(reader, at) {
  const event = reader.eventAt(at);
  if (!event) return null;
  let payload = null;
  try {
    if (event.readable) payload = JSON.parse(event.body);
  } catch (_error) {
    payload = null;
  }
  return { eventId: event.eventId, tries: event.tries, rows: event.rows, body: event.body, payload: payload };
}

/**
 * Delivers a unit of the queue. An event that cannot be read, or that the webhook refuses for
 * good, goes to the rejected tab, so it does not hold up the events behind it.
 * @return {boolean} false when the webhook cannot take it now: the unit stays at the head
 */
function deliverUnit_(unit, relaid, resend) {
  const answered = [];
  for (let i = 0; i < unit.events.length; i++) {
    const event = unit.events[i];
    if (!event.payload) {
      console.error(
        `sheetsync: SHEETSYNC_E610 queued event ${event.eventId} could not be read back; it is kept in ${SHEETSYNC_REJECTED_TAB}`,
      );
      reject_(event.eventId, event.body, 'unreadable in the queue');
      continue;
    }
    const delivery = deliver_(event.body);
    // Stopped within a group: all its parts stay queued and are sent again (the webhook answers
    // a repeated part 409 with its moves again).
    if (delivery.outcome === 'retry') return false;
    if (delivery.outcome === 'rejected') reject_(event.eventId, event.body, delivery.reason);
    answered.push({
      payload: event.payload,
      answer: delivery.outcome === 'delivered' ? delivery.answer : null,
    });
  }
  const part = unit.events[0].payload?.part;
  if (part && answered.length === part.count) {
    const sheet = followGroup_(answered, resend);
    if (sheet) relaid.push(sheet);
  } else if (part) {
    // Parts missing from the queue: the rest cannot be a whole sort, so those answered with moves
    // (not applied) go again as plain edits.
    answered.forEach((event) => {
      if (!Array.isArray(event.answer?.reidentify)) return;
      resend.push(eventWith_(event.payload, { eventId: Utilities.getUuid() }, ['part', 'canReidentify']));
    });
  } else if (answered.length === 1 && answered[0].answer) {
    const sheet = followAnswer_(answered[0].payload, answered[0].answer);
    if (sheet) relaid.push(sheet);
  }
  return true;
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
 * @return {{outcome: string, answer: Object|null, reason?: string}} outcome 'delivered',
 *   'retry' (try again later) or 'rejected' (will never be accepted, `reason` says why); answer
 *   the webhook's JSON answer to a delivery
 */
function deliver_(body) {
  const props = scriptProperties_();
  const url = props.SHEETSYNC_WEBHOOK_URL;
  const secret = props.SHEETSYNC_SECRET;
  if (!url || !secret) return { outcome: 'retry', answer: null }; // not set up yet: keep the event until it is
  const timestamp = String(Date.now());
  // The webhook checks the MAC over the bytes it receives: sign and send the same UTF-8 bytes.
  // Google does not document the charset of the overloads without one.
  const signature = hex_(
    Utilities.computeHmacSha256Signature(`${timestamp}.${body}`, secret, Utilities.Charset.UTF_8),
  );
  let response;
  try {
    response = UrlFetchApp.fetch(url, {
      method: 'post',
      contentType: 'application/json; charset=utf-8',
      payload: body,
      // The secret is this spreadsheet's own: the webhook derives it from the header's id.
      headers: {
        'X-Sheetsync-Spreadsheet': SpreadsheetApp.getActiveSpreadsheet().getId(),
        'X-Sheetsync-Timestamp': timestamp,
        'X-Sheetsync-Signature': `sha256=${signature}`,
      },
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
    const reason = `webhook answered ${code}: ${response.getContentText('UTF-8').slice(0, 1000)}`;
    console.error(`sheetsync: SHEETSYNC_E613 ${reason}; the event is kept in ${SHEETSYNC_REJECTED_TAB}`);
    return { outcome: 'rejected', answer: null, reason: reason };
  }
  console.warn(`sheetsync: webhook answered ${code}, event queued`);
  return { outcome: 'retry', answer: null };
}

/**
 * Whether this execution has used the time it may spend sending: past it, events wait in the
 * queue for the next run (SHEETSYNC_DRAIN_MS).
 */
function overBudget_() {
  const budget = Number(scriptProperties_().SHEETSYNC_DRAIN_MS) || SHEETSYNC_DRAIN_MS;
  return Date.now() - SHEETSYNC_STARTED > budget;
}

/** The JSON body of an answer, or null (an empty or non-JSON body). */
function answer_(response) {
  try {
    return JSON.parse(response.getContentText('UTF-8'));
  } catch (_error) {
    return null;
  }
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
