/**
 * Sheet → database at the webhook's edge: the webhook unreachable or losing its answers while
 * people edit (the script queues and retries; nothing lost, nothing doubled), and requests that
 * must be rejected or handled without touching the table, sent as real HTTP to the pipeline.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tableVsSheet } from '../support/sheet-sync-harness.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['id', 'name', 'qty'];
const TABLE = { schema: 'public', name: 'orders', key: ['id'] };
type ProxyMode = 'pass' | 'refuse' | 'lose-answer';

describe('the webhook at the edge', () => {
  const db = useTestDatabase();
  let proxy: Server;
  let proxyUrl: string;
  let mode: ProxyMode = 'pass';
  let forwarded = 0;

  const h = useSyncHarness(db, {
    table: 'public.orders',
    headers: COLUMNS,
    // An identity key: a new row delivered twice would become two table rows.
    createTable: (sql) =>
      sql.unsafe(`
      create table public.orders (id bigint generated always as identity primary key, name text, qty integer);
      create table public.x (v int); insert into public.x values (1);`),
  });

  beforeAll(async () => {
    // Between the script and the webhook: passes requests, refuses them (down), or forwards them
    // and then answers 503 as if the answer were lost on the way back.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        if (mode === 'refuse') return res.writeHead(503).end();
        const answer = await fetch(h.pipeline.webhookUrl, {
          method: 'POST',
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([k]) => k.startsWith('x-sheetsync') || k === 'content-type'),
          ) as Record<string, string>,
          body: Buffer.concat(chunks),
        });
        forwarded++;
        const text = await answer.text();
        if (mode === 'lose-answer') return res.writeHead(503).end();
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const address = proxy.address();
    proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    await h.runScript('setup', [proxyUrl, spreadsheetSecret(h.secret, h.spreadsheetId), h.tab]);
  }, 60_000);

  afterAll(async () => {
    if (proxy) await new Promise((r) => proxy.close(r));
  });

  const queued = () => {
    const sheet = h.emulator.model.get(h.spreadsheetId).sheetByTitle('_sheetsync_queue');
    return sheet ? sheet.rows.filter((r) => r && r.length > 0).length : 0;
  };
  const count = async () => (await h.sql`select count(*)::int as n from orders`)[0]?.n;
  const converged = async (rows: number) => {
    let last: string[] = [];
    await waitFor(`the table to equal the sheet with ${rows} rows`, async () => {
      last = await tableVsSheet(h, TABLE, COLUMNS);
      return last.length === 0 && (await count()) === rows;
    }).catch((e) => {
      throw new Error(`${e.message}\n${last.slice(0, 10).join('\n')}`);
    });
  };

  it('edits made while the webhook is down arrive after it returns, none lost, none doubled', async () => {
    await h.act([
      {
        type: 'edit',
        range: 'Rows!B2:C3',
        values: [
          ['first', 1],
          ['second', 2],
        ],
      },
    ]);
    await converged(2);
    await waitFor('keys on the sheet', async () =>
      h
        .tabValues()
        .slice(1)
        .every((r) => Number(r[0]) > 0),
    );

    mode = 'refuse';
    await h.act([
      {
        type: 'edit',
        range: 'Rows!B4:C5',
        values: [
          ['typed while down', 3],
          ['also while down', 4],
        ],
      },
      { type: 'edit', range: 'Rows!C2', values: [[10]] },
      { type: 'deleteRows', sheet: 'Rows', index: 2, count: 1 },
      { type: 'edit', range: 'Rows!B5:C5', values: [['last while down', 5]] },
    ]);
    expect(queued()).toBeGreaterThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 500));
    expect(await h.sql`select name, qty from orders order by name`).toEqual([
      { name: 'first', qty: 1 },
      { name: 'second', qty: 2 },
    ]);

    // The answers get lost once: the events are applied, the script keeps them and sends again.
    mode = 'lose-answer';
    const before = forwarded;
    await h.runScript('flushQueue');
    expect(forwarded).toBe(before + 1); // stops at the first unanswered event, keeps order
    mode = 'pass';
    await h.runScript('flushQueue');
    expect(queued()).toBe(0);
    await converged(4);
    // Rows of one multi-row insert take identity values in no promised order: compare by name.
    expect((await h.sql`select name, qty from orders order by name`).map((r) => [r.name, r.qty])).toEqual([
      ['also while down', 4],
      ['first', 10],
      ['last while down', 5],
      ['typed while down', 3],
    ]);
  });

  it('a row deleted while the webhook is down takes no row the database added meanwhile', async () => {
    const before = (await count()) as number;
    await converged(before);
    mode = 'refuse';
    // A person deletes a row; the script reads the ids and queues the structure event.
    const gone = h.tabValues()[2]![1];
    await h.act([{ type: 'deleteRows', sheet: 'Rows', index: 2, count: 1 }]);
    expect(queued()).toBeGreaterThanOrEqual(1);
    // Meanwhile the database adds two rows, and applyToSheet appends them to the sheet.
    await h.sql`insert into orders (name, qty) values ('db while down', 7), ('db while down too', 8)`;
    await waitFor('the two rows on the sheet', async () =>
      h.tabValues().some((r) => r[1] === 'db while down too'),
    );
    // The webhook returns: the queued event lists neither new row, which must stay.
    mode = 'pass';
    await h.runScript('flushQueue');
    expect(queued()).toBe(0);
    await converged(before + 1);
    const names = (await h.sql`select name from orders order by name`).map((r) => r.name);
    expect(names).toContain('db while down');
    expect(names).toContain('db while down too');
    expect(names).not.toContain(gone);
    // Leave the rows as the next tests expect them: the database's two rows go again.
    await h.sql`delete from orders where name like 'db while down%'`;
    await converged(before - 1);
  });

  it('a range sorted without its ids while the webhook is down, its answer lost once: the ids follow the rows', async () => {
    const before = (await count()) as number;
    expect(before).toBeGreaterThanOrEqual(3);
    await converged(before);
    const table = await h.sql`select * from orders order by id`;
    const last = h.tabValues().length;
    const idAt = (h.tabValues()[0] as string[]).indexOf('_sheetsync_id');
    const idsBefore = h.tabValues().map((r) => r[idAt]);
    mode = 'refuse';
    // The visible columns A:C, by name descending: values move, the ids in D stay.
    await h.act([
      {
        type: 'sortRange',
        range: `Rows!A2:C${last}`,
        sortSpecs: [{ dimensionIndex: 1, sortOrder: 'DESCENDING' }],
      },
    ]);
    expect(queued()).toBeGreaterThanOrEqual(1);
    expect(h.tabValues().map((r) => r[idAt])).toEqual(idsBefore);
    // The webhook answers with the ids, but the answer is lost; the retry is answered 409 with
    // the same ids, which the script then writes.
    mode = 'lose-answer';
    await h.runScript('flushQueue');
    expect(h.tabValues().map((r) => r[idAt])).toEqual(idsBefore);
    mode = 'pass';
    await h.runScript('flushQueue');
    expect(queued()).toBe(0);
    expect(h.tabValues().map((r) => r[idAt])).not.toEqual(idsBefore);
    await converged(before);
    expect(await h.sql`select * from orders order by id`).toEqual(table);
    const names = h
      .tabValues()
      .slice(1)
      .map((r) => String(r[1]));
    expect(names).toEqual([...names].sort().reverse());
  });

  /** A signed request as the script sends it. */
  function signed(body: string, timestamp = Date.now(), secret = h.secret) {
    return {
      'content-type': 'application/json',
      ...signedHeaders(secret, h.spreadsheetId, body, { timestamp }),
    };
  }
  const post = (body: string, headers: Record<string, string>) =>
    fetch(h.pipeline.webhookUrl, { method: 'POST', headers, body });
  const editEvent = (cells: Record<string, unknown>, headers = COLUMNS) =>
    JSON.stringify({
      v: 1,
      eventId: randomUUID(),
      kind: 'edit',
      spreadsheetId: h.spreadsheetId,
      sheet: h.tab,
      sheetId: 0,
      headers: [...headers, '_sheetsync_id'],
      time: Date.now(),
      rows: [{ rowId: randomUUID(), row: 90, isNew: true, cells }],
    });
  const snapshot = async () => ({
    orders: await h.sql`select * from orders order by id`,
    x: await h.sql`select * from x`,
  });

  it('rejects a forged signature, a stale timestamp, a replay and a malformed body; the table is intact', async () => {
    const before = await snapshot();
    const body = editEvent({ name: 'forged', qty: 1 });
    expect((await post(body, signed(body, Date.now(), 'not-the-secret-at-all'))).status).toBe(401);
    expect((await post(body, { ...signed(body), 'x-sheetsync-signature': 'sha256=00' })).status).toBe(401);
    expect((await post(body, { 'content-type': 'application/json' })).status).toBe(401);
    // Not JSON at all: refused before anything reads it (raw-body-gate.ts), as deployed.
    expect((await post(body, {})).status).toBe(415);
    const stale = editEvent({ name: 'stale', qty: 1 });
    expect((await post(stale, signed(stale, Date.now() - 6 * 60_000))).status).toBe(401);
    const malformed = '{"v":1,"kind":"edit","rows":[{"rowId":"not a uuid"}]';
    // Not JSON: the handler answers 400 with a code (functions-framework's parser never sees it).
    const notJson = await post(malformed, signed(malformed));
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'SHEETSYNC_E604' } });
    const wrongShape = JSON.stringify({ ...JSON.parse(editEvent({})), rows: [{ rowId: 'x' }] });
    const answer = await post(wrongShape, signed(wrongShape));
    expect(answer.status).toBe(400);
    expect(JSON.stringify(await answer.json())).toMatch(/SHEETSYNC_E604.*rows/);

    const once = editEvent({ name: 'replayed', qty: 7 });
    expect((await post(once, signed(once))).status).toBe(200);
    await waitFor(
      'the row',
      async () => (await h.sql`select 1 from orders where name = 'replayed'`).length === 1,
    );
    expect((await post(once, signed(once, Date.now() + 1))).status).toBe(409);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await snapshot();
    expect(after.x).toEqual(before.x);
    expect(after.orders.filter((r) => r.name !== 'replayed')).toEqual(before.orders);
    expect(after.orders.filter((r) => r.name === 'replayed')).toHaveLength(1);
    await h.sql`delete from orders where name = 'replayed'`;
  });

  it('a header named "; DROP TABLE x; -- is ignored and reported; its row still syncs', async () => {
    const evil = '"; DROP TABLE x; --';
    await h.act([{ type: 'edit', range: 'Rows!D1', values: [[evil]] }]);
    await h.act([{ type: 'edit', range: 'Rows!B6:D6', values: [['bobby', 6, 'tables']] }]);
    await waitFor(
      'the row',
      async () => (await h.sql`select qty from orders where name = 'bobby'`)[0]?.qty === 6,
    );
    expect(await h.sql`select v from x`).toEqual([{ v: 1 }]);
    await waitFor('the problem reported', async () =>
      h.problems.some((p) => p.code === 'SHEETSYNC_E408' && p.column === evil),
    );
  });
});
