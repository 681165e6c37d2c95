/**
 * attach, reconcile and the decisions on held changes run inside the stack, for `sheetsync
 * attach|reconcile|approve|discard` of a CLI process that cannot reach the stack's version store
 * (the in-process one lives here), and for the dashboard's buttons. The dashboard serves them as
 * POST /api/attach, /api/reconcile, /api/approve and /api/discard (server.ts). One run per link
 * at a time.
 */
import * as v from 'valibot';
import type { HeldChange } from '../../../functions/src/core/mass-change.ts';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import {
  findHeldLink,
  findLink,
  runSync,
  type SyncCommand,
  type SyncResult,
  type SyncServices,
} from '../sync-run.ts';

export interface SyncJobs {
  /**
   * Checks the request (SHEETSYNC_E754 malformed, SHEETSYNC_E101 no such link, SHEETSYNC_E755
   * already running) and returns the run, which starts when called.
   */
  begin(
    command: SyncCommand,
    body: unknown,
  ): Promise<(onProgress: (done: number, total: number) => void) => Promise<SyncResult>>;
  /** The changes held for a person, every link's, oldest first. */
  held(): Promise<HeldChange[]>;
}

const SyncRequest = v.strictObject({
  link: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  dryRun: v.optional(v.boolean()),
});

const DecisionRequest = v.strictObject({
  id: v.pipe(v.string(), v.regex(/^h[0-9a-f]{15}$/, 'a held change id, as sheetsync status lists it')),
  link: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
});

export function syncJobs(services: SyncServices): SyncJobs {
  const running = new Set<string>();
  const start = (link: string, run: () => Promise<SyncResult>) => {
    if (running.has(link)) {
      throw new SheetsyncError(
        'SHEETSYNC_E755',
        `an attach, reconcile or decision of link "${link}" is already running in this sheetsync; wait for it to finish`,
        'permanent',
      );
    }
    running.add(link);
    return run().finally(() => running.delete(link));
  };
  return {
    async held() {
      const lists = await Promise.all(services.config.links.map((l) => services.store.heldChanges(l.name)));
      return lists.flat().sort((a, b) => a.heldAt - b.heldAt);
    },
    async begin(command, body) {
      if (command === 'approve' || command === 'discard') {
        const parsed = v.safeParse(DecisionRequest, body);
        if (!parsed.success) {
          throw new SheetsyncError(
            'SHEETSYNC_E754',
            `POST /api/${command} takes {"id": "<held change id>"} and optionally "link"`,
            'permanent',
          );
        }
        const { id } = parsed.output;
        const link = await findHeldLink(services, id, parsed.output.link);
        findLink(services.config, link, services.source);
        return (onProgress) =>
          start(link, () => runSync(services, command, link, { dryRun: false, heldId: id, onProgress }));
      }
      const parsed = v.safeParse(SyncRequest, body);
      if (!parsed.success) {
        throw new SheetsyncError(
          'SHEETSYNC_E754',
          `POST /api/${command} takes {"link": "<link name>"${command === 'reconcile' ? ', "dryRun": true|false' : ''}}`,
          'permanent',
        );
      }
      const { link, dryRun = false } = parsed.output;
      if (command === 'attach' && dryRun) {
        throw new SheetsyncError(
          'SHEETSYNC_E754',
          'dryRun is an option of reconcile, not attach',
          'permanent',
        );
      }
      findLink(services.config, link, services.source);
      return (onProgress) => start(link, () => runSync(services, command, link, { dryRun, onProgress }));
    },
  };
}
