/**
 * The deployed webhook refuses before it parses (issue 18, Build 4), through functions-framework's
 * real HTTP server (getTestServer) and the real composition root (functions/src/index.ts, served
 * as FUNCTION_TARGET=sheetWebhook as on Cloud Run), against Google's Pub/Sub and Firestore
 * emulators. functions-framework reads and JSON-parses every application/json body up to 1 GB
 * before a function runs and answers a body it cannot parse with an HTML page; here a 20 MB body,
 * malformed JSON, a wrong content type, no body, a bad signature are each answered JSON with a
 * SHEETSYNC_E code, nothing is published and Firestore stays empty (no replay claim, no epoch
 * bump). A signed event then goes through, so the checks of "nothing" can see something.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import type { Bus, ReceivedMessage, Subscription } from '../../functions/src/ports.ts';
import { uniqueName } from '../support/names.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = 'raw-body-gate-secret-0123456789abcdef';
const SPREADSHEET = 'sheet-raw-body-gate';
const TAB = 'Orders';
const MB = 1024 * 1024;
const project = uniqueName('sheetsync-gate');
const topic = uniqueName('sheet-changes');

let server: Server;
let url: string;
let bus: Bus;
let subscription: Subscription;
let firestore: Firestore;
const received: ReceivedMessage[] = [];

function event(): string {
  return JSON.stringify({
    v: 1,
    kind: 'edit',
    eventId: randomUUID(),
    spreadsheetId: SPREADSHEET,
    sheet: TAB,
    sheetId: 0,
    headers: ['id', 'name'],
    time: Date.now(),
    rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells: { name: 'Ada' } }],
  });
}

function signed(body: Uint8Array | string, secret = SECRET): Record<string, string> {
  return signedHeaders(secret, SPREADSHEET, body);
}

interface Answer {
  status: number;
  type: string;
  text: string;
  body: { error?: { code?: string; message?: string }; published?: number } | undefined;
}

async function post(init: RequestInit & { headers?: Record<string, string> }): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', ...init });
  const text = await response.text();
  let body: Answer['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body };
}

/** A refusal: the status, JSON with the code, and nothing of an HTML page or a stack trace. */
function expectRefusal(answer: Answer, status: number, code: string) {
  expect(answer.text, answer.text.slice(0, 300)).not.toMatch(/<html|<pre>|<!DOCTYPE|\n\s+at /i);
  expect(answer.type).toMatch(/^application\/json/);
  expect(answer.status).toBe(status);
  expect(answer.body?.error?.code).toBe(code);
  expect(answer.body?.error?.message).toEqual(expect.any(String));
}

/** A body of `bytes` that is one valid JSON object (a long string inside an event). */
function bigJson(bytes: number): Uint8Array<ArrayBuffer> {
  const prefix = '{"v":1,"kind":"edit","padding":"';
  const text = `${prefix}${'a'.repeat(bytes - prefix.length - 2)}"}`;
  return new TextEncoder().encode(text);
}

beforeAll(async () => {
  vi.stubEnv('FUNCTION_TARGET', 'sheetWebhook');
  vi.stubEnv('GOOGLE_CLOUD_PROJECT', project);
  vi.stubEnv('PUBSUB_EMULATOR_HOST', inject('pubsubEmulatorHost'));
  vi.stubEnv('FIRESTORE_EMULATOR_HOST', inject('firestoreEmulatorHost'));
  vi.stubEnv('SHEETSYNC_SHEET_TOPIC', topic);
  vi.stubEnv('SHEETSYNC_WEBHOOK_SECRET', SECRET);
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
    received.push(message);
  });
  firestore = new Firestore({ projectId: project });

  await import('../../functions/src/index.ts');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  server = getTestServer('sheetWebhook');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});

afterAll(async () => {
  await subscription?.close();
  await bus?.close();
  await firestore?.terminate();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  vi.unstubAllEnvs();
});

describe('the webhook through functions-framework', () => {
  // First: the webhook's dependencies are made on first use and kept once made.
  it('answers 500 with a code when it cannot check requests (no secret configured)', async () => {
    vi.stubEnv('SHEETSYNC_WEBHOOK_SECRET', '');
    try {
      const body = event();
      expectRefusal(
        await post({ headers: { 'content-type': 'application/json', ...signed(body) }, body }),
        500,
        'SHEETSYNC_E623',
      );
    } finally {
      vi.stubEnv('SHEETSYNC_WEBHOOK_SECRET', SECRET);
    }
  });

  it('refuses a 20 MB body by its Content-Length, unread and unparsed', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const body = bigJson(20 * MB);
      const answer = await post({ headers: { 'content-type': 'application/json', ...signed(body) }, body });
      expectRefusal(answer, 413, 'SHEETSYNC_E602');
      expect(parse.mock.calls.filter(([text]) => String(text).length > MB)).toEqual([]);
    } finally {
      parse.mockRestore();
    }
  });

  it('refuses a 20 MB body sent without a length once it passes the limit', async () => {
    const chunk = Buffer.alloc(MB, 'a');
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const answer = await post({
      headers: { 'content-type': 'application/json', ...signed('unused') },
      body: stream,
      duplex: 'half',
    } as RequestInit & { headers: Record<string, string> });
    expectRefusal(answer, 413, 'SHEETSYNC_E602');
  });

  it('answers malformed JSON with JSON: unsigned 401, signed 400 from the handler', async () => {
    const body = '{"v":1,"kind":"edit",';
    expectRefusal(
      await post({ headers: { 'content-type': 'application/json' }, body }),
      401,
      'SHEETSYNC_E603',
    );
    expectRefusal(
      await post({ headers: { 'content-type': 'application/json', ...signed(body) }, body }),
      400,
      'SHEETSYNC_E604',
    );
  });

  it('refuses a wrong content type, even signed, and a compressed body', async () => {
    const body = event();
    expectRefusal(
      await post({ headers: { 'content-type': 'text/plain', ...signed(body) }, body }),
      415,
      'SHEETSYNC_E621',
    );
    expectRefusal(
      await post({ headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(body) }, body }),
      415,
      'SHEETSYNC_E621',
    );
    expectRefusal(
      await post({ headers: { 'content-type': 'application/json; charset=latin1', ...signed(body) }, body }),
      415,
      'SHEETSYNC_E621',
    );
    const zipped = new Uint8Array(gzipSync(body));
    expectRefusal(
      await post({
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...signed(zipped) },
        body: zipped,
      }),
      415,
      'SHEETSYNC_E620',
    );
  });

  it('refuses no body, a bad signature and other methods', async () => {
    expectRefusal(await post({}), 415, 'SHEETSYNC_E621');
    expectRefusal(await post({ headers: { 'content-type': 'application/json' } }), 401, 'SHEETSYNC_E603');
    expectRefusal(
      await post({ headers: { 'content-type': 'application/json', ...signed('') }, body: '' }),
      400,
      'SHEETSYNC_E604',
    );
    const body = event();
    expectRefusal(
      await post({
        headers: { 'content-type': 'application/json', ...signed(body, 'another-secret') },
        body,
      }),
      401,
      'SHEETSYNC_E603',
    );
    const get = await fetch(url);
    expectRefusal(
      {
        status: get.status,
        type: get.headers.get('content-type') ?? '',
        text: await get.clone().text(),
        body: await get.json(),
      },
      405,
      'SHEETSYNC_E601',
    );
  });

  it('published nothing and changed no state for any of them; a signed event then goes through', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received).toEqual([]);
    expect(await firestore.listCollections()).toEqual([]);

    const body = event();
    const answer = await post({
      headers: { 'content-type': 'application/json; charset=utf-8', ...signed(body) },
      body,
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ published: 1 });
    await waitFor('the published change', async () => received.length === 1, 10_000);
    const collections = (await firestore.listCollections()).map((c) => c.id);
    expect(collections).toContain('sheetsync_webhook_events');
  });
});
