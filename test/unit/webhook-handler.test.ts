import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { type SheetChangeMessage, sheetChangeOrderingKey } from '../../functions/src/wire/sheet-change.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { row } from '../support/version-store-contract.ts';

const secret = 'test-secret-0123456789';
const now = 1_800_000_000_000;
const config = parseConfig({
  links: [{ name: 'leads', spreadsheetId: 'ss1', sheet: 'Leads', table: 'public.leads' }],
});

function setup(overrides: Partial<WebhookDeps> = {}) {
  const published: unknown[] = [];
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
    ...overrides,
  };
  return { deps, published };
}

function event(extra: Record<string, unknown> = {}) {
  return {
    v: 1,
    eventId: randomUUID(),
    kind: 'edit',
    spreadsheetId: 'ss1',
    sheet: 'Leads',
    sheetId: 0,
    headers: ['id', 'name', '_sheetsync_id'],
    time: now - 50,
    rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells: { name: 'Ada' } }],
    ...extra,
  };
}

function request(body: unknown, options: { ts?: number; secret?: string; method?: string } = {}) {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const ts = String(options.ts ?? now);
  return {
    method: options.method ?? 'POST',
    headers: signedHeaders(options.secret ?? secret, 'ss1', raw, { timestamp: Number(ts) }),
    rawBody: raw,
  };
}

describe('sheetWebhook', () => {
  it('publishes a batch message per key bucket, keyed link/b<bucket>', async () => {
    const { deps, published } = setup();
    const body = event();
    const response = await handleWebhook(request(body), deps);
    expect(response).toEqual({ status: 200, body: { published: 1 } });
    const rowId = body.rows[0]!.rowId;
    expect(published).toEqual([
      {
        orderingKey: sheetChangeOrderingKey({ link: 'leads', rowId }),
        data: {
          changes: [
            expect.objectContaining({
              link: 'leads',
              rowId,
              op: 'upsert',
              cells: { name: 'Ada' },
              eventId: body.eventId,
            }),
          ],
        },
      },
    ]);
    expect(sheetChangeOrderingKey({ link: 'leads', rowId })).toMatch(/^leads\/b([0-9]|1[0-5])$/);
  });

  it('splits a 500-row paste into at most one message per bucket, each row once, in sheet order', async () => {
    const { deps, published } = setup();
    const rows = Array.from({ length: 500 }, (_, i) => ({
      rowId: randomUUID(),
      row: i + 2,
      isNew: true,
      cells: { name: `n${i}` },
    }));
    const response = await handleWebhook(request(event({ rows })), deps);
    expect(response).toEqual({ status: 200, body: { published: 500 } });
    const messages = published as Array<{ orderingKey: string; data: { changes: SheetChangeMessage[] } }>;
    expect(messages.length).toBeLessThanOrEqual(16);
    expect(new Set(messages.map((m) => m.orderingKey)).size).toBe(messages.length);
    const seen = messages.flatMap((m) => m.data.changes.map((c) => c.rowId));
    expect(seen.sort()).toEqual(rows.map((r) => r.rowId).sort());
    for (const m of messages) {
      for (const c of m.data.changes) expect(sheetChangeOrderingKey(c)).toBe(m.orderingKey);
      const order = m.data.changes.map((c) => c.row!);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it('turns a structure event into deletes of the rows no longer present', async () => {
    const kept = randomUUID();
    const gone = randomUUID();
    const { deps, published } = setup({ liveRowIds: async () => [kept, gone] });
    const body = event({ kind: 'structure', changeType: 'REMOVE_ROW', ids: [kept], rows: undefined });
    delete (body as Record<string, unknown>).rows;
    const response = await handleWebhook(request(body), deps);
    expect(response.status).toBe(200);
    expect(published).toEqual([
      {
        orderingKey: sheetChangeOrderingKey({ link: 'leads', rowId: gone }),
        data: { changes: [expect.objectContaining({ op: 'delete', rowId: gone })] },
      },
    ]);
  });

  it("takes a big tab's structure event in parts: only rows whose id starts with the part's digit", async () => {
    const id = (prefix: string) => `${prefix}${randomUUID().slice(1)}`;
    const [keptA, goneA, goneB] = [id('a'), id('a'), id('b')];
    // The version store lists only the live rows whose id starts with the part's digit.
    const live = [keptA, goneA, goneB];
    const { deps, published } = setup({
      liveRowIds: async (_link, prefix) => live.filter((id) => prefix === undefined || id.startsWith(prefix)),
    });
    const body = event({ kind: 'structure', changeType: 'REMOVE_ROW', idPrefix: 'a', ids: [keptA] });
    delete (body as Record<string, unknown>).rows;
    expect((await handleWebhook(request(body), deps)).status).toBe(200);
    const changes = (published as Array<{ data: { changes: SheetChangeMessage[] } }>).flatMap(
      (m) => m.data.changes,
    );
    expect(changes.map((c) => [c.op, c.rowId])).toEqual([['delete', goneA]]);
    const wrong = event({ kind: 'structure', changeType: 'REMOVE_ROW', idPrefix: 'A', ids: [] });
    delete (wrong as Record<string, unknown>).rows;
    expect((await handleWebhook(request(wrong), deps)).status).toBe(400);
  });

  it('with structure checks: reads only changed buckets, and records a check only once the deletes are out', async () => {
    const store = new MemoryVersionStore({ now: () => now - 3_600_000 });
    const ids = Array.from({ length: 200 }, () => randomUUID());
    await store.createRows(
      'leads',
      ids.map((rowId) => row(rowId, { n: 1 })),
    );
    const reads: Array<string | undefined> = [];
    let failPublish = true;
    const { deps, published } = setup({
      liveRowIds: async (link, prefix) => {
        reads.push(prefix);
        return store.liveRowIds(link, prefix);
      },
      structure: store,
      publish: async (messages) => {
        if (failPublish) throw new Error('Pub/Sub unavailable');
        published.push(...messages);
      },
    });
    const structure = (onSheet: string[]) => {
      const body = event({ kind: 'structure', changeType: 'REMOVE_ROW', ids: onSheet });
      delete (body as Record<string, unknown>).rows;
      return request(body);
    };
    const deleted = (): string[] =>
      (published as Array<{ data: { changes: SheetChangeMessage[] } }>).flatMap((m) =>
        m.data.changes.map((c) => c.rowId),
      );
    const gone = ids[0]!;
    // The first event reads every live row; its publish fails: nothing recorded, the script retries.
    expect((await handleWebhook(structure(ids.slice(1)), deps)).status).toBe(503);
    expect(await store.structureChecks('leads')).toEqual({});
    failPublish = false;
    expect((await handleWebhook(structure(ids.slice(1)), deps)).status).toBe(200);
    expect(deleted()).toEqual([gone]);
    expect(reads).toEqual([undefined, undefined]);
    // A sort: no bucket changed, no live row read, nothing deleted.
    expect((await handleWebhook(structure([...ids.slice(1)].reverse()), deps)).status).toBe(200);
    expect(reads).toHaveLength(2);
    // One more row deleted: only its bucket is read.
    expect((await handleWebhook(structure(ids.slice(2)), deps)).status).toBe(200);
    expect(reads.slice(2)).toEqual([ids[1]!.slice(0, 2)]);
    expect(deleted()).toEqual([gone, ids[1]]);
  });

  it.each([
    ['a forged signature', () => request(event(), { secret: 'not-the-secret-at-all' }), 401],
    ['a stale timestamp', () => request(event(), { ts: now - 6 * 60_000 }), 401],
    ['a body that is not JSON', () => request('{"v":1,'), 400],
    ['a malformed event', () => request({ ...event(), rows: [{ rowId: 'nope' }] }), 400],
    ['headers that are not a list of strings', () => request({ ...event(), headers: 7 }), 400],
    ['a GET', () => request(event(), { method: 'GET' }), 405],
  ])('rejects %s and publishes nothing', async (_name, make, status) => {
    const { deps, published } = setup();
    const response = await handleWebhook(make(), deps);
    expect(response.status).toBe(status);
    expect(response.body).toHaveProperty('error.code', expect.stringMatching(/^SHEETSYNC_E6\d\d$/));
    expect(published).toEqual([]);
  });

  it('rejects a body over the size cap with 413', async () => {
    const { deps, published } = setup({ maxBodyBytes: 1000 });
    const body = event({
      rows: [{ rowId: randomUUID(), row: 2, isNew: true, cells: { name: 'x'.repeat(2000) } }],
    });
    expect((await handleWebhook(request(body), deps)).status).toBe(413);
    expect(published).toEqual([]);
  });

  it('answers 409 to a replayed event and publishes it once', async () => {
    const { deps, published } = setup();
    const req = request(event());
    expect((await handleWebhook(req, deps)).status).toBe(200);
    expect((await handleWebhook(req, deps)).status).toBe(409);
    expect(published).toHaveLength(1);
  });

  it('answers 503 when publishing fails, and accepts the retry', async () => {
    let fail = true;
    const { deps, published } = setup();
    const inner = deps.publish;
    deps.publish = async (m) => {
      if (fail) throw new Error('pubsub down');
      await inner(m);
    };
    const body = event();
    expect((await handleWebhook(request(body), deps)).status).toBe(503);
    fail = false;
    expect((await handleWebhook(request(body), deps)).status).toBe(200);
    expect(published).toHaveLength(1);
  });

  it('ignores a tab no link names, without publishing', async () => {
    const { deps, published } = setup();
    const response = await handleWebhook(request(event({ sheet: 'Other' })), deps);
    expect(response).toMatchObject({ status: 200, body: { ignored: true } });
    expect(published).toEqual([]);
  });
});
