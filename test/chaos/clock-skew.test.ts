/**
 * Clock skew of ±2 minutes between the sides under last-writer-wins (issue 17, fault suite).
 * The sheet's clock (the time the script stamps on an edit) runs 2 minutes behind or ahead of the
 * database's and the functions' clocks. Real PostgreSQL with its capture trigger, the relay, the
 * Pub/Sub and Firestore emulators, applyToSheet on the local sheet, and the webhook and applyToDb
 * with the same version store: a person's edit is typed into the local sheet, its event signed
 * and posted to the webhook with the sheet's clock (as the script does), and what the webhook
 * publishes delivered to applyToDb until it acks it.
 *
 * For each skew, one cell is changed on both sides concurrently (the person typed before the
 * sheet showed the table's write; the event reaches the webhook after it) and one after the sheet
 * showed it. The webhook moves the event's time onto its clock (sheet-webhook/sheet-clock.ts), so
 * the outcome follows the hybrid-logical-clock order of the real events: the concurrent edit,
 * made first, loses to the table's write and is recorded; the later edit wins. Before, the
 * sheet and the table ended apart in one case of each skew.
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresTable } from '../../functions/src/adapters/table/postgres-table.ts';
import { parseConfig } from '../../functions/src/config.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { compareHlc } from '../../functions/src/core/hlc.ts';
import { createApplyToDb } from '../../functions/src/handlers/apply-to-db.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { parseSheetChanges, type SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';
import { type DbToSheetStack, startDbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { waitFor } from '../support/wait.ts';

const SKEW_MS = 2 * 60_000;
const MASTER = 'clock-skew-test-webhook-secret';

describe('chaos: clock skew of ±2 minutes under last-writer-wins', () => {
  const db = useTestDatabase();
  let stack: DbToSheetStack;
  let applyToDb: ReturnType<typeof createApplyToDb>;
  let firestore: Firestore;
  let webhook: WebhookDeps;
  const published: SheetChangeMessage[] = [];

  beforeAll(async () => {
    stack = await startDbToSheetStack(db.sql, {
      table: 'public.items',
      headers: ['id', 'qty'],
      createTable: (sql) => sql`create table public.items (id int primary key, qty int)`,
    });
    applyToDb = createApplyToDb({
      table: createPostgresTable(db.sql),
      store: stack.store,
      links: new Map([['leads', { table: 'public.items', policy: { default: 'last-writer-wins' } }]]),
      logger: silentLogger,
    });
    webhook = {
      config: parseConfig({
        links: [{ name: 'leads', spreadsheetId: stack.spreadsheetId, sheet: 'Leads', table: 'public.items' }],
      }),
      secrets: [MASTER],
      replayGuard: memoryReplayGuard(),
      publish: async (messages) => {
        for (const m of messages) published.push(...parseSheetChanges(Buffer.from(JSON.stringify(m.data))));
      },
      liveRowIds: (link, idPrefix) => stack.store.liveRowIds(link, idPrefix),
      logger: silentLogger,
    };
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
  });
  afterAll(async () => {
    await stack?.stop();
    await firestore?.terminate();
  });

  const rows = () => tabValues(stack.emulator, stack.spreadsheetId, 'Leads!A2:C50');
  const sheetRow = (id: number) => rows().find((r) => r[0] === id);
  const tableQty = async (id: number) =>
    (await db.sql<{ qty: number }[]>`select qty from items where id = ${id}`)[0]?.qty;

  /** A row the table inserted, once the sheet shows it; its sync id. */
  async function newRow(id: number): Promise<string> {
    await db.sql`insert into items values (${id}, 0)`;
    await waitFor(`row ${id} on the sheet`, async () => sheetRow(id)?.[2]);
    const rowId = String(sheetRow(id)![2]);
    await waitFor(`row ${id}'s document`, async () =>
      (await stack.store.liveRowIds('leads')).includes(rowId),
    );
    return rowId;
  }

  /**
   * A person types `qty` into the row now, on a sheet whose clock is `skew` ms off; returns what
   * sends its event to the webhook, as the script does (now or later, from its queue).
   */
  async function type(id: number, rowId: string, qty: number, skew: number) {
    const time = Date.now() + skew;
    const at = rows().findIndex((r) => r[0] === id) + 2;
    await stack.api.client.spreadsheets.values.update({
      spreadsheetId: stack.spreadsheetId,
      range: `Leads!B${at}`,
      valueInputOption: 'RAW',
      requestBody: { values: [[qty]] },
    });
    const event = {
      v: 1,
      kind: 'edit',
      eventId: randomUUID(),
      spreadsheetId: stack.spreadsheetId,
      sheet: 'Leads',
      sheetId: 0,
      headers: ['id', 'qty', '_sheetsync_id'],
      time,
      rows: [{ rowId, row: at, isNew: false, cells: { qty } }],
    };
    /** Signs and posts it by the sheet's clock; the one change the webhook published. */
    return async (): Promise<SheetChangeMessage> => {
      const rawBody = Buffer.from(JSON.stringify(event));
      const headers = signedHeaders(MASTER, stack.spreadsheetId, rawBody, { timestamp: Date.now() + skew });
      const before = published.length;
      const answer = await handleWebhook({ method: 'POST', headers, rawBody }, webhook);
      expect(answer.status).toBe(200);
      expect(published.length).toBe(before + 1);
      return published.at(-1)!;
    };
  }

  /** Delivers the change as Pub/Sub would: again after each deferral, until applyToDb acks it. */
  async function deliver(change: SheetChangeMessage): Promise<void> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [outcome] = await applyToDb.flush([{ message: [change], attempt }]);
      if (outcome === 'ack') return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error('the change was still deferred after 5 deliveries');
  }

  const conflictsOf = async (rowId: string) =>
    (await firestore.collectionGroup('conflicts').where('rowId', '==', rowId).get()).docs.map(
      (d) => d.data() as unknown as ConflictRecord,
    );

  it.each([
    ['behind', -SKEW_MS],
    ['ahead', SKEW_MS],
  ])('the sheet 2 minutes %s', async (_, skew) => {
    const base = skew < 0 ? 10 : 20;
    // Concurrent: the person types 2 just before the table writes 1; the sheet then shows 1.
    const concurrentId = base + 1;
    const concurrent = await newRow(concurrentId);
    const send = await type(concurrentId, concurrent, 2, skew);
    await new Promise((r) => setTimeout(r, 20));
    await db.sql`update items set qty = 1 where id = ${concurrentId}`;
    await waitFor('the table write on the sheet', async () => sheetRow(concurrentId)?.[1] === 1);
    await deliver(await send());

    // After: the table writes 3, the sheet shows it, then the person types 4.
    const afterId = base + 2;
    const after = await newRow(afterId);
    await db.sql`update items set qty = 3 where id = ${afterId}`;
    await waitFor('the table write on the sheet', async () => sheetRow(afterId)?.[1] === 3);
    await new Promise((r) => setTimeout(r, 500));
    await deliver(await (await type(afterId, after, 4, skew))());

    // Both sides end equal: the concurrent edit lost to the later table write, the later edit won.
    await waitFor('the sheet to equal the table', async () => {
      for (const id of [concurrentId, afterId]) if (sheetRow(id)?.[1] !== (await tableQty(id))) return false;
      return true;
    });
    expect(await tableQty(concurrentId)).toBe(1);
    expect(await tableQty(afterId)).toBe(4);
    // The loser is recorded, decided by the events' times on one clock; the later edit is no conflict.
    // (Under load a redelivered flush may record the same conflict twice: each must say the same.)
    const recorded = (await conflictsOf(concurrent)).filter((c) => c.column === 'qty');
    expect(recorded.length).toBeGreaterThan(0);
    for (const conflict of recorded)
      expect(conflict).toMatchObject({ outcome: 'db', policy: 'last-writer-wins' });
    const [conflict] = recorded;
    expect(conflict).toMatchObject({
      column: 'qty',
      reason: 'concurrent',
      policy: 'last-writer-wins',
      outcome: 'db',
    });
    expect(JSON.parse(String(conflict!.sheet.value))).toBe(2);
    expect(JSON.parse(String(conflict!.db.value))).toBe(1);
    expect(compareHlc(conflict!.sheet.time!, conflict!.db.time!)).toBeLessThan(0);
    expect(Math.abs(conflict!.sheet.time!.wall - Date.now())).toBeLessThan(SKEW_MS / 2);
    expect(await conflictsOf(after)).toEqual([]);
  });
});
