/**
 * Nothing the script keeps for later is lost or corrupted: the real apps-script/ in the local
 * sheet's Apps Script runtime, against the real webhook handler (switchable: failing, hanging,
 * unreachable). The queue tab keeps bodies exactly (a chunk starting with `=` or `'`, an emoji cut
 * at a chunk's end, a body over a million characters), an unreadable queued body goes to the
 * rejected tab without holding up the rest, a queue of 1,000 events (every row of the tab)
 * drains; and, under the model of Google's limits (emulator/src/apps-script/limits.ts), a pending
 * edit survives its execution being stopped mid-send and a full Script Properties store, and a
 * non-ASCII edit is signed and verified end to end. Under the limits the model clock is not paced
 * (timeScale 0): the edit lands at a set model time while another execution holds the lock, the
 * same on any machine.
 */
import { randomUUID } from 'node:crypto';
import { sheets } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE, type ScriptHarness, startScriptHarness, TAB } from './apps-script-harness.ts';

const flush = async (env: ScriptHarness) => {
  const execution = await env.run('flushQueue');
  expect(execution.status, execution.error).toBe('COMPLETED');
};

describe("the script's queue tab keeps what it holds", () => {
  let env: ScriptHarness;
  beforeAll(async () => {
    env = await startScriptHarness({});
  });
  afterAll(() => env?.close());

  it("keeps a chunk that starts with = or ', and an emoji cut at a chunk's end, exactly", async () => {
    await env.webhook.setMode('failing');
    // Each body is over 40,000 characters (one queue chunk); the second chunk starts inside the
    // value. The emoji runs start one character apart, so one of them is cut inside a pair.
    const values = [
      `a${'='.repeat(44_999)}`,
      `a${"'".repeat(44_999)}`,
      `x${'😀'.repeat(20_000)}`,
      `xx${'😀'.repeat(20_000)}`,
    ];
    for (const [i, value] of values.entries()) {
      await env.act([{ type: 'edit', range: `${TAB}!B${i + 2}`, values: [[value]] }]);
    }
    expect(env.names()).toEqual([]);
    expect(env.rowsOf(QUEUE)).toBeGreaterThanOrEqual(4);
    await env.webhook.setMode('up');
    await flush(env);
    expect(env.names()).toEqual(values);
    expect(env.rowsOf(QUEUE)).toBe(0);
  });

  it('sets an unreadable queued body aside in the rejected tab and delivers the rest in order', async () => {
    env.webhook.published.length = 0;
    await env.webhook.setMode('failing');
    await env.act([{ type: 'edit', range: `${TAB}!B6`, values: [['before']] }]);
    const queued = env.rowsOf(QUEUE);
    expect(queued).toBeGreaterThan(0);
    // Rows as the script writes them, one whose body is not JSON, one edited by hand.
    await sheets({ version: 'v4', rootUrl: `${env.emulator.url}/` }).spreadsheets.values.update({
      spreadsheetId: env.spreadsheetId,
      range: `${QUEUE}!A${queued + 1}`,
      valueInputOption: 'RAW',
      requestBody: {
        values: [
          [randomUUID(), '2026-01-01', 0, 1, 1, '~{"v":1,"broken'],
          [randomUUID(), '2026-01-01', 0, 1, 1, 'typed over by hand'],
        ],
      },
    });
    await env.act([{ type: 'edit', range: `${TAB}!B7`, values: [['after']] }]);
    await env.webhook.setMode('up');
    await flush(env);
    expect(env.names()).toEqual(['before', 'after']);
    expect(env.rowsOf(QUEUE)).toBe(0);
    const rejected = await sheets({ version: 'v4', rootUrl: `${env.emulator.url}/` }).spreadsheets.values.get(
      {
        spreadsheetId: env.spreadsheetId,
        range: '_sheetsync_rejected',
      },
    );
    const kept = JSON.stringify(rejected.data.values);
    expect(kept).toContain('{\\"v\\":1,\\"broken');
    expect(kept).toContain('typed over by hand');
  });

  it('drains 1,000 queued events, every row of the queue tab, each delivered once', async () => {
    env.webhook.published.length = 0;
    await env.webhook.setMode('failing');
    const queued = await env.run('editRows', [10, 1_000]);
    expect(queued.status, queued.error).toBe('COMPLETED');
    expect(env.rowsOf(QUEUE)).toBe(1_000);
    await env.webhook.setMode('up');
    const before = env.webhook.accepted().length;
    await flush(env);
    await flush(env);
    const accepted = env.webhook.accepted().slice(before);
    expect(accepted).toHaveLength(1_000);
    expect(new Set(accepted).size).toBe(1_000);
    expect(env.names()).toEqual(Array.from({ length: 1_000 }, (_, i) => `name ${i + 10}`));
    expect(env.rowsOf(QUEUE)).toBe(0);
  });

  it('keeps a body of over a million characters down the rows of the queue and delivers it', async () => {
    env.webhook.published.length = 0;
    await env.webhook.setMode('failing');
    const rows = Array.from({ length: 25 }, (_, i) => [`${String(i).padStart(2, '0')}${'b'.repeat(40_000)}`]);
    const [result] = await env.act([{ type: 'edit', range: `${TAB}!B2000:B2024`, values: rows }]);
    expect(result!.triggers.map((t) => t.status)).not.toContain('FAILED');
    expect(env.rowsOf(QUEUE)).toBeGreaterThan(25);
    // The Status menu counts events, not rows.
    expect((await env.run('showStatus')).logs.join('\n')).toMatch(/Changes waiting to be sent: 1$/m);
    await env.webhook.setMode('up');
    await flush(env);
    expect(env.names()).toEqual(rows.map((r) => r[0]));
    expect(env.rowsOf(QUEUE)).toBe(0);
  });
});

describe('under Google limits, a pending edit is sent before it is forgotten', () => {
  let env: ScriptHarness;
  // An execution is stopped after 30 model seconds, before a fetch to a hanging webhook gives up
  // (60 model seconds).
  beforeAll(async () => {
    env = await startScriptHarness({
      timeScale: 0,
      limits: { executionMs: 30_000 },
      properties: { SHEETSYNC_LOCK_WAIT_MS: '1000' },
    });
  });
  afterAll(() => env?.close());

  it('keeps a pending edit whose sending execution was stopped mid-send, and sends it next time', async () => {
    // Holds the lock 25 model seconds; the edit comes 5 seconds in, and its trigger waits 1 for
    // the lock and keeps it.
    const holding = env.run('holdLock', [25_000]);
    const edit = env.actAfter(5_000, { type: 'edit', range: `${TAB}!B2`, values: [['kept']] });
    expect(await edit).toEqual(['COMPLETED', 'COMPLETED']);
    expect((await holding).status).toBe('COMPLETED');
    expect(env.names()).toEqual([]);
    await env.webhook.setMode('hanging');
    expect(await env.run('flushQueue')).toMatchObject({
      status: 'FAILED',
      error: 'Exception: Exceeded maximum execution time',
    });
    await env.webhook.setMode('up');
    await flush(env);
    expect(env.names()).toEqual(['kept']);
  });
});

describe('under Google limits, a pending edit finds Script Properties full', () => {
  let env: ScriptHarness;
  beforeAll(async () => {
    env = await startScriptHarness({
      timeScale: 0,
      limits: {},
      properties: { SHEETSYNC_LOCK_WAIT_MS: '1000' },
    });
  });
  afterAll(() => env?.close());

  it('keeps the pending edit elsewhere and sends it', async () => {
    const filled = await env.run('fillProperties');
    expect(filled.result).toBeGreaterThan(50);
    // Holds the lock 60 model seconds; the edit comes 5 seconds in, and its trigger waits 1 for
    // the lock and keeps it.
    const holding = env.run('holdLock', [60_000]);
    const edit = env.actAfter(5_000, { type: 'edit', range: `${TAB}!B2`, values: [['kept']] });
    expect(await edit).toEqual(['COMPLETED', 'COMPLETED']);
    expect((await holding).status).toBe('COMPLETED');
    expect(env.names()).toEqual([]);
    await flush(env);
    expect(env.names()).toEqual(['kept']);
    expect((await env.run('clearFiller')).status).toBe('COMPLETED');
  });

  it('signs a non-ASCII edit as UTF-8, and the webhook verifies it', async () => {
    env.webhook.published.length = 0;
    const text = 'Zoë 😀 – ünïcödé 日本';
    const [edit] = await env.act([{ type: 'edit', range: `${TAB}!B3`, values: [[text]] }]);
    expect(edit!.triggers.map((t) => t.status)).toEqual(['COMPLETED', 'COMPLETED']);
    expect(env.names()).toEqual([text]);
  });
});
