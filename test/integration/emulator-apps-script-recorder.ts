/**
 * Test support for the emulator's Apps Script runtime: the webhook that the test script
 * (apps-script/test-fixtures/recorder.js) reports its trigger events to, and a small client for
 * the emulator's admin routes.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { expect } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';

export const RECORDER_SCRIPT_DIR = join(import.meta.dirname, '../../apps-script/test-fixtures');

/** What recorder.js posts: `kind` (edit, change), the event's keys, and the fields it read. */
export interface Report {
  kind: string;
  keys: string[];
  [field: string]: unknown;
}

export interface Recorder {
  url: string;
  reports: Report[];
  /** Signatures that did not match HMAC-SHA256(body, secret) in base64. */
  badSignatures: string[];
  close(): Promise<void>;
}

export async function startRecorder(secret: string): Promise<Recorder> {
  const reports: Report[] = [];
  const badSignatures: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const expected = createHmac('sha256', secret).update(body).digest('base64');
      if (req.headers['x-signature'] !== expected) badSignatures.push(String(req.headers['x-signature']));
      reports.push(JSON.parse(body) as Report);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    reports,
    badSignatures,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
export type AdminResponse = { status: number; body: Record<string, any> };

export function adminClient(baseUrl: () => string) {
  const post = async (path: string, body: unknown = {}): Promise<AdminResponse> => {
    const response = await fetch(`${baseUrl()}/_emulator/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as AdminResponse['body'] };
  };
  const run = (id: string, fn: string, args: unknown[] = []) =>
    post(`/spreadsheets/${id}/script:run`, { function: fn, args });
  return {
    post,
    run,
    userActions: (id: string, actions: unknown[]) => post(`/spreadsheets/${id}/userActions`, { actions }),
    /** A new spreadsheet with the recorder's triggers installed, reporting to `webhookUrl`. */
    async recordedSpreadsheet(
      webhookUrl: string,
      secret: string,
      title = 'apps script test',
    ): Promise<string> {
      const id = (await post('/spreadsheets', { title })).body.spreadsheetId as string;
      expect((await run(id, 'configure', [webhookUrl, secret])).body.status).toBe('COMPLETED');
      expect((await run(id, 'installTriggers')).body.result).toEqual([
        'ON_EDIT:recordEdit',
        'ON_CHANGE:recordChange',
      ]);
      return id;
    },
  };
}

/**
 * A local sheet (quotas off) whose Apps Script is the recorder fixture, the recorder it reports
 * to, and a Sheets API client on it: what the user-action tests start before their tests.
 */
export async function startRecordedEmulator(
  secret: string,
): Promise<{ recorder: Recorder; emulator: Emulator; client: sheets_v4.Sheets }> {
  const recorder = await startRecorder(secret);
  const emulator = await createEmulator({
    quotas: { enabled: false },
    appsScript: { scriptDir: RECORDER_SCRIPT_DIR },
  });
  const client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
  return { recorder, emulator, client };
}
