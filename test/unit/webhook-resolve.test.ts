/**
 * sheetWebhook's `resolve` event (a choice in the `_sheetsync_conflicts` tab): resolved as
 * `sheetsync conflicts resolve` does (sync-jobs/resolve-conflict.ts), only for a link of the
 * spreadsheet that signed it, with refusals the script can act on.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/src/config.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { applyResolution, resolutionEventId } from '../../functions/src/core/conflict-resolution.ts';
import { emptyRowDocument } from '../../functions/src/core/row-document.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { signedHeaders } from '../support/signed-request.ts';

const secret = 'test-secret-0123456789';
const now = 1_800_000_000_000;
const config = parseConfig({
  links: [
    { name: 'leads', spreadsheetId: 'ss1', sheet: 'Leads', table: 'public.leads' },
    { name: 'other', spreadsheetId: 'ss2', sheet: 'Other', table: 'public.other' },
  ],
});
const rowId = randomUUID();
const conflict: ConflictRecord = {
  id: 'a'.repeat(32),
  link: 'leads',
  rowId,
  column: 'status',
  reason: 'concurrent',
  policy: 'manual',
  sheet: { value: 'from-sheet', dot: 'sheet:3', time: { wall: now - 10, logical: 0 } },
  db: { value: 'from-db', dot: 'db:9000', time: { wall: now - 20, logical: 0 } },
  outcome: 'db',
  value: 'from-db',
  status: 'open',
  detectedAt: now - 5,
  resolution: null,
};

function setup(cellNow: string = 'from-db') {
  const published: unknown[] = [];
  let open = [conflict];
  const deps: WebhookDeps = {
    config,
    secrets: [secret],
    replayGuard: memoryReplayGuard(),
    publish: async (messages) => {
      published.push(...messages);
    },
    liveRowIds: async () => [],
    logger: silentLogger,
    now: () => now,
    conflicts: {
      listOpenConflicts: async (link) => open.filter((c) => c.link === link),
      readRows: async () => {
        const doc = emptyRowDocument(rowId, { name: 'Ada' });
        doc.cells.status = {
          value: cellNow,
          dot: 'db:9000',
          time: { wall: now - 20, logical: 0 },
          echoed: true,
          sheetValue: cellNow,
          sheetWrittenAt: 0,
        };
        return new Map([[rowId, doc]]);
      },
      resolveConflict: async (_link, id, choice, at) => {
        const found = open.find((c) => c.id === id)!;
        open = open.filter((c) => c.id !== id);
        return applyResolution(found, choice, at);
      },
    },
  };
  return { deps, published };
}

function request(extra: Record<string, unknown>, spreadsheet = 'ss1') {
  const raw = Buffer.from(
    JSON.stringify({
      v: 1,
      eventId: randomUUID(),
      kind: 'resolve',
      spreadsheetId: spreadsheet,
      sheet: '_sheetsync_conflicts',
      sheetId: 7,
      headers: [],
      time: now - 50,
      link: 'leads',
      conflictId: conflict.id,
      take: 'sheet',
      ...extra,
    }),
  );
  return {
    method: 'POST',
    headers: signedHeaders(secret, spreadsheet, raw, { timestamp: now }),
    rawBody: raw,
  };
}

describe('sheetWebhook: a choice in the conflicts tab', () => {
  it('`take sheet` resolves the conflict and publishes the change carrying the sheet value', async () => {
    const { deps, published } = setup();
    const response = await handleWebhook(request({ take: 'sheet' }), deps);
    expect(response).toEqual({
      status: 200,
      body: { resolved: { id: conflict.id, link: 'leads', sheet: 'Leads', rowId, column: 'status' } },
    });
    expect(published).toEqual([
      expect.objectContaining({
        data: {
          changes: [
            expect.objectContaining({
              link: 'leads',
              rowId,
              cells: { status: 'from-sheet' },
              eventId: resolutionEventId(conflict.id),
            }),
          ],
        },
      }),
    ]);
  });

  it('`take database` of the value both sides hold closes it and publishes nothing; again: E402', async () => {
    const { deps, published } = setup();
    expect((await handleWebhook(request({ take: 'db' }), deps)).status).toBe(200);
    expect(published).toEqual([]);
    const again = await handleWebhook(request({ take: 'db' }), deps);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'SHEETSYNC_E401' } } });
  });

  it('refuses a choice that would overwrite a later change of the cell (E410, 409)', async () => {
    const { deps, published } = setup('typed-since');
    const response = await handleWebhook(request({ take: 'sheet' }), deps);
    expect(response).toMatchObject({ status: 409, body: { error: { code: 'SHEETSYNC_E410' } } });
    expect(published).toEqual([]);
  });

  it("refuses a link of another spreadsheet than the signer's (E630, 400)", async () => {
    const { deps } = setup();
    const response = await handleWebhook(request({ link: 'other' }), deps);
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'SHEETSYNC_E630' } } });
    expect(response.body.error).toMatchObject({
      message: expect.stringContaining('not a link of this spreadsheet'),
    });
  });

  it('answers 503 (E631) without a store to resolve with', async () => {
    const { deps } = setup();
    delete deps.conflicts;
    expect(await handleWebhook(request({}), deps)).toMatchObject({
      status: 503,
      body: { error: { code: 'SHEETSYNC_E631' } },
    });
  });
});
