/**
 * A row deleted on the sheet that the database will not delete (another table's foreign key
 * references it): the rest of the flush still applies, the row comes back on the sheet where it
 * was, with its sync id and the table's values, and the errors tab says why. Through the real apps-script/,
 * the webhook, Google's Pub/Sub and Firestore emulators, applyToDb, the relay and applyToSheet.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

const COLUMNS = ['sku', 'name', 'qty'];
const TABLE = { schema: 'public', name: 'items', key: ['sku'] };

describe('a sheet delete the database refuses', () => {
  const db = useTestDatabase();

  const h = useSyncHarness(db, {
    table: 'public.items',
    headers: COLUMNS,
    createTable: async (sql) => {
      await sql`create table public.items (sku text primary key, name text, qty integer)`;
      await sql`create table public.orders (id int primary key, sku text not null references public.items (sku))`;
    },
  });

  const converged = (rows: number) => waitForConvergence(h, TABLE, COLUMNS, rows);

  const skus = () =>
    h
      .tabValues()
      .slice(1)
      .map((r) => String(r[0]));

  it('keeps the row in both places, applies the other deletes, and reports why', async () => {
    // Rows from the table: applyToSheet has seen them on the tab, so it knows where each was.
    await h.sql`insert into public.items values ('A-1', 'anvil', 1), ('B-2', 'bolt', 2), ('C-3', 'chain', 3),
      ('D-4', 'drill', 4), ('E-5', 'emery', 5), ('F-6', 'file', 6)`;
    await converged(6);
    expect(skus()).toEqual(['A-1', 'B-2', 'C-3', 'D-4', 'E-5', 'F-6']);
    await h.sql`insert into public.orders values (1, 'C-3')`;
    const idAt = (h.tabValues()[0] as string[]).indexOf('_sheetsync_id');
    const idOfC3 = h.tabValues().find((r) => r[0] === 'C-3')![idAt];
    const problemsBefore = h.problems.length;

    // Rows 3-5 of the sheet: B-2 and D-4 are deletable, C-3 is referenced by an order.
    const deletedAt = Date.now();
    await h.act([{ type: 'deleteRows', sheet: 'Rows', index: 2, count: 3 }]);

    await waitFor('C-3 back on the sheet', async () => skus().includes('C-3'), 30_000);
    await converged(4);
    // Where it was: below A-1, as B-2 above it is gone.
    expect(skus()).toEqual(['A-1', 'C-3', 'E-5', 'F-6']);
    // The same row, not a copy: its sync id came back with it.
    expect(h.tabValues().find((r) => r[0] === 'C-3')![idAt]).toBe(idOfC3);
    const refused = h.problems.slice(problemsBefore);
    expect(refused.map((p) => p.code)).toEqual(['SHEETSYNC_E412']);
    expect(refused[0]!.message).toMatch(/refused to delete the row \(23503\)/);
    expect(refused[0]!.message).toMatch(/orders/);

    // A structure event whose ids were read before the row came back lacks it (one was on its
    // way, or waiting in the script's queue): no one deleted it again, so it is not deleted again.
    const stale = {
      v: 1,
      eventId: randomUUID(),
      kind: 'structure',
      changeType: 'REMOVE_ROW',
      spreadsheetId: h.spreadsheetId,
      sheet: 'Rows',
      sheetId: 0,
      headers: h.tabValues()[0],
      time: deletedAt,
      ids: h
        .tabValues()
        .slice(1)
        .map((r) => r[idAt])
        .filter((id) => id !== idOfC3),
    };
    const raw = Buffer.from(JSON.stringify(stale));
    const ts = String(Date.now());
    const answer = await fetch(h.pipeline.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(h.secret, h.spreadsheetId, raw, { timestamp: Number(ts) }),
      },
      body: raw,
    });
    expect(answer.status).toBe(200);
    await waitFor('the stale event taken', async () => {
      const doc = (await h.store.readRows(h.link, [idOfC3 as string])).get(idOfC3 as string);
      return doc !== undefined && stale.eventId in doc.events;
    });
    await converged(4);
    expect(h.problems.slice(problemsBefore).map((p) => p.code)).toEqual(['SHEETSYNC_E412']);

    // The restored row syncs as before, both ways.
    await h.act([{ type: 'edit', range: `Rows!C${skus().indexOf('C-3') + 2}`, values: [[30]] }]);
    await waitFor(
      'qty 30',
      async () => (await h.sql`select qty from items where sku = 'C-3'`)[0]?.qty === 30,
    );
    await h.sql`update items set name = 'chain, long' where sku = 'C-3'`;
    await waitFor('the new name on the sheet', async () =>
      h.tabValues().some((r) => r[0] === 'C-3' && r[1] === 'chain, long'),
    );
    await converged(4);

    // Once nothing references it, deleting it works.
    await h.sql`delete from public.orders`;
    await h.act([{ type: 'deleteRows', sheet: 'Rows', index: skus().indexOf('C-3') + 1, count: 1 }]);
    await converged(3);
    expect(skus().sort()).toEqual(['A-1', 'E-5', 'F-6']);
  }, 120_000);
});
