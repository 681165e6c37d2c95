/**
 * sheetWebhook's replay claim and sheet-epoch bump run together, and the changes are published
 * only after both: a bump that fails answers 503 with nothing published and the claim released,
 * so the script's retry is accepted.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { syncedRowDocument } from '../../functions/src/core/reconcile-plan.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { type VersionStore, WRITE_HOLD_MS } from '../../functions/src/ports.ts';
import { signedHeaders } from '../support/signed-request.ts';

/** The epochs port with only its bump observed (nothing held). */
const bumpOnly = (bumpSheetEpoch: VersionStore['bumpSheetEpoch']) => ({
  bumpSheetEpoch,
  holdSheetWrites: async () => {},
});

const secret = 'test-secret-0123456789';
const now = 1_800_000_000_000;
const config = parseConfig({
  links: [{ name: 'leads', spreadsheetId: 'ss1', sheet: 'Leads', table: 'public.leads' }],
});

function request(body: unknown) {
  const raw = Buffer.from(JSON.stringify(body));
  const ts = String(now);
  return {
    method: 'POST',
    headers: signedHeaders(secret, 'ss1', raw, { timestamp: Number(ts) }),
    rawBody: raw,
  };
}

const event = () => ({
  v: 1,
  eventId: randomUUID(),
  kind: 'edit',
  spreadsheetId: 'ss1',
  sheet: 'Leads',
  sheetId: 0,
  headers: ['id', 'name', '_sheetsync_id'],
  time: now - 50,
  rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells: { name: 'Ada' } }],
});

describe('sheetWebhook: replay claim, sheet epoch, publish', () => {
  it('claims first, bumps only a claimed event, and publishes only after the bump', async () => {
    const steps: string[] = [];
    let finishBump!: () => void;
    let finishClaim!: () => void;
    const guard = memoryReplayGuard();
    const deps: WebhookDeps = {
      config,
      secrets: [secret],
      replayGuard: {
        claim: async (id, at) => {
          steps.push('claim started');
          await new Promise<void>((resolve) => {
            finishClaim = resolve;
          });
          return guard.claim(id, at);
        },
        complete: (id, at) => guard.complete(id, at),
      },
      epochs: bumpOnly(() => {
        steps.push('bump started');
        return new Promise<void>((resolve) => {
          finishBump = () => {
            steps.push('bump done');
            resolve();
          };
        });
      }),
      publish: async () => {
        steps.push('published');
      },
      liveRowIds: async () => [],
      logger: silentLogger,
      now: () => now,
    };
    const body = event();
    const answer = handleWebhook(request(body), deps);
    await new Promise((r) => setTimeout(r, 10));
    // No state changes before the claim says the event is new.
    expect(steps).toEqual(['claim started']);
    finishClaim();
    await new Promise((r) => setTimeout(r, 10));
    // Nothing is published while the bump is under way.
    expect(steps).toEqual(['claim started', 'bump started']);
    finishBump();
    expect((await answer).status).toBe(200);
    expect(steps).toEqual(['claim started', 'bump started', 'bump done', 'published']);
    // A replay changes nothing: no bump, nothing published.
    steps.length = 0;
    const replay = handleWebhook(request(body), deps);
    await new Promise((r) => setTimeout(r, 10));
    finishClaim();
    expect((await replay).status).toBe(409);
    expect(steps).toEqual(['claim started']);
  });

  it('answers 503 when the bump fails: nothing published, the event still pending, the retry accepted', async () => {
    const published: unknown[] = [];
    let failBump = true;
    const deps: WebhookDeps = {
      config,
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      epochs: bumpOnly(async () => {
        if (failBump) throw new Error('firestore unavailable');
      }),
      publish: async (messages) => {
        published.push(...messages);
      },
      liveRowIds: async () => [],
      logger: silentLogger,
      now: () => now,
    };
    const body = event();
    const first = await handleWebhook(request(body), deps);
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ error: { code: 'SHEETSYNC_E607' } });
    expect(published).toEqual([]);
    failBump = false;
    expect((await handleWebhook(request(body), deps)).status).toBe(200);
    expect(published).toHaveLength(1);
    // A replay of the accepted event is still refused, and publishes nothing.
    expect((await handleWebhook(request(body), deps)).status).toBe(409);
    expect(published).toHaveLength(1);
  });

  it('a failing replay claim fails the request and publishes nothing', async () => {
    const published: unknown[] = [];
    const deps: WebhookDeps = {
      config,
      secrets: [secret],
      replayGuard: {
        claim: async () => {
          throw new Error('claim store down');
        },
        complete: async () => {},
      },
      epochs: bumpOnly(async () => {}),
      publish: async (messages) => {
        published.push(...messages);
      },
      liveRowIds: async () => [],
      logger: silentLogger,
      now: () => now,
    };
    await expect(handleWebhook(request(event()), deps)).rejects.toThrow('claim store down');
    expect(published).toEqual([]);
  });

  it('takes a layout event (empty rows inserted): nothing published, the sheet epoch bumped', async () => {
    const bumped: string[] = [];
    const published: unknown[] = [];
    const { rows: _rows, ...base } = event();
    const answer = await handleWebhook(request({ ...base, kind: 'layout', changeType: 'INSERT_ROW' }), {
      config,
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      publish: async (messages) => void published.push(...messages),
      liveRowIds: async () => [],
      epochs: bumpOnly(async (link) => void bumped.push(link)),
      logger: silentLogger,
      now: () => now,
    });
    expect(answer.status).toBe(200);
    expect(published).toEqual([]);
    expect(bumped).toEqual(['leads']);
  });

  it('bumps the values epoch for an edit of rows that all had ids, the rows epoch otherwise', async () => {
    const bumps: string[] = [];
    const deps: WebhookDeps = {
      config,
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      publish: async () => {},
      liveRowIds: async () => [],
      epochs: bumpOnly(async (link, kind) => void bumps.push(`${link}:${kind}`)),
      logger: silentLogger,
      now: () => now,
    };
    const edit = event();
    const withNew = {
      ...event(),
      rows: [...edit.rows, { rowId: randomUUID(), row: 3, isNew: true, cells: {} }],
    };
    const { rows: _rows, ...base } = event();
    for (const body of [
      edit,
      withNew,
      { ...base, kind: 'structure', changeType: 'REMOVE_ROW', ids: [], eventId: randomUUID() },
      { ...base, kind: 'layout', changeType: 'INSERT_ROW' },
    ]) {
      expect((await handleWebhook(request(body), deps)).status).toBe(200);
    }
    expect(bumps).toEqual(['leads:values', 'leads:rows', 'leads:rows', 'leads:rows']);
  });

  it('holds sheet writes from an edit that may be a sort: kept for a sort, cleared when it is none, and by the script’s REIDENTIFY', async () => {
    const store = new MemoryVersionStore();
    const [a, b] = [randomUUID(), randomUUID()];
    const synced = (rowId: string, name: string) =>
      syncedRowDocument(rowId, { id: name }, { id: name, name }, { wall: 1, logical: 0 }, 1);
    await store.commitRows('leads', [{ next: synced(a, 'Ada') }, { next: synced(b, 'Bo') }]);
    const holds: Array<number | undefined> = [];
    const deps: WebhookDeps = {
      config,
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      publish: async () => {},
      liveRowIds: async () => [],
      documents: store,
      epochs: {
        bumpSheetEpoch: async (link, kind, hold) => {
          holds.push(hold);
          await store.bumpSheetEpoch(link, kind, hold);
        },
        holdSheetWrites: (link, until) => store.holdSheetWrites(link, until),
      },
      logger: silentLogger,
      now: () => now,
    };
    const edit = (rows: Array<{ rowId: string; row: number; cells: Record<string, string> }>) => ({
      ...event(),
      canReidentify: true,
      rows: rows.map((r) => ({ ...r, isNew: false })),
    });
    /** An edit of rows 2 (id a) and 3 (id b) with these values. */
    const editRows = (second: Record<string, string>, third: Record<string, string>) =>
      handleWebhook(
        request(
          edit([
            { rowId: a, row: 2, cells: second },
            { rowId: b, row: 3, cells: third },
          ]),
        ),
        deps,
      );
    // The two rows hold each other's values: a sort, answered with the ids; the hold stays.
    const sort = await editRows({ id: 'Bo', name: 'Bo' }, { id: 'Ada', name: 'Ada' });
    expect(sort.body.reidentify).toHaveLength(2);
    expect(holds).toEqual([now + WRITE_HOLD_MS]);
    expect((await store.sheetEpochs('leads')).holdUntil).toBe(now + WRITE_HOLD_MS);
    // The script wrote the ids and says so: the hold ends with that event's bump.
    const { rows: _rows, ...base } = event();
    await handleWebhook(request({ ...base, kind: 'layout', changeType: 'REIDENTIFY' }), deps);
    expect(holds.at(-1)).toBe(0);
    expect((await store.sheetEpochs('leads')).holdUntil).toBe(0);
    // An edit of two rows that is no sort is held from its arrival and released before the answer.
    const plain = await editRows({ id: 'Ada', name: 'Ada Lovelace' }, { id: 'Bo', name: 'Bo Diddley' });
    expect(plain.body).toEqual({ published: 2 });
    expect(holds.at(-1)).toBe(now + WRITE_HOLD_MS);
    expect((await store.sheetEpochs('leads')).holdUntil).toBe(0);
    // One row cannot be a sort: no hold at all.
    await handleWebhook(request(edit([{ rowId: a, row: 2, cells: { id: 'Ada', name: 'Ada' } }])), deps);
    expect(holds.at(-1)).toBeUndefined();
  });
});
