/**
 * attach and reconcile run inside the stack, for `sheetsync attach|reconcile` of a CLI process
 * that cannot reach the stack's version store (the in-process one lives here). The dashboard
 * serves them as POST /api/attach and /api/reconcile (server.ts). One run per link at a time.
 */
import * as v from 'valibot';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import { findLink, runSync, type SyncCommand, type SyncResult, type SyncServices } from '../sync-run.ts';

export interface SyncJobs {
  /**
   * Checks the request (SHEETSYNC_E754 malformed, SHEETSYNC_E101 no such link, SHEETSYNC_E755
   * already running) and returns the run, which starts when called.
   */
  begin(
    command: SyncCommand,
    body: unknown,
  ): (onProgress: (done: number, total: number) => void) => Promise<SyncResult>;
}

const SyncRequest = v.strictObject({
  link: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  dryRun: v.optional(v.boolean()),
});

export function syncJobs(services: SyncServices): SyncJobs {
  const running = new Set<string>();
  return {
    begin(command, body) {
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
      if (running.has(link)) {
        throw new SheetsyncError(
          'SHEETSYNC_E755',
          `an attach or reconcile of link "${link}" is already running in this sheetsync; wait for it to finish`,
          'permanent',
        );
      }
      running.add(link);
      return (onProgress) =>
        runSync(services, command, link, { dryRun, onProgress }).finally(() => running.delete(link));
    },
  };
}
