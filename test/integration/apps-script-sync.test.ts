/**
 * The real apps-script/ code, run by the local sheet's Apps Script runtime, talking to the real
 * webhook handler over HTTP: ids, signed events, deletions, and the queue while the webhook is down.
 */
import { randomUUID } from 'node:crypto';
import { sheets } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';
import { startWebhookServer, userActions, type WebhookServer } from '../support/webhook-server.ts';

const secret = 'apps-script-test-secret';

describe('apps-script/ in the local sheet, against sheetWebhook', () => {
  let emulator: Emulator;
  let webhook: WebhookServer;
  let webhookUrl: string;
  let up = true;
  const published: SheetChangeMessage[] = [];
  const live = new Set<string>();
  const spreadsheetId = `script-${randomUUID()}`;

  beforeAll(async () => {
    const config = parseConfig({
      links: [{ name: 'leads', spreadsheetId, sheet: 'Leads', table: 'public.leads' }],
    });
    const deps = {
      config,
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      publish: async (messages: Array<{ data: { changes: SheetChangeMessage[] } }>) => {
        // Batches are grouped by key bucket; the rows of one event are listed in sheet order.
        const changes = messages.flatMap((m) => m.data.changes);
        changes.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
        for (const data of changes) {
          published.push(data);
          if (data.op === 'delete') live.delete(data.rowId);
          else live.add(data.rowId);
        }
      },
      liveRowIds: async () => [...live],
      logger: silentLogger,
    };
    webhook = await startWebhookServer(deps, () => (up ? undefined : { status: 503 }));
    webhookUrl = webhook.url;
    emulator = await createEmulator({ port: 0, appsScript: { scriptDir: 'apps-script', timeScale: 0.001 } });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
    const api = sheets({ version: 'v4', rootUrl: `${emulator.url}/` });
    await api.spreadsheets.values.update({
      spreadsheetId,
      range: 'Leads!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [['id', 'name', 'email']] },
    });
    const run = await emulator.appsScript!.run(spreadsheetId, 'setup', [
      webhookUrl,
      spreadsheetSecret(secret, spreadsheetId),
      'Leads',
    ]);
    expect(run.status, run.error).toBe('COMPLETED');
  });

  afterAll(async () => {
    await emulator?.close();
    await webhook?.close();
  });

  async function act(...actions: unknown[]) {
    const res = await userActions(emulator.url, spreadsheetId, actions);
    expect(res.status).toBe(200);
    return res.json();
  }

  async function values() {
    const api = sheets({ version: 'v4', rootUrl: `${emulator.url}/` });
    return (
      await api.spreadsheets.values.get({
        spreadsheetId,
        range: 'Leads',
        valueRenderOption: 'UNFORMATTED_VALUE',
      })
    ).data.values as unknown[][];
  }

  it('setup adds the hidden _sheetsync_id column', async () => {
    expect((await values())[0]).toEqual(['id', 'name', 'email', '_sheetsync_id']);
    const api = sheets({ version: 'v4', rootUrl: `${emulator.url}/` });
    const meta = await api.spreadsheets.get({ spreadsheetId });
    expect(meta.data.sheets?.[0]?.protectedRanges?.[0]?.warningOnly).toBe(true);
  });

  it('a typed row gets an id and reaches the webhook as a new row with every column', async () => {
    published.length = 0;
    await act({ type: 'edit', range: 'Leads!B2', values: [['Ada']] });
    const grid = await values();
    const id = grid[1]?.[3] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(published).toEqual([
      expect.objectContaining({
        link: 'leads',
        rowId: id,
        op: 'upsert',
        isNew: true,
        cells: { id: '', name: 'Ada', email: '' },
      }),
    ]);
  });

  it('an edit of a known row sends only the edited cells', async () => {
    published.length = 0;
    await act({ type: 'edit', range: 'Leads!C2', values: [['ada@example.com']] });
    expect(published).toEqual([
      expect.objectContaining({ isNew: false, cells: { email: 'ada@example.com' } }),
    ]);
  });

  it('a pasted block becomes one event with a row each', async () => {
    published.length = 0;
    const block = Array.from({ length: 50 }, (_, i) => [String(100 + i), `name ${i}`, `n${i}@example.com`]);
    await act({ type: 'edit', range: 'Leads!A3:C52', values: block });
    expect(published).toHaveLength(50);
    expect(new Set(published.map((m) => m.eventId)).size).toBe(1);
    expect(published[49]).toMatchObject({
      isNew: true,
      cells: { id: 149, name: 'name 49', email: 'n49@example.com' },
    });
  });

  it('a copied row (duplicate id) becomes a new row, not an overwrite', async () => {
    const before = await values();
    const copied = before[1]!; // row 2, with its id
    published.length = 0;
    await act({ type: 'edit', range: 'Leads!A60:D60', values: [copied.map(String)] });
    const after = await values();
    expect(after[59]?.[3]).not.toBe(copied[3]);
    expect(published).toEqual([expect.objectContaining({ isNew: true, rowId: after[59]?.[3] })]);
  });

  it('deleting rows sends deletes for exactly the rows gone', async () => {
    const grid = await values();
    const gone = [grid[4]?.[3], grid[5]?.[3]];
    published.length = 0;
    await act({ type: 'deleteRows', sheet: 'Leads', index: 4, count: 2 });
    expect(published.map((m) => [m.op, m.rowId]).sort()).toEqual(gone.map((id) => ['delete', id]).sort());
  });

  it('keeps edits queued while the webhook is down and sends them in order when it returns', async () => {
    up = false;
    published.length = 0;
    await act(
      { type: 'edit', range: 'Leads!B2', values: [['Ada L.']] },
      { type: 'edit', range: 'Leads!B2', values: [['Ada Lovelace']] },
    );
    expect(published).toEqual([]);
    up = true;
    const run = await emulator.appsScript!.run(spreadsheetId, 'flushQueue');
    expect(run.status, run.error).toBe('COMPLETED');
    expect(published.map((m) => m.cells.name)).toEqual(['Ada L.', 'Ada Lovelace']);
    // Delivered once: a second flush sends nothing more.
    await emulator.appsScript!.run(spreadsheetId, 'flushQueue');
    expect(published).toHaveLength(2);
  });
});
