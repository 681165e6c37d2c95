/**
 * The deployed `reconcile` function (Cloud Scheduler → HTTP, functions/src/handlers/
 * reconcile-http.ts) against PostgreSQL, the Firestore emulator and the local sheet (through
 * @googleapis/sheets): it repairs drift planted on both sides of every link, reconciles one link
 * with ?link=, only reports with ?dryRun=true, and answers 500 for a link that fails while the
 * others still run.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { reconcileHttpHandler } from '../../functions/src/handlers/reconcile-http.ts';
import { createLogger } from '../../functions/src/log.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

type Answer = {
  dryRun: boolean;
  links: Array<{ link: string; ok: boolean; code?: string; [count: string]: unknown }>;
  error: { code: string; message: string };
};

describe('the reconcile function', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let firestore: Firestore;
  let store: FirestoreVersionStore;
  let api: SheetsApi;
  const spreadsheetId = uniqueName('reconcile-fn');
  const config = parseConfig({
    links: [
      { name: 'people', spreadsheetId, sheet: 'People', table: 'public.people' },
      { name: 'pets', spreadsheetId, sheet: 'Pets', table: 'public.pets' },
    ],
  });
  const logged: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  let handler: ReturnType<typeof reconcileHttpHandler>;

  /** Calls the handler as functions-framework would, with a query string. */
  async function call(query: Record<string, unknown> = {}) {
    let status = 0;
    let body = {} as Answer;
    await handler(
      { query },
      {
        status(code: number) {
          status = code;
          return {
            json(value: unknown) {
              body = value as Answer;
            },
          };
        },
      },
    );
    return { status, body };
  }

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['People', 'Pets']));
    ({ firestore, store } = emulatorVersionStore());
    await db.sql`create table public.people (id int primary key, name text)`;
    await db.sql`insert into public.people select i, 'person ' || i from generate_series(1, 20) i`;
    await db.sql`create table public.pets (id int primary key, kind text)`;
    await db.sql`insert into public.pets values (1, 'cat'), (2, 'dog')`;
    for (const link of config.links) await attachLink({ sql: db.sql, sheetsApi: api, store, link });
    handler = reconcileHttpHandler({
      links: config.links,
      sql: db.sql,
      sheetsApi: api,
      store,
      logger: createLogger({
        write: (line: string) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logged.push({ level: String(entry.severity), message: String(entry.message), fields: entry });
        },
      }),
    });
  });
  afterAll(async () => {
    await firestore?.terminate();
    await emulator?.close();
  });

  it('repairs drift on both sides of every link, and reports it first with dryRun=true', async () => {
    // Drift behind the triggers' back: the table without capture, the sheet through the API.
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.people set name = 'db drift' where id = 3`;
      await tx`update public.pets set kind = 'ferret' where id = 2`;
    });
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'People!B6',
      valueInputOption: 'RAW',
      requestBody: { values: [['sheet drift']] },
    });

    const dry = await call({ dryRun: 'true' });
    expect(dry.status).toBe(200);
    expect(dry.body.links.map((l) => [l.link, l.ok, l.cellsToDb, l.cellsToSheet, l.dryRun])).toEqual([
      ['people', true, 1, 1, true],
      ['pets', true, 0, 1, true],
    ]);
    expect(tabValues(emulator, spreadsheetId, 'Pets!B3')).toEqual([['dog']]);

    const run = await call();
    expect(run.status).toBe(200);
    expect(run.body.links.map((l) => [l.link, l.ok, l.cellsToDb, l.cellsToSheet])).toEqual([
      ['people', true, 1, 1],
      ['pets', true, 0, 1],
    ]);
    expect(tabValues(emulator, spreadsheetId, 'People!B4')).toEqual([['db drift']]);
    expect(tabValues(emulator, spreadsheetId, 'Pets!B3')).toEqual([['ferret']]);
    expect((await db.sql`select name from public.people where id = 5`)[0]!.name).toBe('sheet drift');
    expect(logged.filter((l) => l.message === 'reconciled a link').map((l) => l.fields.link)).toEqual([
      'people',
      'pets',
      'people',
      'pets',
    ]);

    // Nothing left to do.
    const again = await call({ link: 'people' });
    expect(again.body.links).toEqual([
      expect.objectContaining({ link: 'people', ok: true, cellsToDb: 0, cellsToSheet: 0 }),
    ]);
  });

  it('answers 400 for an unknown link or a malformed query, and runs nothing', async () => {
    const unknown = await call({ link: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('SHEETSYNC_E101');
    expect(unknown.body.error.message).toContain('"people", "pets"');
    expect((await call({ dryRun: 'yes' })).status).toBe(400);
    expect((await call({ link: ['people', 'pets'] })).status).toBe(400);
  });

  it('answers 500 naming the link that failed; the other links still reconcile', async () => {
    await db.sql`alter table public.pets rename to pets_gone`;
    try {
      await db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update public.people set name = 'later drift' where id = 7`;
      });
      const run = await call();
      expect(run.status).toBe(500);
      const [people, pets] = run.body.links as [Answer['links'][number], Answer['links'][number]];
      expect(people).toMatchObject({ link: 'people', ok: true, cellsToSheet: 1 });
      expect(pets).toMatchObject({ link: 'pets', ok: false });
      expect(pets.code).toMatch(/^SHEETSYNC_E\d{3}$/);
      expect(tabValues(emulator, spreadsheetId, 'People!B8')).toEqual([['later drift']]);
      expect(
        logged.some((l) => l.level === 'ERROR' && l.fields.link === 'pets' && l.fields.code === pets.code),
      ).toBe(true);
    } finally {
      await db.sql`alter table public.pets_gone rename to pets`;
    }
  });
});
