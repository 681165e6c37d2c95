/**
 * The local sheet's surfaces are local (issue 18, Build 5): a web page open in the same browser
 * must not drive the admin, user-action or script routes (cross-site "simple" POSTs: any content
 * type, the page's Origin) nor read any route through DNS rebinding (its own name in Host).
 * Refusals are 403 with Google's error body (PERMISSION_DENIED) and change nothing; the Google
 * client library, which sends no Origin, keeps working on 127.0.0.1 and on localhost. The grid's
 * own pages in a browser: test/e2e/emulator-grid.test.ts.
 */
import { request } from 'node:http';
import { sheets } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';

let emulator: Emulator;
let port: number;
const spreadsheetId = 'local-only';

interface Answer {
  status: number;
  body: { error?: { code?: number; status?: string; message?: string } } & Record<string, unknown>;
}

/** A request with exactly the headers given (fetch would set Host itself). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${port}`,
          ...headers,
          ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const edit = JSON.stringify({ actions: [{ type: 'edit', range: 'Sheet1!A1', values: [['typed']] }] });
const userActions = `/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`;
/** A1 of Sheet1, read through the Sheets API as a client would. */
async function a1(): Promise<unknown> {
  const client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
  return (await client.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!A1' })).data.values?.[0]?.[0];
}

function expectForbidden(answer: Answer) {
  expect(answer.status).toBe(403);
  expect(answer.body.error).toMatchObject({
    code: 403,
    status: 'PERMISSION_DENIED',
    message: expect.any(String),
  });
}

beforeAll(async () => {
  emulator = await createEmulator({ port: 0 });
  port = Number(new URL(emulator.url).port);
  emulator.model.create({ spreadsheetId, sheets: [{ title: 'Sheet1', sheetId: 0 }] }, 'api');
});

afterAll(() => emulator?.close());

describe('the local sheet answers only local callers', () => {
  it('refuses a cross-site text/plain POST to the user actions, and nothing is typed', async () => {
    expectForbidden(
      await send('POST', userActions, { 'content-type': 'text/plain', origin: 'http://evil.example' }, edit),
    );
    // The same without an Origin (not a browser, or an old one): a body must be JSON.
    expectForbidden(await send('POST', userActions, { 'content-type': 'text/plain' }, edit));
    expectForbidden(
      await send(
        'POST',
        userActions,
        { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' },
        edit,
      ),
    );
    expect(await a1()).toBeUndefined();
  });

  it('refuses a POST from another origin even as JSON; its own origin goes through', async () => {
    expectForbidden(
      await send(
        'POST',
        userActions,
        { 'content-type': 'application/json', origin: 'http://evil.example' },
        edit,
      ),
    );
    expectForbidden(
      await send(
        'POST',
        userActions,
        { 'content-type': 'application/json', origin: `http://127.0.0.1:${port + 1}` },
        edit,
      ),
    );
    expect(await a1()).toBeUndefined();
    const own = await send(
      'POST',
      userActions,
      { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` },
      edit,
    );
    expect(own.status).toBe(200);
    expect(await a1()).toBe('typed');
  });

  it('refuses the admin and script routes to other pages: no reset, no setup', async () => {
    expectForbidden(await send('POST', '/_emulator/v1/reset', { origin: 'http://evil.example' }));
    expectForbidden(await send('POST', '/_emulator/v1/reset', { 'content-type': 'text/plain' }, '{}'));
    expectForbidden(
      await send(
        'POST',
        `/_emulator/v1/spreadsheets/${spreadsheetId}/script:run`,
        { 'content-type': 'text/plain', origin: 'http://evil.example' },
        JSON.stringify({ function: 'setup', args: ['http://evil.example/hook'] }),
      ),
    );
    expectForbidden(
      await send('DELETE', `/_emulator/v1/spreadsheets/${spreadsheetId}`, { origin: 'http://evil.example' }),
    );
    expect(emulator.model.list().map((s) => s.spreadsheetId)).toEqual([spreadsheetId]);
  });

  it('refuses every route to a DNS-rebound page (another Host), reads included', async () => {
    for (const path of [
      `/v4/spreadsheets/${spreadsheetId}`,
      `/_grid/api/spreadsheets/${spreadsheetId}`,
      `/spreadsheets/${spreadsheetId}`,
      '/_emulator/v1/spreadsheets',
    ]) {
      expectForbidden(await send('GET', path, { host: 'evil.example' }));
      expectForbidden(await send('GET', path, { host: `evil.example:${port}` }));
    }
    expectForbidden(
      await send('GET', `/v4/spreadsheets/${spreadsheetId}`, { host: `127.0.0.1:${port + 1}` }),
    );
    expect(
      (await send('GET', `/_grid/api/spreadsheets/${spreadsheetId}`, { host: `localhost:${port}` })).status,
    ).toBe(200);
  });

  it('keeps serving the Google client library on 127.0.0.1 and on localhost, bodiless POSTs included', async () => {
    for (const rootUrl of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`]) {
      const client = sheets({ version: 'v4', rootUrl, retry: false });
      await client.spreadsheets.values.update({
        spreadsheetId,
        range: 'Sheet1!B1',
        valueInputOption: 'RAW',
        requestBody: { values: [['from the client']] },
      });
      const { data } = await client.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!B1' });
      expect(data.values).toEqual([['from the client']]);
      // values.clear without a requestBody is a POST with no body and no content type.
      await client.spreadsheets.values.clear({ spreadsheetId, range: 'Sheet1!B1' });
      expect(
        (await client.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!B1' })).data.values,
      ).toBeUndefined();
    }
  });
});
