/**
 * `sheetsync status`: what the running local stack can tell about the sync: relay lag, outbox
 * depth (read from PostgreSQL by the stack when asked), messages in flight on the bus, dead-lettered
 * messages (n/a locally: the local subscriptions have no dead-letter topic), open conflicts and
 * the last errors. Human text by default, the StatusReport as JSON with `--json`.
 */
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { StatusReport } from '../../functions/src/wire/dashboard.ts';
import { callStack, readLocalStack } from './local-stack.ts';

export async function readStatus(stateDir: string): Promise<StatusReport> {
  return v.parse(StatusReport, await callStack(readLocalStack(stateDir), '/api/status'));
}

export function formatStatus(report: StatusReport): string {
  const rate = (name: string) => {
    const points = report.series[name] ?? [];
    const last10 = points.slice(-11, -1);
    return (last10.reduce((a, b) => a + b, 0) / Math.max(1, last10.length)).toFixed(1);
  };
  const relay = report.relay;
  const outbox = report.outbox;
  const lines = [
    `sheetsync: running for ${Math.round(report.uptimeMs / 1000)} s · links: ${report.links.join(', ')} · bus: ${report.bus}`,
    `  relay            ${relay ? `${relay.active ? 'active' : 'waiting for the lock'}, lag ${relay.lagMs} ms, ${relay.published} published, ${relay.errors} errors` : 'n/a'}`,
    `  outbox depth     ${outbox ? `${outbox.changes} changes in ${outbox.rows} rows${outbox.oldestAgeMs === null ? '' : `, oldest ${Math.round(outbox.oldestAgeMs)} ms`}` : 'n/a (PostgreSQL did not answer)'}`,
    `  pending          ${report.inFlight.sheetChanges} sheet → DB, ${report.inFlight.dbChanges} DB → sheet (published, not yet applied)`,
    `  dead-lettered    n/a (the local subscriptions have no dead-letter topic)`,
    `  changes/s        ${rate('sheetToDb')} sheet → DB, ${rate('dbToSheet')} DB → sheet (last 10 s); totals ${report.totals.sheetToDb} / ${report.totals.dbToSheet}`,
    `  open conflicts   ${report.openConflicts}${report.openConflicts > 0 ? ' (sheetsync conflicts list)' : ''}`,
    `  errors           ${report.totals.errors}${report.lastErrors.length > 0 ? ', last:' : ''}`,
    ...report.lastErrors
      .slice(-5)
      .map((e) => `    ${new Date(e.at).toISOString()} ${e.code ?? ''} ${e.message}`.replace(/ {2,}/g, ' ')),
    `  held changes     ${report.held.length}${report.held.length > 0 ? ' (nothing of them applied until a person decides)' : ''}`,
    ...report.held.flatMap((h) => [
      `    ${h.id} · link ${h.link} · ${h.count} rows · ${h.reason}`,
      `      e.g. ${h.sample
        .slice(0, 3)
        .map((s) => (s.key ? JSON.stringify(s.key) : s.rowId))
        .join(', ')}`,
      `      sheetsync approve ${h.id}   deletes them · sheetsync discard ${h.id}   puts them back`,
    ]),
  ];
  return `${lines.join('\n')}\n`;
}

export const STATUS_USAGE = `  status       relay lag, outbox depth, pending and dead-lettered messages, open conflicts,
               held mass changes and the last errors of the running \`npm start\`
               --state-dir DIR   its state directory (default .sheetsync)   --json   as JSON
`;

/** `sheetsync status [--json] [--state-dir DIR]`: 0 ok, 1 not running or failed, 2 usage. */
export async function runStatusCommand(args: string[]): Promise<number> {
  let values: { 'state-dir': string; json: boolean };
  try {
    values = parseArgs({
      args,
      options: {
        'state-dir': { type: 'string', default: '.sheetsync' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    }).values as typeof values;
  } catch (error) {
    process.stderr.write(`sheetsync status: ${(error as Error).message}\n\n${STATUS_USAGE}`);
    return 2;
  }
  const report = await readStatus(values['state-dir']);
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatStatus(report));
  return 0;
}
