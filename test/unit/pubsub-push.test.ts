/**
 * The push subscriber functions read Pub/Sub's push body themselves (runtime/pubsub-push.ts), over
 * functions-framework's real HTTP server (getTestServer, as functions-framework's own tests do),
 * against the wire format of https://cloud.google.com/pubsub/docs/push: `{message: {data,
 * attributes, messageId, publishTime, orderingKey}, subscription, deliveryAttempt}`, answered
 * 204 (an acknowledging status) or a non-2xx one (a nack). The delivery attempt reaches the
 * function; a deferred outcome is held and decided again as the next attempt, then nacked.
 */
import type { Server } from 'node:http';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger, LogLabels } from '../../functions/src/log.ts';
import { HOLD_DELAYS_MS, type PushOutcome, pubsubPush } from '../../functions/src/runtime/pubsub-push.ts';

/** Statuses Pub/Sub takes as an acknowledgement (https://cloud.google.com/pubsub/docs/push). */
const ACK = [102, 200, 201, 202, 204];

interface Probe {
  submitted: Array<{ message: unknown; attempt: number }>;
  outcomes: Array<PushOutcome | Error>;
  slept: number[];
  logs: Array<{ level: string; message: string; labels?: LogLabels }>;
}
const probe: Probe = { submitted: [], outcomes: [], slept: [], logs: [] };

const logger: Logger = {
  debug: (message, labels) => probe.logs.push({ level: 'debug', message, ...(labels ? { labels } : {}) }),
  info: (message, labels) => probe.logs.push({ level: 'info', message, ...(labels ? { labels } : {}) }),
  warn: (message, labels) => probe.logs.push({ level: 'warn', message, ...(labels ? { labels } : {}) }),
  error: (message, labels) => probe.logs.push({ level: 'error', message, ...(labels ? { labels } : {}) }),
  child: () => logger,
};

http(
  'pushProbe',
  pubsubPush({
    parse: (data) => {
      const value = JSON.parse(data.toString('utf8')) as { v?: number };
      if (value.v !== 1) throw new Error('not a v1 message');
      return value;
    },
    submitter: () => ({
      submit: async (delivery) => {
        probe.submitted.push(delivery);
        const next = probe.outcomes.shift() ?? 'ack';
        if (next instanceof Error) throw next;
        return next;
      },
    }),
    logger,
    sleep: async (ms) => {
      probe.slept.push(ms);
    },
  }),
);

let server: Server;
let url: string;

beforeAll(async () => {
  server = getTestServer('pushProbe');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  probe.submitted.length = 0;
  probe.outcomes.length = 0;
  probe.slept.length = 0;
  probe.logs.length = 0;
});

const data = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const SUBSCRIPTION = 'projects/p/subscriptions/sheetsync-apply-to-db';

/** The body Pub/Sub pushes for one message, with `extra` top-level fields. */
function pushBody(message: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    message: {
      data: data({ v: 1, n: 7 }),
      attributes: { origin: 'sheet' },
      messageId: '1234567890',
      message_id: '1234567890',
      publishTime: '2026-12-07T20:00:00.123Z',
      publish_time: '2026-12-07T20:00:00.123Z',
      orderingKey: 'leads/3',
      ...message,
    },
    subscription: SUBSCRIPTION,
    ...extra,
  };
}

async function post(body: unknown, init: { method?: string; contentType?: string } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'POST',
    ...(init.method === 'GET'
      ? {}
      : {
          headers: { 'content-type': init.contentType ?? 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as { error?: { code?: string } }) : undefined,
  };
}

describe('the push body, as Pub/Sub sends it', () => {
  const accepted: Array<{ name: string; body: unknown; attempt: number }> = [
    {
      name: 'every field, dead-letter policy on: deliveryAttempt reaches the function',
      body: pushBody({}, { deliveryAttempt: 4 }),
      attempt: 4,
    },
    { name: 'the first attempt', body: pushBody({}, { deliveryAttempt: 1 }), attempt: 1 },
    { name: 'no dead-letter policy: no deliveryAttempt, counted as 1', body: pushBody({}), attempt: 1 },
    {
      name: 'deliveryAttempt 0 (no dead-letter policy), counted as 1',
      body: pushBody({}, { deliveryAttempt: 0 }),
      attempt: 1,
    },
    {
      name: 'no attributes, no ordering key, no publish time',
      body: pushBody(
        { attributes: undefined, orderingKey: undefined, publishTime: undefined, publish_time: undefined },
        { deliveryAttempt: 2 },
      ),
      attempt: 2,
    },
  ];
  it.each(accepted)('$name', async ({ body, attempt }) => {
    const answer = await post(body);
    expect(ACK).toContain(answer.status);
    expect(probe.submitted).toEqual([{ message: { v: 1, n: 7 }, attempt }]);
  });

  const refused: Array<{
    name: string;
    body: unknown;
    method?: string;
    contentType?: string;
    status: number;
  }> = [
    { name: 'no message', body: { subscription: SUBSCRIPTION, deliveryAttempt: 1 }, status: 400 },
    { name: 'no messageId', body: pushBody({ messageId: undefined, message_id: undefined }), status: 400 },
    { name: 'data not a string', body: pushBody({ data: { v: 1 } }), status: 400 },
    { name: 'no subscription', body: { message: pushBody({}).message, deliveryAttempt: 1 }, status: 400 },
    { name: 'deliveryAttempt not a number', body: pushBody({}, { deliveryAttempt: '2' }), status: 400 },
    { name: 'a negative deliveryAttempt', body: pushBody({}, { deliveryAttempt: -1 }), status: 400 },
    {
      name: 'a CloudEvent (Eventarc) instead of a push body',
      body: {
        specversion: '1.0',
        type: 'google.cloud.pubsub.topic.v1.messagePublished',
        source: '//pubsub.googleapis.com/projects/p/topics/t',
        id: '1',
        data: { message: { data: data({ v: 1 }), messageId: '1' } },
      },
      contentType: 'application/cloudevents+json',
      status: 400,
    },
    { name: 'not JSON', body: 'message=1', contentType: 'text/plain', status: 400 },
    { name: 'a GET', body: undefined, method: 'GET', status: 405 },
  ];
  it.each(refused)('refuses $name ($status, SHEETSYNC_E770), submitting nothing', async (c) => {
    const answer = await post(c.body, {
      ...(c.method ? { method: c.method } : {}),
      ...(c.contentType ? { contentType: c.contentType } : {}),
    });
    expect(answer.status).toBe(c.status);
    expect(answer.body?.error?.code).toBe('SHEETSYNC_E770');
    expect(probe.submitted).toEqual([]);
  });

  it.each([
    { name: 'data that is not JSON', message: { data: Buffer.from('{oops').toString('base64') } },
    { name: 'data that is not a message of this topic', message: { data: data({ v: 2 }) } },
    { name: 'no data', message: { data: undefined } },
  ])('acknowledges $name after logging it (E310): redelivery could never succeed', async ({ message }) => {
    const answer = await post(pushBody(message, { deliveryAttempt: 1 }));
    expect(ACK).toContain(answer.status);
    expect(probe.submitted).toEqual([]);
    expect(probe.logs).toEqual([
      expect.objectContaining({
        level: 'error',
        labels: expect.objectContaining({ code: 'SHEETSYNC_E310', messageId: '1234567890' }),
      }),
    ]);
  });
});

describe('outcomes: ack, held deferrals, nack', () => {
  const rows: Array<{
    name: string;
    deliveryAttempt: number;
    outcomes: Array<PushOutcome | Error>;
    status: number;
    code?: string;
    attempts: number[];
    slept: number[];
  }> = [
    { name: 'applied at once', deliveryAttempt: 1, outcomes: ['ack'], status: 204, attempts: [1], slept: [] },
    {
      name: 'deferred once, then applied: held 250 ms, decided again as the next attempt',
      deliveryAttempt: 1,
      outcomes: ['retry', 'ack'],
      status: 204,
      attempts: [1, 2],
      slept: [250],
    },
    {
      name: 'a redelivery counts on from its deliveryAttempt',
      deliveryAttempt: 3,
      outcomes: ['retry', 'retry', 'ack'],
      status: 204,
      attempts: [3, 4, 5],
      slept: [250, 500],
    },
    {
      name: 'still deferred after every hold: nacked (409, E772)',
      deliveryAttempt: 2,
      outcomes: ['retry', 'retry', 'retry', 'retry', 'retry'],
      status: 409,
      code: 'SHEETSYNC_E772',
      attempts: [2, 3, 4, 5, 6],
      slept: [...HOLD_DELAYS_MS],
    },
    {
      name: 'a failed flush: nacked (500, E771)',
      deliveryAttempt: 1,
      outcomes: [new Error('connection refused')],
      status: 500,
      code: 'SHEETSYNC_E771',
      attempts: [1],
      slept: [],
    },
  ];
  it.each(rows)('$name', async (row) => {
    probe.outcomes.push(...row.outcomes);
    const answer = await post(pushBody({}, { deliveryAttempt: row.deliveryAttempt }));
    expect(answer.status).toBe(row.status);
    if (row.code) expect(answer.body?.error?.code).toBe(row.code);
    else expect(ACK).toContain(answer.status);
    expect(probe.submitted.map((s) => s.attempt)).toEqual(row.attempts);
    expect(probe.slept).toEqual(row.slept);
  });

  it('holds 3.75 s at most, so a first delivery reaches the deferral cap (5 decisions) in one request', () => {
    expect(HOLD_DELAYS_MS.reduce((a, b) => a + b, 0)).toBe(3_750);
    expect(HOLD_DELAYS_MS).toHaveLength(4);
  });
});
