/**
 * The dashboard's POST /api/attach and /api/reconcile (what `sheetsync attach|reconcile` use when
 * the version store lives inside `npm start`), over PostgreSQL, the Firestore emulator and the
 * local sheet: the answer is the command's --json result (plain, or NDJSON with progress), bad
 * requests are refused with their code, one run per link at a time, and a POST that is not JSON
 * or comes from another origin, or any request with another Host (DNS rebinding), is refused
 * before anything runs.
 */
import { request } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Metrics } from '../../cli/src/dashboard/metrics.ts';
import { conflictDesk } from '../../cli/src/dashboard/open-conflicts.ts';
import { type Dashboard, startDashboard } from '../../cli/src/dashboard/server.ts';
import { syncJobs } from '../../cli/src/dashboard/sync-jobs.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createMemoryBus } from '../../functions/src/adapters/memory-bus.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { Bus, VersionStore } from '../../functions/src/ports.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('the dashboard runs attach and reconcile', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('sync-api');
  let emulator: Emulator;
  let firestore: Firestore;
  let bus: Bus;
  let dashboard: Dashboard;
  /** While set, the store's readRows waits for `release` (a run held in the middle). */
  let hold: { reached: () => void; release: Promise<void> } | undefined;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(new URL(path, dashboard.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const lines = async (response: Response) =>
    (await response.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ndjson = { accept: 'application/x-ndjson' };

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'People', sheetId: 0 }] }, 'api');
    await db.sql`create table public.people (id bigint primary key, name text)`;
    await db.sql`insert into public.people values (1, 'Ada'), (2, 'Grace'), (3, 'Alan')`;
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
    const store = new FirestoreVersionStore({ firestore, root: uniqueName('links') });
    const held = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        if (property !== 'readRows') return value.bind(target);
        return async (...args: unknown[]) => {
          if (hold) {
            hold.reached();
            await hold.release;
          }
          return value.apply(target, args);
        };
      },
    }) as VersionStore;
    const config = parseConfig({
      links: [
        { name: 'people', spreadsheetId, sheet: 'People', table: 'public.people' },
        { name: 'ghost', spreadsheetId, sheet: 'People', table: 'public.nope' },
      ],
    });
    bus = createMemoryBus();
    dashboard = await startDashboard({
      metrics: new Metrics(),
      conflicts: conflictDesk({ store, bus, links: ['people'] }),
      sql: db.sql,
      links: ['people', 'ghost'],
      bus: 'in-process',
      store: 'firestore-emulator',
      sync: syncJobs({
        sql: db.sql,
        sheetsApi: new SheetsApi({ rootUrl: emulator.url, logger: silentLogger }),
        store: held,
        config,
        source: 'links.json',
      }),
    });
  });
  afterAll(async () => {
    await dashboard?.close();
    await bus?.close();
    await firestore?.terminate();
    await emulator?.close();
  });

  it('answers the result as JSON, or as NDJSON ending in it', async () => {
    const attach = await post('/api/attach', { link: 'people' });
    expect(attach.status).toBe(200);
    expect(await attach.json()).toMatchObject({ mode: 'table-to-sheet', rows: 3 });
    expect(tabValues(emulator, spreadsheetId, 'People!A1:B4')).toEqual([
      ['id', 'name'],
      [1, 'Ada'],
      [2, 'Grace'],
      [3, 'Alan'],
    ]);

    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.people set name = 'Grace H' where id = 2`;
    });
    const dry = await post('/api/reconcile', { link: 'people', dryRun: true }, ndjson);
    expect(dry.status).toBe(200);
    expect(dry.headers.get('content-type')).toContain('application/x-ndjson');
    const said = await lines(dry);
    expect(said.at(-1)).toEqual({
      result: expect.objectContaining({ dryRun: true, rowsCompared: 3, cellsToSheet: 1, cellsToDb: 0 }),
    });
    expect(said.slice(0, -1).every((l) => 'progress' in l || Object.keys(l).length === 0)).toBe(true);
    expect(tabValues(emulator, spreadsheetId, 'People!B3')).toEqual([['Grace']]);

    const repair = await post('/api/reconcile', { link: 'people' });
    expect(await repair.json()).toMatchObject({ dryRun: false, cellsToSheet: 1 });
    expect(tabValues(emulator, spreadsheetId, 'People!B3')).toEqual([['Grace H']]);
  });

  it('refuses bad requests with their code, and a link that does not match the services', async () => {
    const [notBoolean, attachDry, unknown, noBody] = await Promise.all([
      post('/api/reconcile', { link: 'people', dryRun: 'yes' }),
      post('/api/attach', { link: 'people', dryRun: true }),
      post('/api/reconcile', { link: 'nobody' }, ndjson),
      post('/api/reconcile', 'not json'),
    ]);
    expect(notBoolean.status).toBe(400);
    expect(((await notBoolean.json()) as { error: { code: string } }).error.code).toBe('SHEETSYNC_E754');
    expect(attachDry.status).toBe(400);
    expect(await attachDry.json()).toEqual({
      error: { code: 'SHEETSYNC_E754', message: 'dryRun is an option of reconcile, not attach' },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: {
        code: 'SHEETSYNC_E101',
        message: 'no link named "nobody" in links.json (it has "people", "ghost")',
      },
    });
    expect(noBody.status).toBe(400);

    const ghost = await post('/api/reconcile', { link: 'ghost' });
    expect(ghost.status).toBe(422);
    const { error } = (await ghost.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('SHEETSYNC_E250');
    expect(error.message).toContain('links[1].table');
    const streamed = await lines(await post('/api/reconcile', { link: 'ghost', dryRun: true }, ndjson));
    expect(streamed.at(-1)).toMatchObject({ error: { code: 'SHEETSYNC_E250' } });
  });

  it('runs one attach or reconcile per link at a time', async () => {
    let reached!: () => void;
    let release!: () => void;
    const atReadRows = new Promise<void>((resolve) => {
      reached = resolve;
    });
    hold = { reached, release: new Promise<void>((resolve) => (release = resolve)) };
    try {
      const first = post('/api/reconcile', { link: 'people', dryRun: true }, ndjson);
      await atReadRows;
      const second = await post('/api/attach', { link: 'people' });
      expect(second.status).toBe(409);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('SHEETSYNC_E755');
      hold = undefined;
      release();
      expect((await lines(await first)).at(-1)).toMatchObject({ result: { dryRun: true, rowsCompared: 3 } });
    } finally {
      hold = undefined;
      release();
    }
    // Done: the link is free again.
    const again = await post('/api/reconcile', { link: 'people', dryRun: true });
    expect(again.status).toBe(200);
  });

  it('takes POSTs only as JSON and from its own origin', async () => {
    const own = new URL(dashboard.url).origin;
    const [plain, foreign, foreignResolve, sameOrigin] = await Promise.all([
      post('/api/reconcile', JSON.stringify({ link: 'people' }), { 'content-type': 'text/plain' }),
      post('/api/reconcile', { link: 'people' }, { origin: 'http://evil.example' }),
      post('/api/conflicts/x/resolve', { take: 'db' }, { origin: 'http://evil.example' }),
      post('/api/reconcile', { link: 'people', dryRun: true }, { origin: own }),
    ]);
    expect(plain.status).toBe(403);
    expect(await plain.json()).toMatchObject({ error: { code: 'SHEETSYNC_E763' } });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: 'SHEETSYNC_E762' } });
    expect(foreignResolve.status).toBe(403);
    expect(sameOrigin.status).toBe(200);
    expect(await sameOrigin.json()).toMatchObject({ dryRun: true, rowsCompared: 3 });
  });

  it('answers only its own Host: a DNS-rebound page cannot read the API', async () => {
    // A page on evil.example whose name now points at 127.0.0.1 sends Host: evil.example.
    const port = Number(new URL(dashboard.url).port);
    const rebound = await rawGet(port, '/api/conflicts', 'evil.example');
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'SHEETSYNC_E761' } });
    expect((await rawGet(port, '/api/events', `evil.example:${port}`)).status).toBe(403);
    expect((await rawGet(port, '/', `127.0.0.1:${port + 1}`)).status).toBe(403);
    expect((await rawGet(port, '/api/conflicts', `localhost:${port}`)).status).toBe(200);
    expect((await rawGet(port, '/api/stack', `127.0.0.1:${port}`)).status).toBe(200);
  });
});

/** A GET with the Host header given (fetch sends the URL's own). */
function rawGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      // The event stream never ends: its first line is enough.
      res.on('data', (chunk: string) => {
        body += chunk;
        if (res.headers['content-type']?.startsWith('text/event-stream')) res.destroy();
      });
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
