/**
 * Runs `attachLink` or `reconcileLink` in a process of its own, for the 100,000-row tests and
 * `npm run bench -- attach`, so the peak RSS it reports (process.resourceUsage().maxRSS) is the
 * command's alone, not the test runner's or the local sheet's. As the CLI does, it talks to
 * PostgreSQL, the Firestore emulator and the local sheet over the network.
 *
 * Argument: one JSON object (SyncChildInput). Progress (with memory) goes to stderr; the last
 * line of stdout is one JSON object (SyncChildReport).
 */
import { Firestore } from '@google-cloud/firestore';
import postgres from 'postgres';
import { holdHeapGrowth } from '../../cli/src/heap-growth.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';

export interface SyncChildInput {
  command: 'attach' | 'reconcile' | 'reconcile --dry-run';
  databaseUrl: string;
  sheetsApiUrl: string;
  firestoreHost: string;
  root: string;
  link: unknown;
}

export interface SyncChildReport {
  result: Record<string, unknown>;
  seconds: number;
  maxRssMb: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as SyncChildInput;
const [host, port] = input.firestoreHost.split(':');
const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
const sql = postgres(input.databaseUrl, { max: 2, onnotice: () => {} });
const mb = (n: number) => Math.round(n / 2 ** 20);
const startedAt = Date.now();
const deps = {
  sql,
  sheetsApi: new SheetsApi({ rootUrl: input.sheetsApiUrl, logger: silentLogger }),
  store: new FirestoreVersionStore({ firestore, root: input.root }),
  link: parseConfig({ links: [input.link] }).links[0]!,
  onProgress: (done: number, total: number) => {
    const m = process.memoryUsage();
    process.stderr.write(
      `${done}/${total} ${Date.now() - startedAt} ms rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB\n`,
    );
  },
};
// As the CLI does for these one-shot commands (cli/src/sync-commands.ts).
holdHeapGrowth();
const result =
  input.command === 'attach'
    ? await attachLink(deps)
    : await reconcileLink({ ...deps, dryRun: input.command === 'reconcile --dry-run' });
await sql.end();
await firestore.terminate();
const report: SyncChildReport = {
  result: result as unknown as Record<string, unknown>,
  seconds: (Date.now() - startedAt) / 1000,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
