/**
 * Issue 18: each spreadsheet signs with a secret of its own, and the webhook refuses an event for
 * a tab the signing key does not own. An editor of spreadsheet A can read A's secret in its Script
 * Properties; with it they must not be able to write B's table.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/src/config.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { signedHeaders } from '../support/signed-request.ts';

const master = 'webhook-master-secret-0123456789';
const now = 1_800_000_000_000;

function setup(secretVersionB = 1) {
  const published: unknown[] = [];
  const deps: WebhookDeps = {
    config: parseConfig({
      links: [
        { name: 'a', spreadsheetId: 'sheet-a', sheet: 'Leads', table: 'public.a' },
        {
          name: 'b',
          spreadsheetId: 'sheet-b',
          sheet: 'Leads',
          table: 'public.b',
          secretVersion: secretVersionB,
        },
      ],
    }),
    secrets: [master],
    replayGuard: memoryReplayGuard(),
    publish: async (messages) => {
      published.push(...messages);
    },
    liveRowIds: async () => [],
    logger: silentLogger,
    now: () => now,
  };
  return { deps, published };
}

function edit(spreadsheetId: string) {
  return Buffer.from(
    JSON.stringify({
      v: 1,
      eventId: randomUUID(),
      kind: 'edit',
      spreadsheetId,
      sheet: 'Leads',
      sheetId: 0,
      headers: ['id', 'name', '_sheetsync_id'],
      time: now - 50,
      rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells: { name: 'Mallory' } }],
    }),
  );
}

const post = (raw: Buffer, headers: Record<string, string>) => ({ method: 'POST', headers, rawBody: raw });

describe('sheetWebhook: a secret per spreadsheet', () => {
  it("accepts each spreadsheet's events signed with its own secret", async () => {
    const { deps, published } = setup();
    for (const id of ['sheet-a', 'sheet-b']) {
      const raw = edit(id);
      expect(
        (await handleWebhook(post(raw, signedHeaders(master, id, raw, { timestamp: now })), deps)).status,
      ).toBe(200);
    }
    expect(published).toHaveLength(2);
  });

  it("refuses an event for B's tab signed with A's secret, however the header is set", async () => {
    const { deps, published } = setup();
    const raw = edit('sheet-b');
    // Claiming to be A (whose secret the editor has): the event names B.
    const asA = await handleWebhook(
      post(raw, signedHeaders(master, 'sheet-a', raw, { timestamp: now })),
      deps,
    );
    expect(asA).toMatchObject({ status: 401, body: { error: { code: 'SHEETSYNC_E624' } } });
    // Claiming to be B, signed with A's secret.
    const signedByA = signedHeaders(master, 'sheet-b', raw, {
      timestamp: now,
      signingSpreadsheet: 'sheet-a',
    });
    expect((await handleWebhook(post(raw, signedByA), deps)).status).toBe(401);
    // The webhook's own secret is not a spreadsheet's either.
    const ts = String(now);
    const { sign } = await import('../../functions/src/handlers/sheet-webhook/signature.ts');
    const withMaster = {
      'x-sheetsync-spreadsheet': 'sheet-b',
      'x-sheetsync-timestamp': ts,
      'x-sheetsync-signature': sign(master, ts, raw),
    };
    expect((await handleWebhook(post(raw, withMaster), deps)).status).toBe(401);
    expect(published).toEqual([]);
  });

  it('refuses a script that does not say whose secret signed, saying what to do', async () => {
    const { deps } = setup();
    const raw = edit('sheet-a');
    const { 'x-sheetsync-spreadsheet': _, ...headers } = signedHeaders(master, 'sheet-a', raw, {
      timestamp: now,
    });
    const answer = await handleWebhook(post(raw, headers), deps);
    expect(answer).toMatchObject({ status: 401, body: { error: { code: 'SHEETSYNC_E603' } } });
    expect(JSON.stringify(answer.body)).toContain('sheetsync secret --spreadsheet');
  });

  it("rotates one spreadsheet's secret without touching the others", async () => {
    const { deps } = setup(2);
    const b = edit('sheet-b');
    expect(
      (await handleWebhook(post(b, signedHeaders(master, 'sheet-b', b, { timestamp: now })), deps)).status,
    ).toBe(401);
    const rotated = signedHeaders(master, 'sheet-b', b, { timestamp: now, version: 2 });
    expect((await handleWebhook(post(b, rotated), deps)).status).toBe(200);
    const a = edit('sheet-a');
    expect(
      (await handleWebhook(post(a, signedHeaders(master, 'sheet-a', a, { timestamp: now })), deps)).status,
    ).toBe(200);
    expect(spreadsheetSecret(master, 'sheet-b', 2)).not.toBe(spreadsheetSecret(master, 'sheet-b', 1));
  });

  it('wants the links of one spreadsheet to agree on its secret version', () => {
    expect(() =>
      parseConfig({
        links: [
          { name: 'a', spreadsheetId: 's', sheet: 'One', table: 'public.a', secretVersion: 2 },
          { name: 'b', spreadsheetId: 's', sheet: 'Two', table: 'public.b' },
        ],
      }),
    ).toThrow(/links\[1\]\.secretVersion: is 1, but links\[0\] of the same spreadsheet says 2/);
  });
});
