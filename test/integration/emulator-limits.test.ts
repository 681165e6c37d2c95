/**
 * Quotas, the 10M-cell cap, injected faults, bad input and the state file.
 * Quotas follow https://developers.google.com/sheets/api/limits ("Per minute per user per
 * project 60 ... they're refilled every minute ... 429: Too many requests").
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';

let emulator: Emulator;
let client: sheets_v4.Sheets;

beforeAll(async () => {
  emulator = await createEmulator({ port: 0 });
  client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
});
afterAll(() => emulator.close());

async function failure(
  promise: Promise<unknown>,
): Promise<{ status: number; body: { error: Record<string, unknown> } }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; response: { data: { error: Record<string, unknown> } } };
    return { status: e.status, body: e.response.data };
  }
  throw new Error('expected the request to fail');
}

const admin = (path: string, body: unknown) =>
  fetch(`${emulator.url}/_emulator/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json());

describe('quotas (Usage limits)', () => {
  it('the 61st write of one user in a window gets 429 RESOURCE_EXHAUSTED, and the window refills', async () => {
    // A 10 s window instead of a minute, so the refill is seen quickly; the counts are Google's.
    const windowMs = 10_000;
    await admin('quotas', { windowMs, writePerUser: 60, writePerProject: 300 });
    const { spreadsheetId } = emulator.model.create();
    const write = (user: string) =>
      client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Sheet1!A1',
        valueInputOption: 'RAW',
        quotaUser: user,
        requestBody: { values: [[user]] },
      });
    // Start at a window boundary and send the 60 writes at once, so all fall in one window even
    // on a loaded machine.
    await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 20));
    const started = Date.now();
    await Promise.all(Array.from({ length: 60 }, () => write('alice')));
    const { status, body } = await failure(write('alice'));
    expect(Date.now() - started).toBeLessThan(windowMs);
    expect(status).toBe(429);
    expect(body.error).toMatchObject({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      message:
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
      details: [{ reason: 'RATE_LIMIT_EXCEEDED', metadata: { quota_limit_value: '60' } }, {}],
    });
    // Another user still has quota; reads are counted separately.
    await write('bob');
    await client.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!A1', quotaUser: 'alice' });
    await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 20));
    await expect(write('alice')).resolves.toMatchObject({ status: 200 });
    await admin('quotas', { windowMs: 60_000 });
  });

  it('the per-project quota covers all users together', async () => {
    await admin('quotas', { readPerProject: 5, readPerUser: 60 });
    const { spreadsheetId } = emulator.model.create();
    for (let i = 0; i < 5; i++) await client.spreadsheets.get({ spreadsheetId, quotaUser: `user${i}` });
    const { status, body } = await failure(client.spreadsheets.get({ spreadsheetId, quotaUser: 'fresh' }));
    expect(status).toBe(429);
    expect(body.error.message).toContain("limit 'Read requests per minute'");
    await admin('quotas', { readPerProject: 300 });
  });
});

describe('limits and bad input keep the server running', () => {
  it('a request that would pass 10,000,000 cells fails as Google fails it', async () => {
    const { spreadsheetId } = emulator.model.create();
    const { status, body } = await failure(
      client.spreadsheets.batchUpdate({
        spreadsheetId,
        requestBody: {
          requests: [
            { addSheet: { properties: { gridProperties: { rowCount: 400_000, columnCount: 25 } } } },
          ],
        },
      }),
    );
    expect(status).toBe(400);
    expect(body.error.message).toBe(
      'Invalid requests[0].addSheet: This action would increase the number of cells in the workbook above the limit of 10000000 cells.',
    );
  });

  it('a body over 10 MB is refused with 400 and the server still answers', async () => {
    const { spreadsheetId } = emulator.model.create();
    const huge = JSON.stringify({ values: [['x'.repeat(11 * 1024 * 1024)]] });
    const response = await fetch(
      `${emulator.url}/v4/spreadsheets/${spreadsheetId}/values/A1?valueInputOption=RAW`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: huge,
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message: 'Request payload size exceeds the limit: 10485760 bytes.',
        status: 'INVALID_ARGUMENT',
      },
    });
    await expect(client.spreadsheets.get({ spreadsheetId })).resolves.toMatchObject({ status: 200 });
  });

  it('a body that is not JSON is refused with 400 INVALID_ARGUMENT', async () => {
    const { spreadsheetId } = emulator.model.create();
    const response = await fetch(`${emulator.url}/v4/spreadsheets/${spreadsheetId}:batchUpdate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; status: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(/^Invalid JSON payload received\./);
    await expect(client.spreadsheets.get({ spreadsheetId })).resolves.toMatchObject({ status: 200 });
  });
});

describe('faults', () => {
  it('failNext answers 503 UNAVAILABLE and applies nothing; latency delays answers', async () => {
    const { spreadsheetId } = emulator.model.create();
    await admin('faults', { failNext: 1 });
    const { status, body } = await failure(
      client.spreadsheets.values.update({
        spreadsheetId,
        range: 'A1',
        valueInputOption: 'RAW',
        requestBody: { values: [['x']] },
      }),
    );
    expect(status).toBe(503);
    expect(body.error.status).toBe('UNAVAILABLE');
    expect(
      (await client.spreadsheets.values.get({ spreadsheetId, range: 'A1' })).data.values,
    ).toBeUndefined();
    await admin('faults', { latencyMs: 150 });
    const started = Date.now();
    await client.spreadsheets.get({ spreadsheetId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await admin('faults', { latencyMs: 0 });
  });

  it('errorRate 1 fails every API request but not the admin routes', async () => {
    const { spreadsheetId } = emulator.model.create();
    await admin('faults', { errorRate: 1, errorStatus: 500 });
    expect((await failure(client.spreadsheets.get({ spreadsheetId }))).status).toBe(500);
    await admin('faults', { errorRate: 0 });
    await expect(client.spreadsheets.get({ spreadsheetId })).resolves.toMatchObject({ status: 200 });
  });
});

describe('lost responses and hangs (applied, or not, and unanswered)', () => {
  const append = (spreadsheetId: string, value: string, options: { timeout?: number } = {}) =>
    client.spreadsheets.values.append(
      { spreadsheetId, range: 'A1', valueInputOption: 'RAW', requestBody: { values: [[value]] } },
      options,
    );
  const column = async (spreadsheetId: string) =>
    (await client.spreadsheets.values.get({ spreadsheetId, range: 'A:A' })).data.values?.map((r) => r[0]);
  const errorOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as { status?: number; code?: unknown; message: string; response?: { data?: unknown } };
    }
    throw new Error('expected the request to fail');
  };

  it('lostResponseNext applies the write, then drops the connection', async () => {
    const { spreadsheetId } = emulator.model.create();
    await admin('faults', { lostResponseNext: 1, lostResponseAs: 'reset' });
    const error = await errorOf(append(spreadsheetId, 'a'));
    expect(error.status).toBeUndefined(); // no answer at all: a network error
    expect(await column(spreadsheetId)).toEqual(['a']);
    await append(spreadsheetId, 'b'); // the next request is answered
    expect(await column(spreadsheetId)).toEqual(['a', 'b']);
  });

  it("lostResponseAs 500 applies the write, then answers Google's 500 INTERNAL", async () => {
    const { spreadsheetId } = emulator.model.create();
    await admin('faults', { lostResponseNext: 1, lostResponseAs: 500 });
    const error = await errorOf(append(spreadsheetId, 'a'));
    expect(error.status).toBe(500);
    expect(error.response?.data).toEqual({
      error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' },
    });
    expect(await column(spreadsheetId)).toEqual(['a']);
    await admin('faults', { lostResponseAs: 'reset' });
  });

  it('target "write" loses writes only; reads answer', async () => {
    const { spreadsheetId } = emulator.model.create();
    await admin('faults', { lostResponseRate: 1, target: 'write' });
    await errorOf(append(spreadsheetId, 'a'));
    expect(await column(spreadsheetId)).toEqual(['a']);
    await admin('faults', { lostResponseRate: 0, target: 'all' });
  });

  it('hangNext holds a request open until the client times out; hangApplied says whether it landed', async () => {
    const { spreadsheetId } = emulator.model.create();
    await admin('faults', { hangNext: 1, hangApplied: false });
    const started = Date.now();
    const error = await errorOf(append(spreadsheetId, 'never', { timeout: 300 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(error.status).toBeUndefined();
    expect(await column(spreadsheetId)).toBeUndefined();
    await admin('faults', { hangNext: 1, hangApplied: true });
    await errorOf(append(spreadsheetId, 'landed', { timeout: 300 }));
    expect(await column(spreadsheetId)).toEqual(['landed']);
    await admin('faults', { hangApplied: false });
  });

  it('refuses an unknown fault or a rate outside 0..1 with a 400 that names it', async () => {
    const answer = (body: unknown) =>
      fetch(`${emulator.url}/_emulator/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const unknown = await answer({ lostResponses: 1 });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/lostResponses/);
    const rate = await answer({ hangRate: 2 });
    expect(rate.status).toBe(400);
    expect(((await rate.json()) as { error: { message: string } }).error.message).toMatch(/hangRate/);
  });
});

describe('large sheets (the sync tests push 10k-row updates and read 100k-row sheets)', () => {
  // Correctness at size only: speed is a benchmark's business, not a timed test's.
  it('writes 100,000 rows and reads them back', async () => {
    emulator.quotas.configure({ enabled: false });
    const { spreadsheetId } = emulator.model.create({
      sheets: [{ title: 'Big', rowCount: 100_000, columnCount: 5 }],
    });
    const rows = Array.from({ length: 100_000 }, (_, i) => [String(i), `name ${i}`, i * 2, i % 2 === 0, '']);
    await client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Big!A1',
      valueInputOption: 'RAW',
      requestBody: { values: rows },
    });
    const { data } = await client.spreadsheets.values.get({
      spreadsheetId,
      range: 'Big',
      valueRenderOption: 'UNFORMATTED_VALUE',
    });
    expect(data.values).toHaveLength(100_000);
    expect(data.values?.[99_999]).toEqual(['99999', 'name 99999', 199_998, false]);
    emulator.quotas.configure({ enabled: true });
  });
});

describe('state file and the npm run emulator entry', () => {
  it('a restarted emulator keeps the sheets, and main.ts prints "emulator ready <url>"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
    const state = join(dir, 'state.json');
    try {
      const first = await createEmulator({ port: 0, state });
      const { spreadsheetId } = first.model.create({ title: 'kept' });
      const firstClient = sheets({ version: 'v4', rootUrl: `${first.url}/`, retry: false });
      await firstClient.spreadsheets.values.update({
        spreadsheetId,
        range: 'Sheet1!B2',
        valueInputOption: 'USER_ENTERED',
        requestBody: { values: [['=1+1', '2024-02-03']] },
      });
      await first.close();

      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'emulator/src/main.ts', '--port', '0', '--state', state],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const match = /^emulator ready (http:\/\/\S+)/m.exec(out);
            if (match?.[1]) resolve(match[1]);
          });
          child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
        });
        const second = sheets({ version: 'v4', rootUrl: `${url}/`, retry: false });
        const { data } = await second.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!B2:C2' });
        expect(data.values).toEqual([['2', '2024-02-03']]);
      } finally {
        child.kill('SIGTERM');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
