/**
 * issue 7, done when: reconcile finds and repairs 100 drifted cells planted directly on both
 * sides, bypassing the triggers, in a 100,000-row link (RECONCILE_SCALE_ROWS changes the size).
 * The link is attached first; then 50 cells drift in PostgreSQL (session_replication_role =
 * replica, so no trigger fires) and 50 in the sheet (values.batchUpdate through the Sheets API,
 * which fires no Apps Script trigger). Each command runs in a child process
 * (test/support/sync-child.ts), so its peak RSS is its own.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { compareSheetWithTable, createBigTable, runSyncChild } from '../support/big-link.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import type { SyncChildInput } from '../support/sync-child.ts';

const ROWS = Number(process.env.RECONCILE_SCALE_ROWS ?? 100_000);
const DB_DRIFT = 50;
const SHEET_DRIFT = 50;

describe(`reconcile of a ${ROWS}-row link`, () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let input: Omit<SyncChildInput, 'command'>;
  const spreadsheetId = uniqueName('reconcile-scale');
  // Rows spread over the whole table; the two sides drift in different rows.
  const dbRows = Array.from({ length: DB_DRIFT }, (_, i) => 1 + Math.floor((i * ROWS) / DB_DRIFT));
  const sheetRows = Array.from(
    { length: SHEET_DRIFT },
    (_, i) => ROWS - Math.floor((i * ROWS) / SHEET_DRIFT),
  );

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Big', sheetId: 0 }] }, 'api');
    await createBigTable(db.sql, 'public.big', ROWS);
    await installSchema(db.sql);
    await watchTable(db.sql, 'public.big', 'big');
    input = {
      databaseUrl: db.url,
      sheetsApiUrl: emulator.url,
      firestoreHost: inject('firestoreEmulatorHost'),
      root: uniqueName('links'),
      link: { name: 'big', spreadsheetId, sheet: 'Big', table: 'public.big' },
    };
    const attach = await runSyncChild({ command: 'attach', ...input });
    expect(attach.result).toMatchObject({ mode: 'table-to-sheet', rows: ROWS });
  }, 1_500_000);
  afterAll(async () => {
    await emulator?.close();
  });

  it('finds the 100 drifted cells, repairs both sides, and leaves them equal', async () => {
    expect(new Set([...dbRows, ...sheetRows]).size).toBe(DB_DRIFT + SHEET_DRIFT);
    // PostgreSQL, behind the triggers' back: half the rows get a new name, half a new amount.
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      const [names, amounts] = [dbRows.filter((_, i) => i % 2 === 0), dbRows.filter((_, i) => i % 2 === 1)];
      await tx`update public.big set name = 'db drift ' || id where id = any(${names}::bigint[])`;
      await tx`update public.big set amount = amount + 0.5 where id = any(${amounts}::bigint[])`;
    });
    // The capture triggers are installed, and saw nothing.
    expect(await db.sql`select count(*)::int as n from sheetsync.outbox`).toEqual([{ n: 0 }]);
    // The sheet, through the Sheets API: half the rows get a new note, half flip their flag.
    // Row id i sits on sheet row i + 1 (attach writes in key order, under the header).
    const data = sheetRows.map((id, i) =>
      i % 2 === 0
        ? { range: `Big!F${id + 1}`, values: [[`sheet drift ${id}`]] }
        : { range: `Big!D${id + 1}`, values: [[id % 3 !== 0]] },
    );
    const response = await fetch(`${emulator.url}/v4/spreadsheets/${spreadsheetId}/values:batchUpdate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ valueInputOption: 'RAW', data }),
    });
    expect(response.status).toBe(200);

    const dry = await runSyncChild({ command: 'reconcile --dry-run', ...input });
    console.log(
      `reconcile --dry-run of ${ROWS} rows: ${dry.seconds} s (${Math.round(ROWS / dry.seconds)} rows/s), peak RSS ${dry.maxRssMb.toFixed(0)} MB`,
    );
    expect(dry.result).toEqual({
      rowsCompared: ROWS,
      cellsToDb: SHEET_DRIFT,
      cellsToSheet: DB_DRIFT,
      conflicts: 0,
      rowsInsertedInDb: 0,
      rowsAppendedToSheet: 0,
      rowsDeletedFromDb: 0,
      rowsDeletedFromSheet: 0,
      idsAssigned: 0,
      deletesRefused: [],
      badCells: [],
      held: [],
      dryRun: true,
    });
    // A dry run changes nothing.
    expect(tabValues(emulator, spreadsheetId, `Big!B${dbRows[0]! + 1}`)).toEqual([[`name ${dbRows[0]}`]]);
    expect((await db.sql`select note from public.big where id = ${sheetRows[0]!}`)[0]!.note).not.toMatch(
      /sheet drift/,
    );

    const repair = await runSyncChild({ command: 'reconcile', ...input });
    console.log(
      `reconcile of ${ROWS} rows: ${repair.seconds} s (${Math.round(ROWS / repair.seconds)} rows/s), peak RSS ${repair.maxRssMb.toFixed(0)} MB`,
    );
    expect(repair.result).toMatchObject({
      rowsCompared: ROWS,
      cellsToDb: SHEET_DRIFT,
      cellsToSheet: DB_DRIFT,
      conflicts: 0,
      dryRun: false,
    });
    expect(repair.maxRssMb).toBeLessThanOrEqual(300);

    const compared = await compareSheetWithTable(emulator, spreadsheetId, 'Big', db.sql, 'public.big');
    expect(compared.examples).toEqual([]);
    expect(compared).toMatchObject({ rows: ROWS, mismatches: 0, ids: ROWS });
    // The planted values won on the side that did not have them.
    expect(tabValues(emulator, spreadsheetId, `Big!B${dbRows[0]! + 1}`)).toEqual([[`db drift ${dbRows[0]}`]]);
    expect((await db.sql`select note from public.big where id = ${sheetRows[0]!}`)[0]!.note).toBe(
      `sheet drift ${sheetRows[0]}`,
    );

    const after = await runSyncChild({ command: 'reconcile --dry-run', ...input });
    expect(after.result).toMatchObject({ rowsCompared: ROWS, cellsToDb: 0, cellsToSheet: 0, conflicts: 0 });
  }, 1_500_000);
});
