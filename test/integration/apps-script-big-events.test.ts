/**
 * The real apps-script/ code in the local sheet's Apps Script runtime, against the real webhook
 * handler, with events that would be too big for one request (the webhook refuses bodies over
 * 10 MiB; the script's limits, 100,000 ids and 4M characters of rows, are lowered here through its
 * Script Properties): a paste is sent as several edit events, and a tab's sync ids as 16
 * structure events, one per first hex digit; every row arrives and the rows deleted are found.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { sheets } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';
import { scriptCopy } from '../support/sheet-sync-harness.ts';
import { startWebhookServer, userActions, type WebhookServer } from '../support/webhook-server.ts';

const secret = 'apps-script-structure-secret';

describe("apps-script/: a big tab's events in parts", () => {
  let emulator: Emulator;
  let webhook: WebhookServer;
  // The script as shipped, and one helper the test calls to lower the ids per event.
  const scriptDir = scriptCopy({
    'test-helper.js':
      'function setLimits(ids, chars) { PropertiesService.getScriptProperties().setProperties({ SHEETSYNC_STRUCTURE_IDS: String(ids), SHEETSYNC_EDIT_CHARS: String(chars) }); }\n',
  });
  const spreadsheetId = `script-${randomUUID()}`;
  const live = new Set<string>();
  const deleted: string[] = [];
  const structureEvents: Array<{ idPrefix?: string; ids: string[] }> = [];
  const editEvents: number[] = [];

  beforeAll(async () => {
    const deps = {
      config: parseConfig({
        links: [{ name: 'leads', spreadsheetId, sheet: 'Leads', table: 'public.leads' }],
      }),
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      publish: async (messages: Array<{ data: { changes: SheetChangeMessage[] } }>) => {
        for (const change of messages.flatMap((m) => m.data.changes)) {
          if (change.op === 'delete') {
            live.delete(change.rowId);
            deleted.push(change.rowId);
          } else live.add(change.rowId);
        }
      },
      liveRowIds: async (_link: string, prefix?: string) =>
        [...live].filter((id) => prefix === undefined || id.startsWith(prefix)),
      logger: silentLogger,
    };
    webhook = await startWebhookServer(deps, (_request, rawBody) => {
      const body = JSON.parse(rawBody.toString('utf8')) as { kind: string; idPrefix?: string; ids: string[] };
      if (body.kind === 'structure') structureEvents.push({ idPrefix: body.idPrefix, ids: body.ids });
      if (body.kind === 'edit') editEvents.push((body as unknown as { rows: unknown[] }).rows.length);
      return undefined;
    });
    const webhookUrl = webhook.url;
    emulator = await createEmulator({ port: 0, appsScript: { scriptDir, timeScale: 0.001 } });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
    await sheets({ version: 'v4', rootUrl: `${emulator.url}/` }).spreadsheets.values.update({
      spreadsheetId,
      range: 'Leads!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [['id', 'name']] },
    });
    for (const [fn, args] of [
      ['setup', [webhookUrl, spreadsheetSecret(secret, spreadsheetId), 'Leads']],
      ['setLimits', [4, 300]],
    ] as const) {
      const run = await emulator.appsScript!.run(spreadsheetId, fn, [...args]);
      expect(run.status, run.error).toBe('COMPLETED');
    }
  });

  afterAll(async () => {
    await emulator?.close();
    await webhook?.close();
    rmSync(scriptDir, { recursive: true, force: true });
  });

  async function act(...actions: unknown[]) {
    expect((await userActions(emulator.url, spreadsheetId, actions)).status).toBe(200);
  }

  it("sends a big paste in several edit events, a big tab's ids in 16, and every row arrives", async () => {
    await act({
      type: 'edit',
      range: 'Leads!A2:B21',
      values: Array.from({ length: 20 }, (_, i) => [String(i + 1), `name ${i + 1}`]),
    });
    // 20 new rows of about 60 characters each, at most 300 characters a part.
    expect(live.size).toBe(20);
    expect(editEvents.length).toBeGreaterThan(3);
    expect(editEvents.reduce((a, b) => a + b, 0)).toBe(20);
    expect(Math.max(...editEvents)).toBeLessThanOrEqual(5);
    const grid = (
      await sheets({ version: 'v4', rootUrl: `${emulator.url}/` }).spreadsheets.values.get({
        spreadsheetId,
        range: 'Leads!C2:C21',
      })
    ).data.values as string[][];
    const gone = grid.slice(4, 8).map((r) => r[0]!);

    await act({ type: 'deleteRows', sheet: 'Leads', index: 5, count: 4 });
    expect(deleted.sort()).toEqual([...gone].sort());
    expect(structureEvents.map((e) => e.idPrefix)).toEqual('0123456789abcdef'.split(''));
    for (const e of structureEvents) expect(e.ids.every((id) => id.startsWith(e.idPrefix!))).toBe(true);
    expect(structureEvents.flatMap((e) => e.ids).length).toBe(16);
    expect(live.size).toBe(16);
  });
});
