/**
 * sheetWebhook: the HTTP function the Apps Script calls. It verifies, validates and splits an
 * event into per-row changes, publishes them as batch messages (one per link and key bucket,
 * ordering key `${link}/b${bucket}`; wire/sheet-change.ts says why), and answers only after
 * Pub/Sub acked them.
 *
 * Answers (the script's reaction in brackets): 200 published, held or ignored [done]; 400
 * malformed [kept in the rejected tab]; 401 bad or stale signature [queued, retried]; 405 not
 * POST; 409 replayed event id [done: the event got through before]; 413 too large [rejected
 * tab]; 503 publish failed [queued, retried]. Nothing is published for a rejected request. An
 * event counts as received only once its messages are acked (replay-guard.ts), so a 409 never
 * stands for an edit that was not published.
 * A structure event whose deletes the mass-change guard holds is answered 200 with `held`
 * (structure-deletes.ts): nothing is deleted until a person approves.
 * An edit of rows sorted without their hidden ids is answered 200 (or 409) with `reidentify`,
 * the ids the script writes into the id column [it then sends a `layout` event]; nothing is
 * published for it (reidentify.ts).
 */

import * as v from 'valibot';
import type { RowDocument } from '../../core/row-document.ts';
import type { ErrorCode } from '../../error-codes.ts';
import type { Logger } from '../../log.ts';
import { type VersionStore, WRITE_HOLD_MS } from '../../ports.ts';
import { type SheetsyncConfig, secretVersionOf } from '../../wire/config.ts';
import { issueText } from '../../wire/issue-text.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';
import { WebhookBody, type WebhookRow } from '../../wire/webhook.ts';
import { type SheetBatchMessage, sheetChangesToBatches } from './batches.ts';
import type { LinkedTabs } from './linked-tabs.ts';
import {
  findRowPermutation,
  keysOfMovedRows,
  mayBeSorted,
  type RowMove,
  SORT_SAMPLE,
  sortSample,
} from './reidentify.ts';
import type { ReplayGuard } from './replay-guard.ts';
import { resolveFromSheet } from './resolve-from-sheet.ts';
import { sheetClockOffset } from './sheet-clock.ts';
import {
  SIGNATURE_HEADER,
  SPREADSHEET_HEADER,
  TIMESTAMP_HEADER,
  verifySpreadsheetSignature,
} from './signature.ts';
import type { StructureStore } from './structure-check.ts';
import { type StructureDeletes, type StructureDeletesDeps, structureDeletes } from './structure-deletes.ts';

export interface WebhookDeps {
  config: SheetsyncConfig;
  /**
   * The webhook's secrets (two during a rotation): each spreadsheet signs with one derived from
   * them (signature.ts, spreadsheetSecret).
   */
  secrets: readonly string[];
  replayGuard: ReplayGuard;
  /**
   * Publishes to `sheetsync-sheet-changes` (each `data` as JSON), in order; resolves once every
   * message is acked.
   */
  publish(messages: SheetBatchMessage[]): Promise<void>;
  /** The live (not deleted) row ids sheetsync knows for a link, to find deleted rows. */
  liveRowIds(link: string, idPrefix?: string): Promise<Iterable<string>>;
  /**
   * The version store's row documents: with them an edit event of rows sorted without their
   * hidden ids is recognised (reidentify.ts) and answered with the ids the script should write,
   * instead of being applied as edits (rowIdsForKeys finds, for a part of a split sort, the rows
   * of the other parts). Without them, every edit is applied.
   */
  documents?: Pick<VersionStore, 'readRows' | 'rowIdsForKeys'>;
  /**
   * The version store's structure checks (structure-check.ts): with them a structure event reads
   * the live rows only of the id buckets whose ids changed. Without them, every live row.
   */
  structure?: StructureStore;
  /** Links follow their tabs by sheetId once recorded (linked-tabs.ts); without it, by title. */
  tabs?: LinkedTabs;
  /**
   * The sheet's epochs in the version store. `bumpSheetEpoch` is told of every accepted event
   * before its changes are published: the sheet changed, so applyToSheet's kept snapshot of the
   * tab is stale. `values` when the event is an edit of rows that all had their sync id already
   * (no row moved or appeared), `rows` otherwise. Runs after the replay claim: a replayed event
   * changes nothing.
   *
   * `holdSheetWrites` sets or clears (0) applyToSheet's write hold of a link's tab. An edit that
   * may be rows sorted without their ids holds the tab's writes from its arrival
   * (`bumpSheetEpoch` with `hold`): if it is such a sort, until the script's `layout` event of
   * changeType REIDENTIFY, sent once it wrote the ids (or WRITE_HOLD_MS); if not, this clears
   * it. Until the ids are written, a row's id names the row whose values it held before the
   * sort, and a database change written by id would land in another row. Without it, nothing is
   * bumped or held.
   */
  epochs?: Pick<VersionStore, 'bumpSheetEpoch' | 'holdSheetWrites'>;
  /**
   * Open conflicts, resolved by a person's choice in the `_sheetsync_conflicts` tab
   * (resolve-from-sheet.ts); without it such choices are answered 503.
   */
  conflicts?: Pick<VersionStore, 'listOpenConflicts' | 'readRows' | 'resolveConflict'>;
  /** Keeps the deletes the mass-change guard holds; without it nothing is held. */
  held?: StructureDeletesDeps['held'];
  logger: Logger;
  now?: () => number;
  /** Largest accepted body. Default 10 MiB. */
  maxBodyBytes?: number;
}

export interface WebhookRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function handleWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  const now = deps.now ?? Date.now;
  const received = now();
  const fail = (status: number, code: ErrorCode, message: string): WebhookResponse => {
    deps.logger.warn(`webhook rejected a request: ${message}`, { code, status });
    return { status, body: { error: { code, message } } };
  };
  if (request.method !== 'POST') return fail(405, 'SHEETSYNC_E601', 'only POST is accepted');
  const raw = request.rawBody ?? Buffer.alloc(0);
  const maxBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (raw.length > maxBytes) {
    return fail(413, 'SHEETSYNC_E602', `the body is ${raw.length} bytes; the limit is ${maxBytes}`);
  }
  const check = verifySpreadsheetSignature(
    deps.secrets,
    (id) => secretVersionOf(deps.config, id),
    {
      spreadsheet: header(request, SPREADSHEET_HEADER),
      timestamp: header(request, TIMESTAMP_HEADER),
      signature: header(request, SIGNATURE_HEADER),
    },
    raw,
    now(),
  );
  if (!check.ok) return fail(401, 'SHEETSYNC_E603', check.message);
  const verified = now();

  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(400, 'SHEETSYNC_E604', 'the body is not JSON');
  }
  const parsed = v.safeParse(WebhookBody, json);
  if (!parsed.success) {
    const problems = parsed.issues.slice(0, 10).map(issueText);
    return fail(400, 'SHEETSYNC_E604', `the body is not a sheetsync event: ${problems.join('; ')}`);
  }
  // On our clock (sheet-clock.ts): every time derived from the event is compared with ours.
  const offset = sheetClockOffset(header(request, TIMESTAMP_HEADER), received);
  const event = offset === 0 ? parsed.output : { ...parsed.output, time: parsed.output.time + offset };
  const validated = now();
  // Signed with one spreadsheet's secret, it may speak for that spreadsheet only.
  if (event.spreadsheetId !== check.spreadsheetId) {
    return fail(
      401,
      'SHEETSYNC_E624',
      "the event names another spreadsheet than the one whose secret signed it; each spreadsheet's script signs its own events only",
    );
  }
  // A choice in the conflicts tab names its link itself (resolve-from-sheet.ts).
  if (event.kind === 'resolve') return resolveFromSheet(event, deps);
  const link = deps.tabs
    ? await deps.tabs.find(deps.config.links, event)
    : deps.config.links.find((l) => l.spreadsheetId === event.spreadsheetId && l.sheet === event.sheet);
  if (!link) {
    deps.logger.warn('webhook event for a tab that no link names; ignored', { code: 'SHEETSYNC_E605' });
    return { status: 200, body: { ignored: true, reason: 'no link for this spreadsheet and tab' } };
  }
  // The replay claim comes first: a replayed or refused request changes no state (no epoch bump,
  // no write hold). Whether the edit is rows sorted without their ids reads those rows'
  // documents: that starts now, alongside the claim. Then the sheet-epoch bump: the changes are
  // published only after it. An edit that may be such a sort holds applyToSheet's writes to the
  // tab from then (in the same write as the bump) until its ids are written; the script's
  // `layout` event after it wrote them clears the hold. The script sends a spreadsheet's events
  // one at a time (its lock), so one hold per link does.
  const sorted =
    event.kind === 'edit' &&
    event.canReidentify &&
    deps.documents &&
    maySortRows(event.rows, event.part !== undefined)
      ? sortedWithoutIds(event.rows, deps.documents, link.name, event.part !== undefined)
      : undefined;
  const maySort = sorted !== undefined;
  const hold = maySort
    ? received + WRITE_HOLD_MS
    : event.kind === 'layout' && event.changeType === 'REIDENTIFY'
      ? 0
      : undefined;
  sorted?.catch(() => {}); // awaited below; a failure before then is not unhandled
  if (!(await deps.replayGuard.claim(event.eventId, now()))) {
    // A retry whose first answer the script did not get: it needs the ids again (it writes them
    // only where the rows still show what the event sent).
    const replayed = fail(409, 'SHEETSYNC_E606', `event ${event.eventId} was already received`);
    const moves = await sorted?.catch(() => null);
    if (moves) replayed.body.reidentify = moves;
    return replayed;
  }
  const [bump, permutation] = await Promise.allSettled([
    deps.epochs?.bumpSheetEpoch(
      link.name,
      event.kind === 'edit' && event.rows.every((row) => !row.isNew) ? 'values' : 'rows',
      hold,
    ),
    sorted,
  ]);
  // Not a sort after all (or the check failed): the hold goes now, alongside the rest.
  const released =
    maySort && !(permutation.status === 'fulfilled' && permutation.value)
      ? deps.epochs?.holdSheetWrites(link.name, 0).catch((error: Error) => {
          deps.logger.warn(`webhook could not clear the sheet write hold: ${error.message}`, {
            link: link.name,
          });
        })
      : undefined;
  // The hold's release (if any) is awaited before the answer, whatever the answer.
  try {
    if (bump.status === 'rejected' || permutation.status === 'rejected') {
      const reason = (
        bump.status === 'rejected' ? bump.reason : (permutation as PromiseRejectedResult).reason
      ) as Error;
      deps.logger.error(`webhook could not record the sheet change: ${reason.message}`, {
        code: 'SHEETSYNC_E607',
      });
      return {
        status: 503,
        body: { error: { code: 'SHEETSYNC_E607', message: 'recording the change failed; retry later' } },
      };
    }

    const recorded = now();
    let messages: SheetChangeMessage[] = [];
    let structure: StructureDeletes | undefined;
    const moves = permutation.value;
    if (moves) {
      // Nothing to publish: the table already holds these rows' values; the sheet only needs its
      // ids to follow them (the script writes them), and applyToSheet's positions to be read again
      // after that (the script's `layout` event).
      deps.logger.info('webhook found rows sorted without their sync ids; the script re-identifies them', {
        link: link.name,
        rows: moves.length,
      });
      await completed(deps, event.eventId, now());
      return { status: 200, body: { published: 0, reidentify: moves } };
    }
    if (event.kind === 'edit') {
      for (const row of event.rows) {
        messages.push({
          v: 1,
          link: link.name,
          rowId: row.rowId,
          op: 'upsert',
          cells: row.cells,
          isNew: row.isNew,
          ...(row.copyOf ? { copyOf: row.copyOf } : {}),
          eventId: event.eventId,
          time: event.time,
          row: row.row,
          ...(event.user ? { user: event.user } : {}),
        });
      }
    } else if (event.kind === 'structure') {
      structure = await structureDeletes(event, link, deps, now());
      messages = structure.messages;
    }
    const batches = sheetChangesToBatches(messages);
    const publishStarted = now();
    try {
      if (batches.length > 0) await deps.publish(batches);
    } catch (error) {
      deps.logger.error(`webhook could not publish: ${(error as Error).message}`, { code: 'SHEETSYNC_E607' });
      return {
        status: 503,
        body: { error: { code: 'SHEETSYNC_E607', message: 'publishing failed; retry later' } },
      };
    }
    await completed(deps, event.eventId, now());
    const plan = structure?.plan;
    if (plan && deps.structure) {
      // Only now that the deletes are published (or held): a check recorded before would let a
      // retry of a failed event skip them. Failing to record costs the next event more reads.
      await deps.structure.recordStructureChecks(link.name, plan.checks).catch((error: Error) => {
        deps.logger.warn(`webhook could not record its structure check: ${error.message}`, {
          link: link.name,
        });
      });
    }
    deps.logger.info('webhook published sheet changes', {
      link: link.name,
      op: event.kind,
      count: messages.length,
      messages: batches.length,
      ...(plan ? { structureBucketsRead: plan.bucketsRead, structureRowsRead: plan.rowsRead } : {}),
      publishMs: now() - publishStarted,
      // Where the request's time went (the sheet-to-db bench sums these): from the script's event
      // to the request's arrival, signature check, JSON and schema validation, the replay guard and
      // sheet epoch, splitting into batches.
      arrivalMs: Math.max(0, received - event.time),
      verifyMs: verified - received,
      parseMs: validated - verified,
      recordMs: recorded - validated,
      batchMs: publishStarted - recorded,
      latencyMs: Math.max(0, now() - event.time),
    });
    const held = structure?.held;
    return {
      status: 200,
      body: {
        published: messages.length,
        ...(held ? { held: { id: held.id, rows: held.count, reason: held.reason } } : {}),
      },
    };
  } finally {
    await released;
  }
}

/**
 * Whether an edit can be rows sorted without their ids: two or more rows (or a part of a split
 * event), none new, all with the same columns. Only such an edit reads documents.
 */
function maySortRows(rows: readonly WebhookRow[], part: boolean): boolean {
  if (rows.length < (part ? 1 : 2) || rows.some((row) => row.isNew)) return false;
  const columns = Object.keys(rows[0]!.cells).sort().join('\u0000');
  return columns !== '' && rows.every((row) => Object.keys(row.cells).sort().join('\u0000') === columns);
}

/**
 * The moves when `rows` (maySortRows) are rows sorted without their ids (reidentify.ts), or
 * null. Of a bigger event, a sample of documents first (mayBeSorted). A part also finds, by the
 * keys among its moved rows' values, the rows of other parts whose values they hold.
 */
async function sortedWithoutIds(
  rows: readonly WebhookRow[],
  documents: Pick<VersionStore, 'readRows' | 'rowIdsForKeys'>,
  link: string,
  part: boolean,
): Promise<RowMove[] | null> {
  const read = (ids: readonly string[]) => documents.readRows(link, ids);
  let docs: ReadonlyMap<string, RowDocument>;
  if (part || rows.length <= SORT_SAMPLE) {
    docs = await read(rows.map((row) => row.rowId));
  } else {
    // A sample first: an ordinary bulk edit stops here (a part's values may be in other parts,
    // so a part reads all).
    const sample = await read(sortSample(rows).map((row) => row.rowId));
    if (!mayBeSorted(rows, sample)) return null;
    const rest = await read(rows.filter((row) => !sample.has(row.rowId)).map((row) => row.rowId));
    docs = new Map([...sample, ...rest]);
  }
  const within = findRowPermutation(rows, docs);
  if (within || !part) return within;
  const keys = keysOfMovedRows(rows, docs);
  if (!keys || keys.length === 0) return null;
  const found = await documents.rowIdsForKeys(link, keys);
  const outside = [...new Set(found.values())].filter((id) => !docs.has(id));
  if (outside.length === 0) return null;
  return findRowPermutation(rows, docs, await read(outside));
}

/**
 * Marks the event received. Failing to costs at most a repeat: the script's retry publishes the
 * event again, and applyToDb drops it by event id.
 */
async function completed(deps: WebhookDeps, eventId: string, at: number): Promise<void> {
  await deps.replayGuard.complete(eventId, at).catch((error: Error) => {
    deps.logger.warn(`webhook could not mark an event received: ${error.message}`, {
      code: 'SHEETSYNC_E607',
    });
  });
}

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
