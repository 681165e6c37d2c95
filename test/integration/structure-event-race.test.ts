/**
 * A `structure` event lists the sync ids the tab held when the script read them. A row the
 * database inserted and applyToSheet appended after that read is missing from the list without
 * having been deleted, yet it is live by the time the webhook compares (or the event waited in
 * the script's queue while the webhook was down). applyToDb must not delete it; a row deleted
 * on the sheet after it appeared there still is deleted.
 * Real PostgreSQL, capture trigger, relay, Pub/Sub and Firestore emulators, applyToSheet on the
 * local sheet, then applyToDb with the same version store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresTable } from '../../functions/src/adapters/table/postgres-table.ts';
import { createApplyToDb } from '../../functions/src/handlers/apply-to-db.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';
import { type DbToSheetStack, startDbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { waitFor } from '../support/wait.ts';

describe('a structure event read before a row reached the sheet', () => {
  const db = useTestDatabase();
  let stack: DbToSheetStack;
  let applyToDb: ReturnType<typeof createApplyToDb>;

  beforeAll(async () => {
    stack = await startDbToSheetStack(db.sql, {
      table: 'public.leads',
      headers: ['id', 'name'],
      createTable: (sql) => sql`create table public.leads (id int primary key, name text)`,
    });
    applyToDb = createApplyToDb({
      table: createPostgresTable(db.sql),
      store: stack.store,
      links: new Map([['leads', { table: 'public.leads', policy: { default: 'last-writer-wins' } }]]),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const rows = () => tabValues(stack.emulator, stack.spreadsheetId, 'Leads!A2:C20');
  /** The deletes the webhook makes of a structure event: live rows whose id the list lacks. */
  async function structureEvent(ids: string[], time: number) {
    const present = new Set(ids);
    const eventId = randomUUID();
    const deletes: SheetChangeMessage[] = (await stack.store.liveRowIds('leads'))
      .filter((rowId) => !present.has(rowId))
      .map((rowId) => ({ v: 1, link: 'leads', rowId, op: 'delete', cells: {}, isNew: false, eventId, time }));
    return applyToDb.flush([{ message: deletes, attempt: 1 }]);
  }

  it('keeps a row appended after the ids were read, and deletes one removed after it appeared', async () => {
    await db.sql`insert into leads values (1, 'Ada')`;
    await waitFor('Ada on the sheet', async () => rows().length === 1);
    const adaId = String(rows()[0]![2]);
    await waitFor("Ada's row document", async () => (await stack.store.liveRowIds('leads')).includes(adaId));

    // The person deletes some other row; the script reads the tab's ids (Ada's only), and only
    // then does applyToSheet append Grace, whom the database just inserted.
    const readAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await db.sql`insert into leads values (2, 'Grace')`;
    await waitFor('Grace on the sheet', async () => rows().length === 2);
    const graceId = String(rows()[1]![2]);
    await waitFor("Grace's row document", async () =>
      (await stack.store.liveRowIds('leads')).includes(graceId),
    );
    // The event reaches the webhook now: Grace is live and not in the list.
    expect(await structureEvent([adaId], readAt)).toEqual(['ack']);
    expect(await db.sql`select id, name from leads order by id`).toEqual([
      { id: 1, name: 'Ada' },
      { id: 2, name: 'Grace' },
    ]);
    expect((await stack.store.liveRowIds('leads')).sort()).toEqual([adaId, graceId].sort());

    // A person deletes Grace's row after it appeared: that deletion reaches the table.
    await stack.api.client.spreadsheets.batchUpdate({
      spreadsheetId: stack.spreadsheetId,
      requestBody: {
        requests: [
          { deleteDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 2, endIndex: 3 } } },
        ],
      },
    });
    expect(await structureEvent([adaId], Date.now())).toEqual(['ack']);
    expect(await db.sql`select id, name from leads order by id`).toEqual([{ id: 1, name: 'Ada' }]);
  });
});
