/**
 * attach sets up typed columns from the table's schema (issue 22, item 1): a PostgreSQL table
 * with a boolean, an enum, a date, a numeric, a CHECK (col IN (...)), an identity key and a
 * generated column, attached to the local sheet; the rules and formats are read back through
 * the real googleapis client (spreadsheets.get with grid data), and a person typing a value
 * outside the enum is refused by the sheet.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import type { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { type Logger, silentLogger } from '../../functions/src/log.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';

describe('attach: typed columns', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let firestore: Firestore;
  let store: FirestoreVersionStore;
  let api: SheetsApi;
  const spreadsheetId = uniqueName('typed');

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['Accounts']));
    ({ firestore, store } = emulatorVersionStore());
  });
  afterAll(async () => {
    await firestore?.terminate();
    await emulator?.close();
  });

  const link = parseConfig({
    links: [{ name: 'accounts', spreadsheetId, sheet: 'Accounts', table: 'public.accounts' }],
  }).links[0]!;
  const attach = () => attachLink({ sql: db.sql, sheetsApi: api, store, link });

  async function gridCells(): Promise<{
    headers: string[];
    row2: sheets_v4.Schema$CellData[];
    protectedRanges: sheets_v4.Schema$ProtectedRange[];
  }> {
    const { data } = await api.client.spreadsheets.get({
      spreadsheetId,
      ranges: ['Accounts!A1:K2'],
      includeGridData: true,
      fields:
        'sheets(protectedRanges(range,description,warningOnly),data.rowData.values(formattedValue,userEnteredFormat.numberFormat,dataValidation))',
    });
    const sheet = data.sheets?.[0];
    const rows = sheet?.data?.[0]?.rowData ?? [];
    return {
      headers: (rows[0]?.values ?? []).map((cell) => cell.formattedValue ?? ''),
      row2: rows[1]?.values ?? [],
      protectedRanges: sheet?.protectedRanges ?? [],
    };
  }
  const userEdit = (range: string, value: unknown) =>
    fetch(`${emulator.url}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions: [{ type: 'edit', range, values: [[value]] }] }),
    });

  it('gives booleans a checkbox, enums and IN lists a strict dropdown, dates and numbers formats, and protects database-owned columns', async () => {
    await db.sql`create type public.plan_kind as enum ('free', 'pro', 'team')`;
    await db.sql`create table public.accounts (
      id bigint generated always as identity primary key,
      active boolean,
      plan public.plan_kind,
      renews date,
      price numeric(10,2),
      stage text check (stage in ('lead', 'won', 'lost')),
      note text,
      total numeric generated always as (price * 2) stored)`;
    await db.sql`insert into public.accounts (active, plan, renews, price, stage, note)
      values (true, 'pro', '2026-03-15', 12.5, 'won', 'first'), (false, 'free', null, 3, 'lead', null)`;

    expect(await attach()).toMatchObject({ mode: 'table-to-sheet', rows: 2 });

    const { headers, row2, protectedRanges } = await gridCells();
    expect(headers).toEqual([
      'id',
      'active',
      'plan',
      'renews',
      'price',
      'stage',
      'note',
      'total',
      '_sheetsync_id',
    ]);
    const at = (name: string) => row2[headers.indexOf(name)] ?? {};
    expect(at('active').dataValidation).toEqual({ condition: { type: 'BOOLEAN' }, strict: true });
    expect(at('plan').dataValidation).toEqual({
      condition: {
        type: 'ONE_OF_LIST',
        values: [{ userEnteredValue: 'free' }, { userEnteredValue: 'pro' }, { userEnteredValue: 'team' }],
      },
      strict: true,
      showCustomUi: true,
    });
    expect(at('stage').dataValidation?.condition?.values?.map((v) => v.userEnteredValue)).toEqual([
      'lead',
      'won',
      'lost',
    ]);
    expect(at('renews').userEnteredFormat?.numberFormat).toEqual({ type: 'DATE', pattern: 'yyyy-mm-dd' });
    // No DATE_IS_VALID while dates are written as text (column-formats.ts).
    expect(at('renews').dataValidation).toBeUndefined();
    expect(at('price').userEnteredFormat?.numberFormat).toEqual({ type: 'NUMBER', pattern: '0.00' });
    expect(at('price').formattedValue).toBe('12.50');
    expect(at('note')).toEqual({ formattedValue: 'first' });
    // The id and the generated total are the database's: warned, not locked.
    const warned = (column: string) =>
      protectedRanges.filter(
        (p) =>
          p.range?.startColumnIndex === headers.indexOf(column) &&
          p.range?.endColumnIndex === headers.indexOf(column) + 1,
      );
    expect(warned('id')).toEqual([
      {
        range: { sheetId: 0, startColumnIndex: 0, endColumnIndex: 1 },
        description: 'sheetsync: id is set by the database (identity); edits here do not reach the table',
        warningOnly: true,
      },
    ]);
    expect(warned('total').map((p) => p.warningOnly)).toEqual([true]);
    expect(warned('_sheetsync_id')).toHaveLength(1);
    // Rows the grid holds beyond the data get the rules too (a person adds a row there).
    const { data } = await api.client.spreadsheets.get({
      spreadsheetId,
      ranges: ['Accounts!B900'],
      includeGridData: true,
      fields: 'sheets.data.rowData.values.dataValidation',
    });
    expect(data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.[0]?.dataValidation?.condition?.type).toBe(
      'BOOLEAN',
    );
  });

  it('a value outside the enum typed into the sheet is refused; one of its labels is taken', async () => {
    const refused = await userEdit('Accounts!C2', 'enterprise');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'Input must be an item on the specified list.',
    );
    expect((await userEdit('Accounts!C2', 'team')).status).toBe(200);
    const { data } = await api.client.spreadsheets.values.get({ spreadsheetId, range: 'Accounts!C2' });
    expect(data.values).toEqual([['team']]);
  });

  it('attach run again keeps the rules, protects nothing twice, and sets up a column added since', async () => {
    const before = (await gridCells()).protectedRanges.length;
    await db.sql`alter table public.accounts add column vip boolean`;
    // A person (or the sync) adds the new column's header after the others.
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Accounts!J1',
      valueInputOption: 'RAW',
      requestBody: { values: [['vip']] },
    });
    expect(await attach()).toMatchObject({ mode: 'reconcile' });
    const { headers, row2, protectedRanges } = await gridCells();
    expect(protectedRanges).toHaveLength(before);
    expect(row2[headers.indexOf('vip')]?.dataValidation).toEqual({
      condition: { type: 'BOOLEAN' },
      strict: true,
    });
    expect(row2[headers.indexOf('active')]?.dataValidation).toEqual({
      condition: { type: 'BOOLEAN' },
      strict: true,
    });
  });

  it('a failure to set up the typed columns is reported (SHEETSYNC_E430) and attach still succeeds', async () => {
    const warnings: Array<[string, unknown]> = [];
    const logger: Logger = { ...silentLogger, warn: (message, labels) => warnings.push([message, labels]) };
    // Two attempts, quick backoff: the rules' batchUpdate is this attach's only write (reconcile
    // finds nothing to repair), and the sheet fails every write now.
    const impatient = new SheetsApi({
      rootUrl: emulator.url,
      logger: silentLogger,
      maxAttempts: 2,
      backoffBaseMs: 1,
    });
    const faults = (body: unknown) =>
      fetch(`${emulator.url}/_emulator/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await faults({ failNext: 100, target: 'write' })).status).toBe(200);
    try {
      const result = await attachLink({ sql: db.sql, sheetsApi: impatient, store, link, logger });
      expect(result).toMatchObject({ mode: 'reconcile' });
    } finally {
      await faults({ failNext: 0, target: 'all' });
    }
    expect(warnings).toEqual([
      [expect.stringContaining("the sheet's typed columns"), { code: 'SHEETSYNC_E430', link: 'accounts' }],
    ]);
  });
});
