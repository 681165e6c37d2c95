/**
 * The webhook's part of "nothing lost, nothing wiped" (issue 17): an event counts as received only
 * once it is published, and a structure event's mass deletes wait for a person.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { row } from '../support/version-store-contract.ts';

const secret = 'test-secret-0123456789';
const now = 1_800_000_000_000;

function setup(safety?: Record<string, number>) {
  const config = parseConfig({
    links: [
      {
        name: 'leads',
        spreadsheetId: 'ss1',
        sheet: 'Leads',
        table: 'public.leads',
        ...(safety ? { safety } : {}),
      },
    ],
  });
  const store = new MemoryVersionStore();
  const published: Array<{ data: { changes: SheetChangeMessage[] } }> = [];
  const deps: WebhookDeps = {
    config,
    secrets: [secret],
    replayGuard: memoryReplayGuard(),
    publish: async (messages) => {
      published.push(...(messages as never[]));
    },
    liveRowIds: (link, prefix) => store.liveRowIds(link, prefix),
    structure: store,
    held: store,
    logger: silentLogger,
    now: () => now,
  };
  const deleted = () =>
    published.flatMap((m) => m.data.changes.filter((c) => c.op === 'delete').map((c) => c.rowId));
  return { deps, store, published, deleted };
}

async function liveRows(store: MemoryVersionStore, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await store.createRows(
    'leads',
    ids.map((rowId, i) => row(rowId, { name: `n${i}` }, { key: { id: i + 1 } })),
  );
  return ids;
}

function request(body: Record<string, unknown>) {
  const raw = Buffer.from(JSON.stringify(body));
  const ts = String(now);
  return {
    method: 'POST',
    headers: signedHeaders(secret, 'ss1', raw, { timestamp: Number(ts) }),
    rawBody: raw,
  };
}

function base(kind: string, extra: Record<string, unknown>) {
  return {
    v: 1,
    eventId: randomUUID(),
    kind,
    spreadsheetId: 'ss1',
    sheet: 'Leads',
    sheetId: 0,
    headers: ['id', 'name', '_sheetsync_id'],
    time: now - 50,
    ...extra,
  };
}

const structure = (ids: string[], extra: Record<string, unknown> = {}) =>
  base('structure', { changeType: 'REMOVE_ROW', ids, ...extra });

describe('sheetWebhook: an event is received only once it is published', () => {
  it('publishes the retry of an event whose first request died after the claim', async () => {
    const { deps, published } = setup();
    const edit = base('edit', {
      rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells: { name: 'Ada' } }],
    });
    // The first request is claimed, then its publish never answers (the instance is killed).
    const stuck = { ...deps, publish: () => new Promise<void>(() => {}) };
    void handleWebhook(request(edit), stuck);
    await new Promise((r) => setTimeout(r, 20));
    // The script's retry must publish it (it used to be answered 409 and dropped).
    expect((await handleWebhook(request(edit), deps)).status).toBe(200);
    expect(published.flatMap((m) => m.data.changes.map((c) => c.cells))).toEqual([{ name: 'Ada' }]);
    // Once published, it is a replay.
    expect((await handleWebhook(request(edit), deps)).status).toBe(409);
    expect(published).toHaveLength(1);
  });
});

describe('sheetWebhook: the mass-change guard on structure events', () => {
  it('holds 30 of 40 rows missing after one change: nothing deleted, the change listed once', async () => {
    const { deps, store, published } = setup();
    const ids = await liveRows(store, 40);
    const event = structure(ids.slice(30));
    const answer = await handleWebhook(request(event), deps);
    expect(answer.status).toBe(200);
    expect(published).toEqual([]);
    const [held] = await store.heldChanges('leads');
    expect(held).toMatchObject({ link: 'leads', source: 'structure', side: 'db', count: 30, total: 40 });
    expect(held!.sample).toHaveLength(10);
    expect(held!.sample[0]!.key).toEqual({ id: 1 });
    expect(answer.body).toEqual({ published: 0, held: { id: held!.id, rows: 30, reason: held!.reason } });
    expect((await store.heldChange('leads', held!.id))?.rowIds.sort()).toEqual(ids.slice(0, 30).sort());
    // The same rows missing in the next event are neither deleted nor held again.
    expect((await handleWebhook(request(structure([...ids.slice(30)].reverse())), deps)).status).toBe(200);
    expect(published).toEqual([]);
    expect(await store.heldChanges('leads')).toHaveLength(1);
    // A retried request of the held event is a replay.
    expect((await handleWebhook(request(event), deps)).status).toBe(409);
  });

  it('deletes a few rows at once as before', async () => {
    const { deps, store, deleted } = setup();
    const ids = await liveRows(store, 40);
    expect((await handleWebhook(request(structure(ids.slice(5))), deps)).status).toBe(200);
    expect(deleted().sort()).toEqual(ids.slice(0, 5).sort());
    expect(await store.heldChanges('leads')).toEqual([]);
  });

  it('holds every delete while rows hold data without an id (the id column deleted), however few', async () => {
    const { deps, store, published } = setup();
    await liveRows(store, 8);
    const answer = await handleWebhook(
      request(structure([], { changeType: 'REMOVE_COLUMN', unidentified: 8 })),
      deps,
    );
    expect(answer.body).toMatchObject({ published: 0, held: { rows: 8 } });
    expect(published).toEqual([]);
    expect((await store.heldChanges('leads'))[0]!.reason).toMatch(/hold data but no sync id/);
  });

  it("follows the link's own thresholds", async () => {
    const { deps, store, published } = setup({ maxDeleteRows: 2, maxDeleteShare: 0.2 });
    const ids = await liveRows(store, 10);
    expect((await handleWebhook(request(structure(ids.slice(3))), deps)).body).toMatchObject({
      held: { rows: 3 },
    });
    expect(published).toEqual([]);
  });
});
