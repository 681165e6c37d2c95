/**
 * The local Apps Script runtime's opt-in model of Google's quotas and limits
 * (https://developers.google.com/apps-script/guides/services/quotas): the 6-minute execution limit
 * stops an execution where it is, the day's trigger runtime and URL Fetch calls run out and come
 * back 24 hours after the first use, 30 simultaneous executions per user, Script Properties of at
 * most 9 KB a value and 500 KB in all, getUi only where a person is, time-driven runs that
 * overlap, and charsets Google does not document. Time runs on the model clock (timeScale).
 * Without `limits` none of it applies, so other tests keep their behaviour.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AppsScriptLimits } from '../../emulator/src/apps-script/limits.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { userActions } from '../support/webhook-server.ts';

const scriptDir = mkdtempSync(join(tmpdir(), 'apps-script-limits-'));
writeFileSync(
  join(scriptDir, 'limits.js'),
  `
function sheet_() { return SpreadsheetApp.getActiveSpreadsheet().getSheets()[0]; }
/** Counts 10-second steps in A1 and the model time spent in B1, until it is stopped. */
function spin() {
  const started = Date.now();
  for (let i = 1; ; i++) {
    Utilities.sleep(10000);
    sheet_().getRange(1, 1, 1, 2).setValues([[i, Date.now() - started]]);
  }
}
function installTriggers() {
  ScriptApp.newTrigger('onEditWork').forSpreadsheet(SpreadsheetApp.getActive()).onEdit().create();
}
function installUiTrigger() {
  ScriptApp.newTrigger('askUi').forSpreadsheet(SpreadsheetApp.getActive()).onEdit().create();
}
function installClock() { ScriptApp.newTrigger('tick').timeBased().everyMinutes(1).create(); }
function onEditWork() { Utilities.sleep(60000); }
function tick() { Utilities.sleep(Number(PropertiesService.getScriptProperties().getProperty('TICK_MS'))); }
function setTick(ms) { PropertiesService.getScriptProperties().setProperty('TICK_MS', String(ms)); }
function askUi() { SpreadsheetApp.getUi().alert('hello'); return 'shown'; }
function fetchTimes(url, n) {
  let done = 0;
  try { for (; done < n; done++) UrlFetchApp.fetch(url, { muteHttpExceptions: true }); }
  catch (error) { return { done: done, error: error.message }; }
  return { done: done };
}
function setProperty(key, length) {
  try { PropertiesService.getScriptProperties().setProperty(key, 'x'.repeat(length)); return 'set'; }
  catch (error) { return error.message; }
}
function sleepFor(ms) { Utilities.sleep(ms); }
function sign(text, charset) {
  const bytes = charset
    ? Utilities.computeHmacSha256Signature(text, 'key', Utilities.Charset[charset])
    : Utilities.computeHmacSha256Signature(text, 'key');
  return bytes.map((b) => ((b + 256) % 256).toString(16).padStart(2, '0')).join('');
}
function post(url, text, contentType) {
  return UrlFetchApp.fetch(url, { method: 'post', payload: text, contentType: contentType }).getResponseCode();
}
function writeText(text) { sheet_().getRange('C1').setValue(text); return sheet_().getRange('C1').getValue(); }
`,
);

const open: Emulator[] = [];

async function emulatorWith(options: { timeScale?: number; limits?: true | Partial<AppsScriptLimits> }) {
  const emulator = await createEmulator({
    port: 0,
    quotas: { enabled: false },
    appsScript: { scriptDir, concurrency: 4, ...options },
  });
  open.push(emulator);
  const spreadsheetId = emulator.model.create({
    title: 'limits',
    sheets: [{ title: 'Sheet1' }],
  }).spreadsheetId;
  const run = async (fn: string, args: unknown[] = []) => emulator.appsScript!.run(spreadsheetId, fn, args);
  const edit = async (value: string) => {
    const response = await userActions(emulator.url, spreadsheetId, [
      { type: 'edit', range: 'Sheet1!D1', values: [[value]] },
    ]);
    expect(response.status).toBe(200);
    return (
      (await response.json()) as { results: Array<{ triggers: Array<{ status: string; error?: string }> }> }
    ).results[0]!.triggers;
  };
  const cells = (range: string) => {
    const sheet = emulator.model.get(spreadsheetId).sheets[0]!;
    const [row, column, width] = range === 'A1:B1' ? [0, 0, 2] : [0, 2, 1];
    return Array.from({ length: width }, (_, c) => sheet.getCell(row, column + c)?.value);
  };
  return { emulator, runtime: emulator.appsScript!, run, edit, cells };
}

afterEach(async () => {
  for (const emulator of open.splice(0)) await emulator.close();
});

afterAll(() => rmSync(scriptDir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the Apps Script limits model', () => {
  it('stops an execution at 6 model minutes where it is, and its clock reads model time', async () => {
    // A model minute passes in 60 ms: the limit is 360 ms of real time.
    const { run, cells } = await emulatorWith({ timeScale: 0.001, limits: true });
    const started = Date.now();
    const stopped = await run('spin');
    expect(stopped).toMatchObject({ status: 'FAILED', error: 'Exception: Exceeded maximum execution time' });
    expect(Date.now() - started).toBeLessThan(3_000);
    const [steps, elapsed] = cells('A1:B1') as number[];
    // Stopped mid-way: some 10-second steps were written, each at the model time it reached.
    expect(steps).toBeGreaterThan(5);
    expect(steps).toBeLessThanOrEqual(36);
    expect(elapsed).toBeGreaterThanOrEqual(steps! * 10_000);
    expect(elapsed).toBeLessThanOrEqual(360_000);
    await sleep(200);
    expect(cells('A1:B1')[0]).toBe(steps);
  });

  it("refuses triggers once the day's trigger runtime is spent, until 24 hours after the first use", async () => {
    // A model day passes in 4.3 s; the day allows 10 model minutes of trigger runtime. An
    // execution may take a model hour (180 ms): a real millisecond is 20 model seconds here.
    const { run, edit, runtime } = await emulatorWith({
      timeScale: 0.00005,
      limits: { triggerRuntimeMsPerDay: 600_000, executionMs: 3_600_000 },
    });
    expect((await run('installTriggers')).status).toBe('COMPLETED');
    let refused: { status: string; error?: string } | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const [trigger] = await edit(`edit ${i}`);
      if (trigger!.status === 'FAILED') refused = trigger;
    }
    expect(refused?.error).toBe('Error: Service using too much computer time for one day.');
    expect(runtime.quotaUsage()!.triggerRuntimeMs).toBeGreaterThanOrEqual(600_000);
    // A run from the editor is no trigger.
    expect((await run('sleepFor', [1000])).status).toBe('COMPLETED');
    const windowStartedAt = runtime.quotaUsage()!.windowStartedAt!;
    while (runtime.now() < windowStartedAt + 86_400_000) await sleep(100);
    expect((await edit('the next day'))[0]!.status).toBe('COMPLETED');
  });

  it('counts URL Fetch calls against the day, and refuses past the quota', async () => {
    const { run, emulator } = await emulatorWith({ limits: { urlFetchCallsPerDay: 3 } });
    expect((await run('fetchTimes', [`${emulator.url}/`, 5])).result).toEqual({
      done: 3,
      error: 'Service invoked too many times for one day: urlfetch.',
    });
  });

  it('refuses an execution past the simultaneous limit', async () => {
    const { run } = await emulatorWith({ limits: { simultaneousExecutions: 2 } });
    const holding = [run('sleepFor', [1500]), run('sleepFor', [1500])];
    await sleep(300);
    expect(await run('sleepFor', [0])).toMatchObject({
      status: 'FAILED',
      error: 'Error: There are too many scripts running simultaneously for this Google user account.',
    });
    for (const execution of await Promise.all(holding)) expect(execution.status).toBe('COMPLETED');
    expect((await run('sleepFor', [0])).status).toBe('COMPLETED');
  });

  it('keeps Script Properties to 9 KB a value and 500 KB in all', async () => {
    const { run } = await emulatorWith({ limits: true });
    const full = 'You have exceeded the property storage quota. Please remove some properties and try again.';
    expect((await run('setProperty', ['one', 9 * 1024])).result).toBe('set');
    expect((await run('setProperty', ['two', 9 * 1024 + 1])).result).toBe(full);
    let stored = 1;
    for (; stored < 80; stored++) {
      const result = (await run('setProperty', [`k${stored}`, 9_000])).result;
      if (result !== 'set') {
        expect(result).toBe(full);
        break;
      }
    }
    // 500 KB hold 56 values of 9,000 bytes with their keys, not 57.
    expect(stored).toBe(56);
    expect((await run('setProperty', ['k1', 10])).result).toBe('set');
  });

  it('throws from getUi in a trigger, and shows the UI to a menu or editor run', async () => {
    for (const limits of [true, undefined] as const) {
      const { run, edit } = await emulatorWith(limits ? { limits } : {});
      expect((await run('askUi')).result).toBe('shown');
      expect((await run('installUiTrigger')).status).toBe('COMPLETED');
      const [trigger] = await edit('x');
      if (limits) {
        expect(trigger).toMatchObject({
          status: 'FAILED',
          error: 'Exception: Cannot call SpreadsheetApp.getUi() from this context.',
        });
      } else expect(trigger!.status).toBe('COMPLETED');
    }
  });

  it('starts a time-driven run on schedule while the last one still runs', async () => {
    const overlapping = (executions: Array<{ startedAt: string; durationMs: number }>) =>
      executions.some((a, i) =>
        executions.some((b, j) => j > i && Date.parse(b.startedAt) < Date.parse(a.startedAt) + a.durationMs),
      );
    for (const limits of [true, undefined] as const) {
      // The trigger fires every 60 model seconds (120 ms), each run takes 150 (300 ms; without
      // limits the script's sleep is in real time).
      const { run, runtime } = await emulatorWith({ timeScale: 0.002, ...(limits ? { limits } : {}) });
      expect((await run('setTick', [limits ? 150_000 : 300])).status).toBe('COMPLETED');
      expect((await run('installClock')).status).toBe('COMPLETED');
      await sleep(1_200);
      const ticks = runtime.executions().filter((e) => e.functionName === 'tick');
      expect(ticks.length).toBeGreaterThan(2);
      expect(overlapping(ticks)).toBe(limits === true);
    }
  });

  it('refuses to guess a charset for non-ASCII text, and uses the one given', async () => {
    const received: Buffer[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      const { run } = await emulatorWith({ limits: true });
      const text = 'Zoë 😀';
      expect((await run('sign', [text])).error).toMatch(/not ASCII and no charset was given/);
      expect((await run('sign', [text, 'UTF_8'])).result).toBe(
        createHmac('sha256', 'key').update(text, 'utf8').digest('hex'),
      );
      expect((await run('sign', ['plain'])).result).toBe(
        createHmac('sha256', 'key').update('plain').digest('hex'),
      );
      expect((await run('post', [url, text, 'application/json'])).error).toMatch(/not ASCII/);
      expect((await run('post', [url, text, 'application/json; charset=utf-8'])).result).toBe(204);
      expect(received.map((b) => b.toString('utf8'))).toEqual([text]);

      const { run: runUnlimited } = await emulatorWith({});
      expect((await runUnlimited('sign', [text])).status).toBe('COMPLETED');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps only what UTF-8 can carry: half an emoji in a cell becomes U+FFFD', async () => {
    const { run } = await emulatorWith({});
    expect((await run('writeText', ['a\ud83d'])).result).toBe('a\ufffd');
    expect((await run('writeText', ['b😀'])).result).toBe('b😀');
  });
});
