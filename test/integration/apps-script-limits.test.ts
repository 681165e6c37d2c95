/**
 * The local Apps Script runtime's opt-in model of Google's quotas and limits
 * (https://developers.google.com/apps-script/guides/services/quotas): the 6-minute execution limit
 * stops an execution where it is, the day's trigger runtime and URL Fetch calls run out and come
 * back 24 hours after the first use, 30 simultaneous executions per user, Script Properties of at
 * most 9 KB a value and 500 KB in all, getUi only where a person is, time-driven runs that
 * overlap, and charsets Google does not document. Time is model time (virtual-clock.ts): only
 * modelled durations count (model-time.ts: a sleep, a fixed cost per service call), never the
 * machine's computing, so the figures below are exact; `timeScale` only paces the clock to real
 * time (0: not at all). Without `limits` none of it applies, so other tests keep their behaviour.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AppsScriptLimits } from '../../emulator/src/apps-script/limits.ts';
import { SERVICE_CALL_MS } from '../../emulator/src/apps-script/model-time.ts';
import type { AppsScriptRuntime, Execution } from '../../emulator/src/apps-script/runtime.ts';
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
/** Sleeps TICK_MS; the third run removes the trigger, so no run starts after it. */
function tick() {
  const props = PropertiesService.getScriptProperties();
  const n = Number(props.getProperty('TICKS') || 0) + 1;
  props.setProperty('TICKS', String(n));
  if (n === 3) ScriptApp.getProjectTriggers().forEach((trigger) => ScriptApp.deleteTrigger(trigger));
  Utilities.sleep(Number(props.getProperty('TICK_MS')));
}
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
function burn(n) { let x = 0; for (let i = 0; i < n; i++) x += i % 7; return x > 0; }
function loopForever() { for (;;) {} }
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

async function emulatorWith(options: {
  timeScale?: number;
  limits?: true | Partial<AppsScriptLimits>;
  executionTimeoutMs?: number;
}) {
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
    // Not paced: six model minutes pass as fast as the script runs.
    const { run, cells, runtime } = await emulatorWith({ timeScale: 0, limits: true });
    const started = Date.now();
    const stopped = await run('spin');
    expect(stopped).toMatchObject({
      status: 'FAILED',
      error: 'Exception: Exceeded maximum execution time',
      durationMs: 360_000,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // A step is a 10-second sleep and three service calls (getSheets, getRange, setValues), and
    // the time is read before the last: step i writes i × 10,060 − 20. The 36th step's sleep
    // would end past 360,000: it is stopped there, in its sleep.
    const step = 10_000 + 3 * SERVICE_CALL_MS;
    expect(cells('A1:B1')).toEqual([35, 35 * step - SERVICE_CALL_MS]);
    await runtime.advance(60_000);
    expect(cells('A1:B1')[0]).toBe(35);
  });

  it("counts a script's computing as no model time, and paces model time to real time", async () => {
    const { run } = await emulatorWith({ timeScale: 0.01, limits: true });
    const burnt = await run('burn', [3e7]);
    expect(burnt).toMatchObject({ status: 'COMPLETED', result: true, durationMs: 0 });
    // A model minute lasts at least 0.6 s of real time here, and counts as exactly a minute.
    const started = Date.now();
    expect(await run('sleepFor', [60_000])).toMatchObject({ status: 'COMPLETED', durationMs: 60_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
  });

  it('stops a script that computes for real minutes without a service call, which takes no model time', async () => {
    const { run } = await emulatorWith({ timeScale: 0, limits: true, executionTimeoutMs: 300 });
    expect(await run('loopForever')).toMatchObject({
      status: 'FAILED',
      error: 'Exception: Exceeded maximum execution time',
    });
  });

  it("refuses triggers once the day's trigger runtime is spent, until 24 hours after the first use", async () => {
    // The day allows 10 model minutes of trigger runtime; each trigger run sleeps a model minute
    // (and builds its event with one service call): the 11th edit's trigger is refused.
    const { run, edit, runtime } = await emulatorWith({
      timeScale: 0,
      limits: { triggerRuntimeMsPerDay: 600_000 },
    });
    expect((await run('installTriggers')).status).toBe('COMPLETED');
    let refused: { index: number; status: string; error?: string } | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const [trigger] = await edit(`edit ${i}`);
      if (trigger!.status === 'FAILED') refused = { index: i, ...trigger! };
    }
    expect(refused).toMatchObject({
      index: 10,
      error: 'Error: Service using too much computer time for one day.',
    });
    expect(runtime.quotaUsage()!.triggerRuntimeMs).toBe(10 * (60_000 + SERVICE_CALL_MS));
    // A run from the editor is no trigger.
    expect((await run('sleepFor', [1000])).status).toBe('COMPLETED');
    const windowStartedAt = runtime.quotaUsage()!.windowStartedAt!;
    await runtime.advance(windowStartedAt + 86_400_000 - runtime.now() - 1);
    expect((await edit('a moment before a day has passed'))[0]!.status).toBe('FAILED');
    await runtime.advance(1);
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
    const { run, runtime } = await emulatorWith({ timeScale: 0, limits: { simultaneousExecutions: 2 } });
    const holding = [run('sleepFor', [1500]), run('sleepFor', [1500])];
    // A third starts one model second in, while both sleep.
    const third = await new Promise<Execution>((resolve) => {
      runtime.after(1_000, () => void run('sleepFor', [0]).then(resolve));
    });
    expect(third).toMatchObject({
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
    const ticksOf = (runtime: AppsScriptRuntime) =>
      runtime.executions().filter((e) => e.functionName === 'tick');
    // With limits: the trigger fires every model minute and each run takes 150 model seconds.
    const modelled = await emulatorWith({ timeScale: 0, limits: true });
    expect((await modelled.run('setTick', [150_000])).status).toBe('COMPLETED');
    expect((await modelled.run('installClock')).status).toBe('COMPLETED');
    await modelled.runtime.advance(10 * 60_000);
    expect(ticksOf(modelled.runtime).map((e) => e.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(overlapping(ticksOf(modelled.runtime))).toBe(true);
    // Without: every 120 ms of real time, each run sleeping 300 ms; a tick while one runs is skipped.
    const real = await emulatorWith({ timeScale: 0.002 });
    expect((await real.run('setTick', [300])).status).toBe('COMPLETED');
    expect((await real.run('installClock')).status).toBe('COMPLETED');
    for (let waited = 0; ticksOf(real.runtime).length < 3 && waited < 20_000; waited += 100) await sleep(100);
    await sleep(500);
    expect(ticksOf(real.runtime)).toHaveLength(3);
    expect(overlapping(ticksOf(real.runtime))).toBe(false);
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
