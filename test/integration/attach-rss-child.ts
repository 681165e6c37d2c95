/**
 * Runs `attachLink` in a process of its own for attach-rss.test.ts, so the peak RSS it reports
 * (process.resourceUsage().maxRSS) is attach's alone, not the test runner's or the local sheet's.
 * Argument: one JSON object {databaseUrl, sheetsApiUrl, firestoreHost, root, link}.
 */
import { Firestore } from '@google-cloud/firestore';
import postgres from 'postgres';
import { attachLink } from '../../cli/src/attach.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';

const input = JSON.parse(process.argv[2] ?? '{}') as {
  databaseUrl: string;
  sheetsApiUrl: string;
  firestoreHost: string;
  root: string;
  link: unknown;
};
const [host, port] = input.firestoreHost.split(':');
const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
const sql = postgres(input.databaseUrl, { max: 2, onnotice: () => {} });
const startedAt = Date.now();
const result = await attachLink({
  sql,
  sheetsApi: new SheetsApi({ rootUrl: input.sheetsApiUrl, logger: silentLogger }),
  store: new FirestoreVersionStore({ firestore, root: input.root }),
  link: parseConfig({ links: [input.link] }).links[0]!,
  onProgress: (done, total) => process.stderr.write(`${done}/${total} ${Date.now() - startedAt} ms\n`),
});
await sql.end();
await firestore.terminate();
process.stdout.write(
  `${JSON.stringify({ result, seconds: (Date.now() - startedAt) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
