/**
 * Values longer than a sheet cell holds (Google: 50,000 characters; a longer write fails the
 * whole request with 400, which the local sheet does too): the sheet shows the value's start and
 * a note (coercion.sheetPreview), the table keeps it whole, and neither the sheet sending the
 * preview back nor reconcile takes the preview for a new value. Through the real apps-script/,
 * the webhook, Google's Pub/Sub and Firestore emulators, applyToDb, the relay and applyToSheet;
 * attach and reconcile against the local sheet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { SHEET_CELL_MAX_CHARS, sheetPreview } from '../../functions/src/core/coercion.ts';
import { createLogger } from '../../functions/src/log.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { reconcileLink } from '../../functions/src/sync-jobs/reconcile.ts';
import { startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { useSyncHarness } from '../support/sync-harness.ts';
import { waitFor } from '../support/wait.ts';

/** 60,000 characters, different from start to end. */
const long = (seed: string) =>
  Array.from({ length: 10_000 }, (_, i) => `${seed}${String(i).padStart(5, '0')}`).join('');

describe('values too long for a sheet cell', () => {
  const db = useTestDatabase();

  describe('attach and reconcile', () => {
    const spreadsheetId = uniqueName('long');
    let emulator: Emulator;
    let api: SheetsApi;

    beforeAll(async () => {
      ({ emulator, api } = await startLocalSheet(spreadsheetId, ['Notes']));
      await db.sql`create table public.notes (id int primary key, body text, doc jsonb)`;
    });
    afterAll(() => emulator?.close());

    it('fills the sheet with previews, and reconcile sees no drift in them', async () => {
      const body = long('b');
      const doc = { items: Array.from({ length: 4_000 }, (_, i) => ({ n: i, text: 'some words' })) };
      await db.sql`insert into public.notes values (1, ${body}, ${db.sql.json(doc)}), (2, 'short', '{}')`;
      const link = parseConfig({
        links: [{ name: 'notes', spreadsheetId, sheet: 'Notes', table: 'public.notes' }],
      }).links[0]!;
      const store = new MemoryVersionStore();
      await attachLink({ sql: db.sql, sheetsApi: api, store, link });
      const rows = tabValues(emulator, spreadsheetId, 'Notes!A1:D3');
      expect(rows[0]!.slice(0, 3)).toEqual(['id', 'body', 'doc']);
      expect(rows[1]![1]).toBe(sheetPreview(body));
      expect(String(rows[1]![1]).length).toBe(SHEET_CELL_MAX_CHARS);
      expect(String(rows[1]![1])).toMatch(/^b00000b00001.*characters in the database/s);
      expect(rows[1]![2]).toBe(sheetPreview(JSON.stringify(doc)));
      expect(rows[2]!.slice(0, 3)).toEqual([2, 'short', '{}']);

      const dry = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: true });
      expect(dry).toMatchObject({
        rowsCompared: 2,
        cellsToDb: 0,
        cellsToSheet: 0,
        conflicts: 0,
        badCells: [],
      });

      // The table changes the long value: reconcile shows the new one's preview; the table keeps it.
      const body2 = long('c');
      await db.sql`update public.notes set body = ${body2} where id = 1`;
      const repaired = await reconcileLink({ sql: db.sql, sheetsApi: api, store, link, dryRun: false });
      expect(repaired).toMatchObject({ cellsToDb: 0, cellsToSheet: 1 });
      expect(tabValues(emulator, spreadsheetId, 'Notes!B2')[0]![0]).toBe(sheetPreview(body2));
      expect((await db.sql`select body from public.notes where id = 1`)[0]!.body).toBe(body2);
    });
  });

  describe('the sync pipeline', () => {
    const warnings: string[] = [];

    const h = useSyncHarness(db, {
      table: 'public.items',
      headers: ['sku', 'note', 'qty'],
      createTable: (sql) => sql`create table public.items (sku text primary key, note text, qty integer)`,
      logger: createLogger({
        level: 'WARNING',
        write: (line) => {
          warnings.push(line);
        },
      }),
    });

    const rowOf = (sku: string) => h.tabValues().find((r) => r[0] === sku);
    const noteOf = async (sku: string) =>
      (await h.sql<{ note: string }[]>`select note from items where sku = ${sku}`)[0]?.note;

    it('shows a preview, keeps the value whole when the sheet sends the preview back, and takes what a person types', async () => {
      const note = long('n');
      // One statement: the long row must not hold back the other.
      await h.sql`insert into items values ('A-1', ${note}, 1), ('B-2', 'short', 2)`;
      await waitFor(
        'both rows on the sheet',
        async () => rowOf('A-1') !== undefined && rowOf('B-2') !== undefined,
      );
      expect(rowOf('A-1')!.slice(0, 3)).toEqual(['A-1', sheetPreview(note), 1]);
      expect(rowOf('B-2')!.slice(0, 3)).toEqual(['B-2', 'short', 2]);
      expect(
        warnings.some((line) => line.includes('SHEETSYNC_E509') && !line.includes(note.slice(0, 100))),
      ).toBe(true);

      // The person pastes the row over itself with a new qty: the preview comes back unchanged.
      const row = h.tabValues().findIndex((r) => r[0] === 'A-1') + 1;
      await h.act([
        { type: 'edit', range: `Rows!A${row}:C${row}`, values: [['A-1', sheetPreview(note), 10]] },
      ]);
      await waitFor(
        'qty 10',
        async () => (await h.sql`select qty from items where sku = 'A-1'`)[0]?.qty === 10,
      );
      expect(await noteOf('A-1')).toBe(note);
      expect(h.problems).toEqual([]);

      // The person types over it: that replaces the value.
      await h.act([{ type: 'edit', range: `Rows!B${row}`, values: [['rewritten']] }]);
      await waitFor('the typed note', async () => (await noteOf('A-1')) === 'rewritten');

      // 50,000 characters typed where a number goes: the errors tab lists it, cut short (the
      // whole value in two of its cells would not fit the sheet).
      await h.act([{ type: 'edit', range: `Rows!C${row}`, values: [['x'.repeat(SHEET_CELL_MAX_CHARS)]] }]);
      const errorRows = () => {
        const tab = h.emulator.model
          .get(h.spreadsheetId)
          ?.sheets.some((s) => s.title === '_sheetsync_errors');
        return tab ? tabValues(h.emulator, h.spreadsheetId, '_sheetsync_errors!A2:H3') : [];
      };
      await waitFor('the problem on the errors tab', async () => errorRows().length > 0);
      const errors = [[], ...errorRows()];
      expect(errors[1]![5]).toBe(`${'x'.repeat(1_000)}… (50,000 characters)`);
      expect(String(errors[1]![6])).toMatch(/^SHEETSYNC_E407: "x{100}.*… \(\d{1,3},\d{3} characters\)$/s);
      expect(String(errors[1]![6]).length).toBeLessThan(2_100);
    }, 120_000);
  });
});
