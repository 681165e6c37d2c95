/**
 * A link's `key` (issue 18): the columns that identify a row to people when the primary key is a
 * serial id the sheet does not show. Start-up refuses a key that is not one (E111, naming
 * `links[i].key`); a row typed in the sheet whose key the table holds updates that row instead of
 * adding another. Against real PostgreSQL, the Firestore emulator and the local sheet.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLinks } from '../../cli/src/links.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { createPostgresTable } from '../../functions/src/adapters/table/postgres-table.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { createApplyToDb } from '../../functions/src/handlers/apply-to-db.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { emulatorVersionStore } from '../support/local-sheet.ts';
import { useTestDatabase } from '../support/postgres.ts';

describe("a link's key", () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let api: SheetsApi;
  const { firestore, store } = emulatorVersionStore();

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId: 'keys', sheets: [{ title: 'People' }] }, 'api');
    api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger });
    await installSchema(db.sql);
    await db.sql`create table public.people (id bigint generated always as identity primary key, email text not null unique, name text, nickname text, team text not null default 'core')`;
    await watchTable(db.sql, 'public.people', 'people');
  });
  afterAll(async () => {
    await emulator?.close();
    await firestore.terminate();
  });

  const link = (key: string[]) =>
    parseConfig({
      links: [{ name: 'people', spreadsheetId: 'keys', sheet: 'People', table: 'public.people', key }],
    });

  it('refuses at start-up a key that is not unique, or may be NULL, naming the field', async () => {
    await expect(checkLinks(link(['email']), { sql: db.sql, sheetsApi: api })).resolves.toBeDefined();
    for (const [key, why] of [
      [['team'], /is not unique: no unique index/],
      [['nickname'], /may be NULL/],
      [['phone'], /has no column "phone"/],
    ] as const) {
      const problem = await checkLinks(link([...key]), { sql: db.sql, sheetsApi: api }).catch((e) => e);
      expect(problem.problems).toEqual([
        expect.objectContaining({
          field: 'links[0].key',
          code: 'SHEETSYNC_E111',
          message: expect.stringMatching(why),
        }),
      ]);
    }
  });

  it('a row typed in the sheet with a key the table holds updates that row', async () => {
    await db.sql`insert into public.people (email, name) values ('ada@example.com', 'Ada')`;
    const apply = createApplyToDb({
      table: createPostgresTable(db.sql),
      store,
      links: new Map([
        ['people', { table: 'public.people', policy: { default: 'last-writer-wins' }, key: ['email'] }],
      ]),
      logger: silentLogger,
      reportProblems: async () => {},
    });
    const typed = (email: string, name: string) => ({
      message: [
        {
          v: 1 as const,
          link: 'people',
          rowId: randomUUID(),
          op: 'upsert' as const,
          cells: { email, name },
          isNew: true,
          eventId: randomUUID(),
          time: Date.now(),
        },
      ],
      attempt: 5,
    });
    expect(
      await apply.flush([typed('ada@example.com', 'Ada Lovelace'), typed('grace@example.com', 'Grace')]),
    ).toEqual(['ack', 'ack']);
    expect(await db.sql`select email, name from public.people order by id`).toEqual([
      { email: 'ada@example.com', name: 'Ada Lovelace' },
      { email: 'grace@example.com', name: 'Grace' },
    ]);
  });
});
