/**
 * sheetWebhook's `resolve` event (issue 22 item 3): a person picked `take sheet` or `take
 * database` for an open conflict in the `_sheetsync_conflicts` tab, and the script sent it
 * signed like any edit. Resolved exactly as `sheetsync conflicts resolve --take` resolves
 * (sync-jobs/resolve-conflict.ts), the change carrying the chosen value published like an edit's.
 *
 * Answers: 200 `{resolved: {id, link, sheet, rowId, column}}` [the script takes the row off the
 * tab, and the conflict note off the data cell];
 * 409 with SHEETSYNC_E401 (no such open conflict), E402 (resolved meanwhile) [taken off too] or
 * E410 (the cell changed since; the choice would overwrite that) [the choice is cleared, its
 * reason in the cell's note]; 400 E630 for a link that is not this spreadsheet's; 503 E631 when
 * the store or Pub/Sub failed [the person picks again]. A replay within the signature's window
 * finds the conflict resolved (E402): the store's record is the idempotency.
 */
import { SheetsyncError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { VersionStore } from '../../ports.ts';
import { type ResolveDeps, resolveOpenConflict } from '../../sync-jobs/resolve-conflict.ts';
import type { SheetsyncConfig } from '../../wire/config.ts';
import type { SheetChangeMessage } from '../../wire/sheet-change.ts';
import type { WebhookBody } from '../../wire/webhook.ts';
import { type SheetBatchMessage, sheetChangesToBatches } from './batches.ts';

/** What the resolve path takes of the webhook's dependencies (handler.ts's WebhookDeps). */
export interface ResolveFromSheetDeps {
  config: SheetsyncConfig;
  conflicts?: Pick<VersionStore, 'listOpenConflicts' | 'readRows' | 'resolveConflict'>;
  publish(messages: SheetBatchMessage[]): Promise<void>;
  logger: Logger;
  now?: () => number;
}

/** The webhook's answer (handler.ts's WebhookResponse). */
interface ResolveAnswer {
  status: number;
  body: Record<string, unknown>;
}

type ResolveEvent = Extract<WebhookBody, { kind: 'resolve' }>;

/** Refusals that close the matter for the conflicts tab's row, or ask the person again. */
const REFUSALS = new Set(['SHEETSYNC_E401', 'SHEETSYNC_E402', 'SHEETSYNC_E410']);

export async function resolveFromSheet(
  event: ResolveEvent,
  deps: ResolveFromSheetDeps,
): Promise<ResolveAnswer> {
  const link = deps.config.links.find(
    (l) => l.name === event.link && l.spreadsheetId === event.spreadsheetId,
  );
  if (!link) {
    const message = `the conflicts tab names link "${event.link}", which is not a link of this spreadsheet; choose in the spreadsheet the link syncs`;
    deps.logger.warn(`webhook rejected a request: ${message}`, { code: 'SHEETSYNC_E630', status: 400 });
    return { status: 400, body: { error: { code: 'SHEETSYNC_E630', message } } };
  }
  if (!deps.conflicts)
    return unavailable(deps, 'this webhook has no version store to resolve conflicts with');
  const resolveDeps: ResolveDeps = {
    store: deps.conflicts,
    publish: (message: SheetChangeMessage) => deps.publish(sheetChangesToBatches([message])),
    ...(deps.now ? { now: deps.now } : {}),
  };
  try {
    const resolved = await resolveOpenConflict(resolveDeps, [link.name], event.conflictId, event.take);
    deps.logger.info('conflict resolved from the conflicts tab', {
      link: link.name,
      rowId: resolved.rowId,
      conflict: resolved.id,
      choice: event.take,
    });
    return {
      status: 200,
      body: {
        resolved: {
          id: resolved.id,
          link: link.name,
          // Where the conflicting cell is: the script takes its conflict note away.
          sheet: link.sheet,
          rowId: resolved.rowId,
          column: resolved.column,
        },
      },
    };
  } catch (error) {
    if (error instanceof SheetsyncError && REFUSALS.has(error.code)) {
      // The message may quote the cell's values: answered to the sheet, never logged.
      deps.logger.info('conflict choice from the conflicts tab refused', {
        link: link.name,
        code: error.code,
      });
      return { status: 409, body: { error: { code: error.code, message: error.message } } };
    }
    return unavailable(deps, (error as Error).message);
  }
}

function unavailable(deps: ResolveFromSheetDeps, why: string): ResolveAnswer {
  deps.logger.error(`webhook could not resolve a conflict: ${why}`, { code: 'SHEETSYNC_E631' });
  return {
    status: 503,
    body: {
      error: { code: 'SHEETSYNC_E631', message: 'the conflict could not be resolved now; pick again' },
    },
  };
}
