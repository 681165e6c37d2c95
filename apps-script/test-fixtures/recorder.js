/**
 * A test script for the emulator's Apps Script runtime (not the sheetsync script). Its trigger
 * handlers post what they received to the URL in the script property WEBHOOK_URL, signed with
 * HMAC-SHA256 like the real script signs its webhook calls, so a test sees exactly what ran.
 */

function installTriggers() {
  var spreadsheet = SpreadsheetApp.getActive();
  ScriptApp.getProjectTriggers().forEach((trigger) => {
    ScriptApp.deleteTrigger(trigger);
  });
  ScriptApp.newTrigger('recordEdit').forSpreadsheet(spreadsheet).onEdit().create();
  ScriptApp.newTrigger('recordChange').forSpreadsheet(spreadsheet).onChange().create();
  return ScriptApp.getProjectTriggers().map(
    (trigger) => `${trigger.getEventType()}:${trigger.getHandlerFunction()}`,
  );
}

function configure(webhookUrl, secret) {
  PropertiesService.getScriptProperties().setProperties({ WEBHOOK_URL: webhookUrl, SECRET: secret });
}

function post(body) {
  var properties = PropertiesService.getScriptProperties();
  var url = properties.getProperty('WEBHOOK_URL');
  if (!url) throw new Error('WEBHOOK_URL is not set');
  var payload = JSON.stringify(body);
  var signature = Utilities.computeHmacSha256Signature(payload, properties.getProperty('SECRET'));
  var response = UrlFetchApp.fetch(url, {
    method: 'post',
    contentType: 'application/json',
    payload: payload,
    headers: { 'X-Signature': Utilities.base64Encode(signature) },
    muteHttpExceptions: true,
  });
  return response.getResponseCode();
}

function recordEdit(e) {
  post({
    kind: 'edit',
    keys: Object.keys(e).sort(),
    range: e.range.getA1Notation(),
    sheet: e.range.getSheet().getName(),
    value: e.value,
    oldValue: e.oldValue,
    user: e.user.getEmail(),
    authMode: e.authMode,
    sourceId: e.source.getId(),
    values: e.range.getValues(),
    // biome-ignore lint/suspicious/useIsArray: checks that values are arrays of the script's own realm
    valuesIsArray: e.range.getValues() instanceof Array,
  });
}

function recordChange(e) {
  post({ kind: 'change', keys: Object.keys(e).sort(), changeType: e.changeType, user: e.user.getEmail() });
}

/** Holds the script lock for `ms` and reports when it got and released it. */
function holdLock(label, ms) {
  var lock = LockService.getScriptLock();
  var properties = PropertiesService.getScriptProperties();
  lock.waitLock(10000);
  var start = Date.now();
  properties.setProperty('HOLDER', label);
  Utilities.sleep(ms);
  properties.deleteProperty('HOLDER');
  var end = Date.now();
  lock.releaseLock();
  return { label: label, start: start, end: end };
}

function tryLockNow() {
  return LockService.getScriptLock().tryLock(0);
}

/** A script write: must fire no trigger. */
function writeCell(a1, value) {
  SpreadsheetApp.getActive().getRange(a1).setValue(value);
  SpreadsheetApp.flush();
  return SpreadsheetApp.getActive().getRange(a1).getValue();
}

/** Range.setNote and setBackground on one cell (null removes them). */
function decorateCell(a1, note, color) {
  SpreadsheetApp.getActive().getRange(a1).setNote(note).setBackground(color);
  return 'done';
}

function describeSheet(name) {
  var sheet = SpreadsheetApp.getActive().getSheetByName(name);
  return {
    name: sheet.getName(),
    sheetId: sheet.getSheetId(),
    lastRow: sheet.getLastRow(),
    lastColumn: sheet.getLastColumn(),
    dataRange: sheet.getDataRange().getA1Notation(),
    values: sheet.getDataRange().getValues(),
  };
}

function fail() {
  throw new Error('deliberate failure');
}

function installClock() {
  ScriptApp.newTrigger('tick').timeBased().everyMinutes(1).create();
}

function tick(e) {
  var properties = PropertiesService.getScriptProperties();
  properties.setProperty('TICKS', String(Number(properties.getProperty('TICKS') || 0) + 1));
  properties.setProperty('LAST_TICK_KEYS', Object.keys(e).sort().join(','));
}

function removeClocks() {
  ScriptApp.getProjectTriggers().forEach((trigger) => {
    if (trigger.getEventType() === ScriptApp.EventType.CLOCK) ScriptApp.deleteTrigger(trigger);
  });
  return PropertiesService.getScriptProperties().getProperties();
}

function hmacBytes(value, key) {
  return Utilities.computeHmacSha256Signature(value, key);
}

/** Fetches `url`; without muteHttpExceptions a 4xx/5xx throws, as on Google. */
function fetchText(url, mute) {
  var response = UrlFetchApp.fetch(url, { muteHttpExceptions: mute });
  return { code: response.getResponseCode(), text: response.getContentText() };
}

function utilitiesAndCache() {
  var instant = new Date(Date.UTC(2024, 0, 15, 13, 5, 9, 7));
  var cache = CacheService.getScriptCache();
  cache.put('greeting', 'hello', 60);
  return {
    utc: Utilities.formatDate(instant, 'UTC', "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"),
    newYork: Utilities.formatDate(instant, 'America/New_York', 'EEE, d MMM yyyy HH:mm Z'),
    uuid: Utilities.getUuid(),
    base64: Utilities.base64Encode('héllo'),
    webSafe: Utilities.base64EncodeWebSafe([-5, -1, 62]),
    cached: cache.get('greeting'),
    missing: cache.get('nothing'),
  };
}

/** A date cell reads as a Date; a Date written back keeps its instant. */
function dateRoundTrip(a1, target) {
  var sheet = SpreadsheetApp.getActive().getSheets()[0];
  var value = sheet.getRange(a1).getValue();
  sheet.getRange(target).setValue(new Date(value.getTime() + 86400000));
  return { isDate: Object.prototype.toString.call(value) === '[object Date]', iso: value.toISOString() };
}

/** Never returns: the runtime must stop it at the execution time limit. */
function spin() {
  for (;;) {
    // busy
  }
}
