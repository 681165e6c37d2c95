/**
 * The registry of sheetsync's error codes: every code any part of sheetsync raises, logs or
 * shows in a sheet, with its title as docs/errors.md gives it. docs/errors.md is the long form
 * (cause, effect, remedy); test/unit/error-codes.test.ts checks that both list the same codes
 * with the same titles, and that the SQL, the Apps Script and the terraform use no other.
 *
 * A code is never reused; a retired code keeps its entry. Areas: 1xx config, 2xx database and
 * outbox, 3xx bus, 4xx version store and merge, 5xx sheet and Sheets API, 6xx webhook and Apps
 * Script, 75x/76x the local stack and its dashboard, 78x MySQL, 9xx internal.
 */
export const ERROR_CODES = {
  // 1xx configuration

  /** The links config is not valid JSON or not the schema. Remedy: fix the fields the message names. */
  SHEETSYNC_E101: 'invalid config',
  /** A message names a link the running config lacks. Remedy: restore the link, or drain the dead letters. */
  SHEETSYNC_E102: 'change for an unknown link',
  /**
   * A `custom` policy reached the pipeline without its resolver loaded.
   * Remedy: start through npm start, `sheetsync start` or the functions, or call `loadConflictPolicies`.
   */
  SHEETSYNC_E103: 'custom conflict policy without its resolver',
  /** A deployed function lacks a setting terraform provides. Remedy: `terraform apply`, or set the variable. */
  SHEETSYNC_E104: 'missing environment variable',
  /**
   * A link's `conflict.resolver` module is missing, fails to import or has no default function.
   * Remedy: fix the path or the module; for a deployment, package again with `--config`.
   */
  SHEETSYNC_E105: 'custom conflict resolver cannot be loaded',
  /** `SHEETSYNC_DATABASE_CA` holds no parsable PEM certificate. Remedy: `terraform apply`, or set the server CAs. */
  SHEETSYNC_E106: 'the database CA is not a certificate',
  /** `SHEETSYNC_DATABASE_INSTANCE` is not `PROJECT:REGION:INSTANCE`. Remedy: set the instance's connection name. */
  SHEETSYNC_E107: 'the database instance name is missing or malformed',
  /** On Cloud Run without `SHEETSYNC_DATABASE_CA`, the server would go unchecked. Remedy: `terraform apply`. */
  SHEETSYNC_E108: 'deployed without database server verification',
  /**
   * `sheetsync secret` found no webhook secret to derive a spreadsheet's from.
   * Remedy: set `SHEETSYNC_WEBHOOK_SECRET`, or run it beside `npm start` (`--state-dir`).
   */
  SHEETSYNC_E110: "no webhook secret to derive a spreadsheet's from",
  /** A link's `key` is not a key of its table (a column missing or nullable, no unique index). Remedy: fix the table or the key. */
  SHEETSYNC_E111: "a link's key is not a key of its table",

  // 2xx PostgreSQL, capture and relay

  /** `sheetsync.watch` got a table without a primary key. Remedy: add a primary key, then watch again. */
  SHEETSYNC_E201: 'table has no primary key',
  /** `sheetsync.watch` got a view, foreign table or other non-table. Remedy: watch the underlying table. */
  SHEETSYNC_E202: 'not a table',
  /** The database has no (or an older) `sheetsync` schema. Remedy: run `installSchema`; it is idempotent. */
  SHEETSYNC_E203: 'sheetsync schema not installed',
  /** Claiming, publishing or deleting an outbox batch failed; it is retried. Remedy: check database and Pub/Sub. */
  SHEETSYNC_E204: 'relay batch failed',
  /** `startRelay`/`drainFor` got neither `sql` nor `databaseUrl`. Remedy: set DATABASE_URL or pass a client. */
  SHEETSYNC_E205: 'relay has no database',
  /** The outbox identity passed 9×10^12, beyond safe change ids. Remedy: not expected; report it. */
  SHEETSYNC_E206: 'outbox id too large for a change id',
  /** An outbox row's body does not parse; the relay stops at it. Remedy: inspect, report, delete the row. */
  SHEETSYNC_E207: 'outbox row is not a JSON array of changes',
  /**
   * One row change would pass Pub/Sub's 10 MB; its largest values travel as previews (warning).
   * Remedy: keep values that large out of synced columns.
   */
  SHEETSYNC_E208: 'a table change too large for a Pub/Sub message',
  /** A `SHEETSYNC_PG_…_MS` variable is not whole milliseconds in range. Remedy: fix or unset it. */
  SHEETSYNC_E209: 'invalid PostgreSQL timeout setting',
  /** The relay's lock-holding session ended mid-batch; the batch is published again. Remedy: none if rare. */
  SHEETSYNC_E210: "the relay's PostgreSQL session ended",
  /** The link's `table` names no table the connection sees. Remedy: check spelling, schema and privileges. */
  SHEETSYNC_E250: 'table not found',

  // 3xx bus

  /** A message on `sheetsync-db-changes` is not a `DbChangeMessage`. Remedy: find the other publisher. */
  SHEETSYNC_E301: 'malformed database change message',
  /** Pub/Sub did not acknowledge every message of a publish. Remedy: check Pub/Sub and that the topic exists. */
  SHEETSYNC_E302: 'publish failed',
  /** Ack deadline, dead-letter attempts or topic out of Pub/Sub's limits. Remedy: fix the settings. */
  SHEETSYNC_E303: 'invalid subscription settings',
  /** A subscription's streaming pull reported an error; it reconnects. Remedy: check subscription and rights. */
  SHEETSYNC_E304: 'subscription stream failed',
  /** A message past `maxDeliveryAttempts` could not be dead-lettered; it is nacked. Remedy: check the topic. */
  SHEETSYNC_E305: 'dead-lettering failed',
  /** Pub/Sub lost this process's topics or subscriptions (an emulator restarted); declared again. Remedy: none. */
  SHEETSYNC_E306: 'bus topology declared again',
  /** A message on `sheetsync-sheet-changes` is not a sheet change; dropped. Remedy: find the other publisher. */
  SHEETSYNC_E310: 'malformed sheet change message',

  // 4xx version store and merge

  /** `resolveConflict` got an id the link has no conflict for. Remedy: list the open conflicts. */
  SHEETSYNC_E401: 'conflict not found',
  /** A conflict is resolved once; the first choice stands. Remedy: none; edit the cell to change it. */
  SHEETSYNC_E402: 'conflict already resolved',
  /** A call reached the in-memory version store after `close()`. Remedy: stop consumers before closing. */
  SHEETSYNC_E403: 'version store closed',
  /** A group commit kept losing Firestore transactions; retried. Remedy: smaller commits or fewer instances. */
  SHEETSYNC_E404: 'version store contention',
  /** A row document has the wrong shape. Remedy: delete it and run `sheetsync reconcile` for the link. */
  SHEETSYNC_E405: 'unreadable row document',
  /** One row made more conflict records than a Firestore transaction can write. Remedy: report it. */
  SHEETSYNC_E406: 'too many conflict records for one transaction',
  /** A sheet value cannot be coerced to its column's type; that cell is skipped. Remedy: correct the cell. */
  SHEETSYNC_E407: 'cell value does not fit the column',
  /** A sheet header names no column of the table. Remedy: rename the header to the column, or add the column. */
  SHEETSYNC_E408: 'header not in the table',
  /** PostgreSQL refused a sheet row (constraint, type, trigger). Remedy: fix the row in the sheet. */
  SHEETSYNC_E409: 'row refused by the database',
  /** A conflict choice would overwrite a later change; nothing written. Remedy: edit the cell, or take db. */
  SHEETSYNC_E410: 'the cell changed since the conflict',
  /** The link's resolver threw or answered badly; the conflict stays open. Remedy: resolve it, fix the resolver. */
  SHEETSYNC_E411: 'custom conflict resolver failed; the conflict is left open',
  /**
   * A row delete was refused (usually a foreign key); the row goes back on the sheet.
   * Remedy: change the referring rows, or use `ON DELETE CASCADE`/`SET NULL`.
   */
  SHEETSYNC_E412: 'row delete refused by the database; the row is back on the sheet',
  /** A column is identity-generated or not writable by the role. Remedy: leave it empty, drop it, or grant. */
  SHEETSYNC_E413: 'the database does not let sheetsync write a column of the row',
  /** PostgreSQL refused the row's own values (e.g. too large for an index). Remedy: change the values or table. */
  SHEETSYNC_E414: "the database refused the row's values",
  /** A header names a column the link's `columns` leaves out. Remedy: rename the header, or add the column. */
  SHEETSYNC_E415: "header names a column outside the link's columns",
  /** A pasted copy of a row carries a key the table holds; not written, values kept. Remedy: give it its own key. */
  SHEETSYNC_E416: "pasted copy's key is already in the table",
  /** The link's tab was renamed; it keeps syncing (followed by sheetId). Remedy: update links[].sheet. */
  SHEETSYNC_E417: "link's tab renamed; the config names its old title",
  /** A tab took the title a link's config names, but the link follows another tab. Remedy: update links[].sheet. */
  SHEETSYNC_E418: 'tab with the configured title is not the linked tab',
  /** A change would delete more rows than `links[].safety` allows; held. Remedy: `sheetsync approve`/`discard`. */
  SHEETSYNC_E420: 'mass change held for a person',
  /** `approve`/`discard` named a change not held or already decided. Remedy: `sheetsync status` lists them. */
  SHEETSYNC_E421: 'held change not open',
  /** A `TRUNCATE` of a synced table empties the tab (warning). Remedy: none if meant; else restore the table. */
  SHEETSYNC_E422: 'table truncated; its rows leave the sheet (warning)',
  /** A synced table column was dropped; the sheet keeps its values (warning). Remedy: delete the sheet column, or add the table column back. */
  SHEETSYNC_E423: 'table column dropped; its sheet column no longer syncs (warning)',
  /** A synced table column was renamed; its header is renamed and it keeps syncing (notice). Remedy: none. */
  SHEETSYNC_E424: 'table column renamed; its header follows (notice)',
  /** A table column was renamed to a name the sheet already has as a header (warning). Remedy: rename or delete one of the headers. */
  SHEETSYNC_E425: 'renamed table column clashes with a header (warning)',
  /** A new sheet header cannot be a column name (`addMissingColumns`). Remedy: rename the header. */
  SHEETSYNC_E426: 'header cannot become a table column',
  /** A new sheet header added a table column (`addMissingColumns`; notice). Remedy: none. */
  SHEETSYNC_E427: 'table column added for a sheet header (notice)',
  /** Adding a table column for a sheet header failed (warning). Remedy: add it yourself, or let sheetsync's role alter the table. */
  SHEETSYNC_E428: 'table column for a sheet header not added (warning)',
  /** attach synced the rows but could not set up checkboxes, dropdowns and formats (warning). Remedy: attach again. */
  SHEETSYNC_E430: 'typed columns not set up on the sheet (warning)',
  /** Refused cells could not be marked (or marks cleared) in the sheet; the errors tab still lists them. Remedy: share the spreadsheet. */
  SHEETSYNC_E431: 'cell marks not written to the sheet',
  /** The `_sheetsync_conflicts` tab could not be rewritten; `sheetsync conflicts list` still lists them. Remedy: share the spreadsheet. */
  SHEETSYNC_E432: 'conflicts tab not written',

  // 5xx sheet and Sheets API

  /** Google answered a 4xx other than 429. Remedy: share the spreadsheet; check `spreadsheetId` and `sheet`. */
  SHEETSYNC_E501: 'Sheets API refused a request',
  /** A Sheets request failed on every attempt; redelivered later. Remedy: usually none; check Google's status. */
  SHEETSYNC_E502: 'Sheets API still failing',
  /** The per-minute quota was exceeded; sheetsync backs off. Remedy: none, or lower `writesPerMinute`. */
  SHEETSYNC_E503: 'Sheets API quota reached (429)',
  /** The spreadsheet has no tab with the link's `sheet` title. Remedy: fix the title or rename the tab back. */
  SHEETSYNC_E504: 'tab not found',
  /** The problems of a flush could not be appended to `_sheetsync_errors`. Remedy: share the spreadsheet. */
  SHEETSYNC_E505: 'errors tab not written',
  /** The sheet's rows moved while reconcile ran; nothing was written. Remedy: run reconcile again. */
  SHEETSYNC_E506: "the sheet's rows moved while reconcile ran",
  /** Attach would pass Google's 10,000,000 cells. Remedy: sync fewer columns, or use a spreadsheet of its own. */
  SHEETSYNC_E507: "the rows would not fit under Google's cell limit",
  /** The spreadsheet has no room for appended rows; retried. Remedy: delete unused tabs, rows or columns. */
  SHEETSYNC_E508: 'the tab cannot take more rows',
  /** A table value passes 50,000 characters; the sheet shows a preview (warning). Remedy: none needed. */
  SHEETSYNC_E509: 'a value is longer than a sheet cell holds (warning)',
  /** A row-changing write got no answer; writes what did not land (warning). Remedy: none. */
  SHEETSYNC_E510: "a Sheets write's outcome is unknown (warning)",
  /** Google did not answer in `SHEETSYNC_SHEETS_TIMEOUT_MS` (warning). Remedy: none, or raise the timeout. */
  SHEETSYNC_E511: 'a Sheets API request timed out (warning)',
  /** The timeout variable is not whole milliseconds of at least 100. Remedy: fix or unset it. */
  SHEETSYNC_E512: '`SHEETSYNC_SHEETS_TIMEOUT_MS` is not valid',
  /** The `_sheetsync_id` column vanished while checking a write; retried. Remedy: put the id column back. */
  SHEETSYNC_E513: 'the id column went missing during a write',
  SHEETSYNC_E514: 'rows kept moving while sheetsync wrote to them',

  // 6xx webhook and Apps Script

  /** Something other than a POST reached sheetWebhook. Remedy: check what is calling the URL. */
  SHEETSYNC_E601: 'webhook: method not allowed (405)',
  /** The event is larger than the cap. Remedy: push the current script, or lower its split properties. */
  SHEETSYNC_E602: 'webhook: body too large (413)',
  /** HMAC signature, header or timestamp refused. Remedy: run "sheetsync → Set up" with the right secret. */
  SHEETSYNC_E603: 'webhook: signature refused (401)',
  /** The body is not a sheetsync event. Remedy: use the `apps-script/` of the same version as the functions. */
  SHEETSYNC_E604: 'webhook: malformed event (400)',
  /** No link matches the event's spreadsheet and tab; ignored. Remedy: add a link, or limit the script's tabs. */
  SHEETSYNC_E605: 'webhook: no link for this tab',
  /** The event id was seen before within the replay window. Remedy: none for retries. */
  SHEETSYNC_E606: 'webhook: replayed event (409)',
  /** Pub/Sub did not acknowledge; the script resends. Remedy: check Pub/Sub and the publisher role. */
  SHEETSYNC_E607: 'webhook: publish failed (503)',
  /** A `_sheetsync_queue` row is no longer a whole event; moved aside. Remedy: run `sheetsync reconcile`. */
  SHEETSYNC_E610: 'Apps Script: a queued event could not be read back',
  /** A kept pending edit no longer reads back; dropped. Remedy: run `sheetsync reconcile` for the link. */
  SHEETSYNC_E611: 'Apps Script: a pending edit could not be read',
  /** Script Properties passed 500 KB; edits are kept in a tab instead. Remedy: remove others' properties. */
  SHEETSYNC_E612: 'Apps Script: Script Properties are full',
  /** The webhook answered 400 or 413; the event is kept aside. Remedy: push the same version, then reconcile. */
  SHEETSYNC_E613: 'Apps Script: the webhook refused an event for good (400 or 413)',
  /** Sending a kept edit failed; it stays kept and is tried again. Remedy: none when it passes. */
  SHEETSYNC_E614: 'Apps Script: a pending edit could not be sent now',
  /** A `Content-Encoding` other than `identity`. Remedy: send the body uncompressed. */
  SHEETSYNC_E620: 'webhook: compressed body refused (415)',
  /** The `Content-Type` is not `application/json`. Remedy: send `Content-Type: application/json`. */
  SHEETSYNC_E621: 'webhook: not JSON (415)',
  /** The connection ended before the body did. Remedy: none; the script sends the event again. */
  SHEETSYNC_E622: 'webhook: body cut short (400)',
  /** Missing configuration or an unexpected failure; the script retries. Remedy: read the log entry, fix it. */
  SHEETSYNC_E623: 'webhook: request not processed (500)',
  /**
   * The body names another spreadsheet than the one whose secret signed it; nothing published.
   * Remedy: none for a forgery; for your script, run its Set up again with its spreadsheet's secret.
   */
  SHEETSYNC_E624: 'webhook: event for another spreadsheet than its signer (401)',
  /** A choice in `_sheetsync_conflicts` names a link of another spreadsheet (400). Remedy: choose in that link's spreadsheet. */
  SHEETSYNC_E630: 'webhook: conflict choice for a link of another spreadsheet (400)',
  /** A choice in `_sheetsync_conflicts` could not be recorded now (503). Remedy: pick the choice again. */
  SHEETSYNC_E631: 'webhook: conflict choice not resolved now (503)',

  // 75x, 76x the local stack and its dashboard

  /** A dashboard `POST` body is not JSON, too large, or not a resolve shape. Remedy: use the CLI's shapes. */
  SHEETSYNC_E751: 'malformed dashboard request',
  /** No `.sheetsync/local.json`, or its dashboard did not answer. Remedy: run `npm start`, then try again. */
  SHEETSYNC_E752: 'local stack not running',
  /** The running stack answered with an error, printed with it. Remedy: follow the inner code's remedy. */
  SHEETSYNC_E753: 'the dashboard refused the request',
  /** `/api/attach` or `/api/reconcile` got another body than `{"link"}`. Remedy: use `sheetsync attach`. */
  SHEETSYNC_E754: 'malformed attach or reconcile request',
  /** An attach or reconcile of the link is already running (409). Remedy: wait, then run it again. */
  SHEETSYNC_E755: 'link already being synced',
  /** A save of the local stack's version store failed; the next save retries. Remedy: free disk space. */
  SHEETSYNC_E756: 'the version store could not be saved',
  /** A transaction on a watched table was open too long at start. Remedy: end it, then start again. */
  SHEETSYNC_E757: 'an open transaction holds the outbox',
  /** Rebuilding a link's row documents at start failed. Remedy: read the message; start again. */
  SHEETSYNC_E758: 'the restore of a link at start failed',
  /** The saved store was unreadable: moved aside, rebuilt from both sides. Remedy: none needed. */
  SHEETSYNC_E759: 'the saved version store could not be loaded',
  /** The request's `Host` is not the dashboard's own (DNS rebinding). Remedy: open the URL npm start prints. */
  SHEETSYNC_E761: 'the dashboard refused another Host (403)',
  /** The request came from another web page's origin. Remedy: use the dashboard's page or the CLI. */
  SHEETSYNC_E762: 'the dashboard refused another origin (403)',
  /** A body without `Content-Type: application/json`. Remedy: send that type, as the CLI does. */
  SHEETSYNC_E763: 'the dashboard refused a body that is not JSON (403)',
  /** initdb or postgres could not run, or exited. Remedy: the message's; or set DATABASE_URL. */
  SHEETSYNC_E764: 'the embedded PostgreSQL could not start',
  /** The PostgreSQL server did not answer `select 1`. Remedy: start it, or fix or unset DATABASE_URL. */
  SHEETSYNC_E765: 'PostgreSQL did not answer',
  /** `sheetsync start` failed without a code of its own. Remedy: read the message; start again. */
  SHEETSYNC_E766: 'the local stack could not start',
  /** `start --as-deployed` with the in-process stand-ins. Remedy: install the Cloud SDK's emulators. */
  SHEETSYNC_E767: "--as-deployed needs Google's Pub/Sub and Firestore emulators",

  // 77x Pub/Sub push delivery (runtime/pubsub-push.ts)

  /** applyToDb or applyToSheet got a request that is not Pub/Sub's push body. Remedy: only Pub/Sub pushes. */
  SHEETSYNC_E770: 'not a Pub/Sub push request',
  /** Applying a pushed message failed (a flush failed). Remedy: the log's cause; Pub/Sub redelivers it. */
  SHEETSYNC_E771: 'a pushed message could not be applied',
  /** A deferred change still waited after its holds: nacked (409). Remedy: none; it comes back after the backoff. */
  SHEETSYNC_E772: 'a deferred message was nacked',

  // 78x MySQL
  /**
   * The MySQL relay cannot decode a table's outbox rows: the table is gone, or its columns or
   * key changed since its capture triggers were made. Remedy: watch the table again, reconcile.
   */
  SHEETSYNC_E780: 'MySQL outbox rows of a changed table',
  /** `DATABASE_URL` is a mysql:// URL sheetsync cannot use. Remedy: `mysql://user:password@host:port/database`. */
  SHEETSYNC_E781: 'a mysql:// DATABASE_URL that is not usable',
  /** `--as-deployed` was asked of a MySQL database. Remedy: not built yet (docs/design/mysql.md). */
  SHEETSYNC_E782: 'not available on MySQL yet',
  /**
   * At start, a transaction writing a watched MySQL table stayed open past the restore's wait for
   * the outbox's lock (as E757 on PostgreSQL). Remedy: end that transaction, start again.
   */
  SHEETSYNC_E783: 'an open transaction holds the MySQL outbox',

  // 9xx internal

  /** A link's scheduled reconcile failed without a code of its own. Remedy: read the log, fix the cause. */
  SHEETSYNC_E901: "a link's scheduled reconcile failed",
} as const satisfies Record<`SHEETSYNC_E${number}`, string>;

/** A code of the registry; any other string, even of the same pattern, fails typecheck. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` is a code of the registry (for codes read back from SQL errors or HTTP answers). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
