/**
 * Issue 18, Build 7: the webhook fuzzed through functions-framework's real HTTP server and the
 * real composition root (functions/src/index.ts as FUNCTION_TARGET=sheetWebhook, as on Cloud Run)
 * against Google's Pub/Sub and Firestore emulators. fast-check sends random bytes and JSON, wrong
 * methods and content types, bodies over the 10 MiB limit, tampered bodies, signatures and
 * timestamps, events signed for another spreadsheet, corrupted events, replays of events taken
 * before, and hostile tab and header names (quotes, SQL, formulas, 50,000 characters) in signed
 * events (test/support/webhook-fuzz-requests.ts).
 *
 * Every answer must be JSON; a refusal a 4xx with a SHEETSYNC_E code and no stack trace; no 5xx.
 * Afterwards nothing was published (the probe subscription saw only the events taken before),
 * Firestore holds exactly what it held before (no replay marker, epoch or hold changed), and a
 * new signed event still goes through. WEBHOOK_FUZZ_RUNS sets the number of requests (default
 * 100,000; 1,000,000 for the long run). The last line printed is a JSON summary.
 */
import http from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import type { Bus, Subscription } from '../../functions/src/ports.ts';
import { parseSheetChanges } from '../../functions/src/wire/sheet-change.ts';
import { uniqueName } from '../support/names.ts';
import { waitFor } from '../support/wait.ts';
import { type FuzzRequest, fuzzRequest, type Sent, takenEvent } from '../support/webhook-fuzz-requests.ts';

const REQUESTS = Number(process.env.WEBHOOK_FUZZ_RUNS ?? 100_000);
const BATCH = 100;
const SECRET = `fuzz-${uniqueName('secret')}`;
const SPREADSHEET = 'sheet-fuzz';
const TAB = 'Orders';
const project = uniqueName('sheetsync-fuzz');
const topic = uniqueName('sheet-changes');
const setup = { master: SECRET, spreadsheetId: SPREADSHEET, linkedTab: TAB };

let server: http.Server;
let port: number;
let bus: Bus;
let subscription: Subscription;
let firestore: Firestore;
/** Event ids of the changes the probe subscription received, by Pub/Sub message id. */
const received = new Map<string, string[]>();
// A socket idle for the server's keep-alive timeout (5 s) may be closed as it is reused (a reset,
// not the webhook's doing): the agent drops idle sockets first.
const agent = new http.Agent({ keepAlive: true, maxSockets: 50, timeout: 4_000 });

interface Answer {
  status: number;
  type: string;
  text: string;
}

function send(request: FuzzRequest | (Sent & { method?: string; chunked?: boolean })): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (!request.chunked) headers['content-length'] = request.body.length;
    const req = http.request(
      { host: '127.0.0.1', port, path: '/', method: request.method ?? 'POST', headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** The answers each kind of request may get, as `status code` (code '-' for a 2xx). */
const ALLOWED: Record<FuzzRequest['kind'], RegExp> = {
  garbage: /^(401 SHEETSYNC_E603|405 SHEETSYNC_E601|413 SHEETSYNC_E602|415 SHEETSYNC_E62[01])$/,
  tampered: /^401 SHEETSYNC_E(603|624)$/,
  malformed: /^(400 SHEETSYNC_E604|401 SHEETSYNC_E624|200 ignored)$/,
  ignored: /^200 ignored$/,
  'wrong-type': /^415 SHEETSYNC_E62[01]$/,
  // A captured request sent again after its 5 minutes is refused as stale.
  replay: /^(409 SHEETSYNC_E606|401 SHEETSYNC_E603)$/,
  huge: /^413 SHEETSYNC_E602$/,
};

/**
 * What an answer was, as `status code`, or why it is wrong: not JSON, a stack trace, a refusal
 * without a code. Plain checks: this runs for every request.
 */
function outcome(answer: Answer): string {
  if (answer.status === 0) return `wrong: ${answer.text}`;
  if (/<html|<pre>|<!DOCTYPE|\n\s+at /i.test(answer.text))
    return `wrong: HTML or a stack trace: ${answer.text.slice(0, 300)}`;
  if (!answer.type.startsWith('application/json')) return `wrong: content-type ${answer.type}`;
  let body: { error?: { code?: unknown; message?: unknown }; ignored?: unknown };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `wrong: not JSON: ${answer.text.slice(0, 300)}`;
  }
  if (answer.status >= 200 && answer.status < 300)
    return `${answer.status} ${body.ignored === true ? 'ignored' : JSON.stringify(body).slice(0, 300)}`;
  if (typeof body.error?.message !== 'string') return `wrong: no message: ${answer.text.slice(0, 300)}`;
  return `${answer.status} ${String(body.error?.code)}`;
}

/** Every document under the project's root, by path, with its data. */
async function firestoreState(): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {};
  const walk = async (collections: FirebaseFirestore.CollectionReference[]) => {
    for (const collection of collections) {
      for (const ref of await collection.listDocuments()) {
        const snapshot = await ref.get();
        state[ref.path] = snapshot.exists ? snapshot.data() : null;
        await walk(await ref.listCollections());
      }
    }
  };
  await walk(await firestore.listCollections());
  return state;
}

beforeAll(async () => {
  vi.stubEnv('FUNCTION_TARGET', 'sheetWebhook');
  vi.stubEnv('GOOGLE_CLOUD_PROJECT', project);
  vi.stubEnv('PUBSUB_EMULATOR_HOST', inject('pubsubEmulatorHost'));
  vi.stubEnv('FIRESTORE_EMULATOR_HOST', inject('firestoreEmulatorHost'));
  vi.stubEnv('SHEETSYNC_SHEET_TOPIC', topic);
  vi.stubEnv('SHEETSYNC_WEBHOOK_SECRET', SECRET);
  // A refusal logs a warning; the fuzz would print a million. Errors still show.
  vi.stubEnv('SHEETSYNC_LOG_LEVEL', 'ERROR');
  vi.stubEnv(
    'SHEETSYNC_LINKS',
    JSON.stringify({
      links: [{ name: 'orders', spreadsheetId: SPREADSHEET, sheet: TAB, table: 'public.orders' }],
    }),
  );
  bus = createPubSubBus({ projectId: project, apiEndpoint: inject('pubsubEmulatorHost') });
  await bus.ensureTopic(topic);
  await bus.ensureSubscription(`${topic}-probe`, { topic });
  subscription = bus.subscribe(`${topic}-probe`, async (message) => {
    received.set(
      message.id,
      parseSheetChanges(message.data).map((change) => change.eventId),
    );
  });
  firestore = new Firestore({ projectId: project });

  await import('../../functions/src/index.ts');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  server = getTestServer('sheetWebhook');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  agent.destroy();
  await subscription?.close();
  await bus?.close();
  await firestore?.terminate();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  vi.unstubAllEnvs();
});

const eventIds = () => [...received.values()].flat().sort();

describe('the webhook under fuzzing', () => {
  it(
    `answers ${REQUESTS.toLocaleString('en-US')} hostile requests with JSON codes; nothing published, no state changed`,
    async () => {
      // Events the webhook takes, with hostile header names and cells: their replays are fuzzed.
      const taken: Sent[] = [];
      for (const cells of [
        { "'; DROP TABLE orders; --": '=HYPERLINK("http://evil.example")' },
        { ['"'.repeat(50_000)]: 'x'.repeat(50_000) },
        { '=1+1': '@SUM(1)', __proto__: 'p' },
        { name: 'Ada' },
      ]) {
        const event = takenEvent(setup, cells);
        const answer = await send(event);
        expect(answer.status, answer.text).toBe(200);
        expect(JSON.parse(answer.text)).toEqual({ published: 1 });
        taken.push(event);
      }
      const takenIds = taken
        .map((e) => (JSON.parse(e.body.toString()) as { eventId: string }).eventId)
        .sort();
      await waitFor('the taken events published', async () => eventIds().length === taken.length, 30_000);
      expect(eventIds()).toEqual(takenIds);
      const before = await firestoreState();
      expect(Object.keys(before).length).toBeGreaterThan(0);

      const counts = new Map<string, number>();
      const kinds = new Map<string, number>();
      let sent = 0;
      const started = performance.now();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fuzzRequest({ ...setup, taken }), { minLength: BATCH, maxLength: BATCH }),
          async (batch) => {
            const answers = await Promise.all(
              batch.map((request) =>
                send(request).catch((error: NodeJS.ErrnoException) => ({
                  status: 0,
                  type: '',
                  text: `no answer: ${error.code ?? error.message}`,
                })),
              ),
            );
            for (const [i, answer] of answers.entries()) {
              const request = batch[i]!;
              const got = outcome(answer);
              if (!ALLOWED[request.kind].test(got)) {
                const what = `${request.kind} ${request.method} ${request.body.length} bytes${request.chunked ? ' chunked' : ''}`;
                throw new Error(`${what} ${JSON.stringify(request.headers).slice(0, 300)}: ${got}`);
              }
              counts.set(got, (counts.get(got) ?? 0) + 1);
              kinds.set(request.kind, (kinds.get(request.kind) ?? 0) + 1);
            }
            sent += batch.length;
          },
        ),
        // A batch of 100 requests shrinks slowly; the failing request is named in the assertion.
        { numRuns: Math.ceil(REQUESTS / BATCH), endOnFailure: true },
      );
      const seconds = (performance.now() - started) / 1000;

      // No replay marker, epoch or hold changed; only the events taken before were published.
      expect(await firestoreState()).toEqual(before);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(eventIds()).toEqual(takenIds);
      // The server is up and takes a new event.
      const after = takenEvent(setup, { name: 'after the fuzz' });
      const answer = await send(after);
      expect(answer.status, answer.text).toBe(200);
      await waitFor('the last event published', async () => eventIds().length > taken.length, 30_000);

      expect(sent).toBeGreaterThanOrEqual(REQUESTS);
      console.log(
        JSON.stringify({
          webhookFuzz: {
            requests: sent,
            seconds: Math.round(seconds * 10) / 10,
            requestsPerSecond: Math.round(sent / seconds),
            kinds: Object.fromEntries([...kinds].sort()),
            answers: Object.fromEntries([...counts].sort()),
            published: eventIds().length,
          },
        }),
      );
    },
    // Generous: ~10 ms a request, for a loaded machine (a quiet one serves thousands a second).
    Math.max(180_000, REQUESTS * 10),
  );
});
