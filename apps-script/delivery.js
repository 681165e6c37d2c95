// sheetsync: signed delivery to the webhook, and the queue that keeps events while it is down.
//
// Signature: X-Sheetsync-Timestamp is the send time in milliseconds since the epoch, and
// X-Sheetsync-Signature is "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
// A queued event is signed afresh when it is retried, so a retry after the server's ±5 minute
// window is accepted; the event id in the body stays the same, so the server applies it once.
//
// Order: while anything is queued, new events queue behind it and the queue is sent oldest
// first, stopping at the first failure, so the server sees one tab's events in the order made.

/**
 * Sends one event, or queues it when the webhook cannot take it now.
 * @param {Object} payload
 */
function send_(payload) {
  const body = JSON.stringify(payload);
  const queue = queueSheet_();
  if (queue.getLastRow() === 0) {
    const outcome = deliver_(body);
    if (outcome === 'delivered') return;
    if (outcome === 'rejected') return reject_(payload.eventId, body);
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
  for (let i = 0; i < rows.length; i++) {
    const body = rows[i].slice(3).join('');
    const outcome = deliver_(body);
    if (outcome === 'retry') {
      queue.getRange(i + 1, 3).setValue(Number(rows[i][2] || 0) + 1);
      break;
    }
    if (outcome === 'rejected') reject_(String(rows[i][0]), body);
    done++;
  }
  if (done > 0) queue.deleteRows(1, done);
}

/**
 * POSTs a body to the webhook.
 * @param {string} body
 * @return {string} 'delivered', 'retry' (try again later) or 'rejected' (will never be accepted)
 */
function deliver_(body) {
  const props = scriptProperties_();
  const url = props.SHEETSYNC_WEBHOOK_URL;
  const secret = props.SHEETSYNC_SECRET;
  if (!url || !secret) return 'retry'; // not set up yet: keep the event until it is
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
    return 'retry';
  }
  const code = response.getResponseCode();
  // 409: this event id was already received (an earlier try got through); nothing to resend.
  if ((code >= 200 && code < 300) || code === 409) return 'delivered';
  // 400 and 413 are final for this body; 401 (wrong secret or clock) and 5xx/429 are not.
  if (code === 400 || code === 413) {
    console.error(`sheetsync: webhook rejected an event (${code}): ${response.getContentText()}`);
    return 'rejected';
  }
  console.warn(`sheetsync: webhook answered ${code}, event queued`);
  return 'retry';
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
