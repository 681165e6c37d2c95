/**
 * The emulator's Apps Script runtime, end to end over HTTP: user actions fire the test script's
 * installable triggers (apps-script/test-fixtures/recorder.js), whose handlers report what they
 * received through UrlFetchApp to a webhook served by this same process. Expected event shapes
 * follow https://developers.google.com/apps-script/guides/triggers/events ("Google Sheets
 * events": Edit and Change).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import {
  adminClient,
  type Recorder,
  RECORDER_SCRIPT_DIR as SCRIPT_DIR,
  startRecorder,
} from './emulator-apps-script-recorder.ts';

const SECRET = 'test-secret';
const USER = 'alice@example.com';

let emulator: Emulator;
let client: sheets_v4.Sheets;
let recorder: Recorder;
const stateDir = mkdtempSync(join(tmpdir(), 'emulator-apps-script-'));
const admin = adminClient(() => emulator.url);
const { run, userActions } = admin;
const newSpreadsheet = () => admin.recordedSpreadsheet(recorder.url, SECRET);

beforeAll(async () => {
  recorder = await startRecorder(SECRET);
  emulator = await createEmulator({
    quotas: { enabled: false },
    state: join(stateDir, 'state.json'),
    appsScript: { scriptDir: SCRIPT_DIR, user: USER },
  });
  client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
});

afterAll(async () => {
  await emulator.close();
  await recorder.close();
  rmSync(stateDir, { recursive: true, force: true });
});

beforeEach(() => {
  recorder.reports.length = 0;
});

describe('installable onEdit and onChange fire for user actions', () => {
  it('a single-cell edit: onEdit with value, and oldValue only when the cell had content; onChange EDIT', async () => {
    const id = await newSpreadsheet();
    await userActions(id, [{ type: 'edit', range: 'Sheet1!B2', values: [['first']] }]);
    const [firstEdit] = recorder.reports.filter((r) => r.kind === 'edit');
    // "oldValue … Will be undefined if the cell had no previous content."
    expect(firstEdit?.keys).toEqual(['authMode', 'range', 'source', 'triggerUid', 'user', 'value']);
    recorder.reports.length = 0;

    const response = await userActions(id, [{ type: 'edit', range: 'Sheet1!B2', values: [['42']] }]);
    expect(response.status).toBe(200);
    const edit = recorder.reports.find((r) => r.kind === 'edit');
    expect(edit).toMatchObject({
      keys: ['authMode', 'oldValue', 'range', 'source', 'triggerUid', 'user', 'value'],
      range: 'B2',
      sheet: 'Sheet1',
      value: '42',
      oldValue: 'first',
      user: USER,
      authMode: 'FULL',
      sourceId: id,
      values: [[42]],
      valuesIsArray: true,
    });
    // A change trigger has no range ("Change (installable)": authMode, changeType, source, triggerUid, user).
    const change = recorder.reports.find((r) => r.kind === 'change');
    expect(change).toEqual({
      kind: 'change',
      keys: ['authMode', 'changeType', 'source', 'triggerUid', 'user'],
      changeType: 'EDIT',
      user: USER,
    });
    expect(recorder.badSignatures).toEqual([]);
  });

  it('a paste of a block: onEdit for the whole block without value or oldValue', async () => {
    const id = await newSpreadsheet();
    await userActions(id, [{ type: 'edit', range: 'Sheet1!A3', values: [['old']] }]);
    recorder.reports.length = 0;
    await userActions(id, [
      {
        type: 'edit',
        range: 'Sheet1!A3',
        values: [
          ['a', 'b'],
          ['c', '7'],
        ],
      },
    ]);
    const edits = recorder.reports.filter((r) => r.kind === 'edit');
    expect(edits).toHaveLength(1);
    expect(edits[0]).toMatchObject({
      keys: ['authMode', 'range', 'source', 'triggerUid', 'user'],
      range: 'A3:B4',
      values: [
        ['a', 'b'],
        ['c', 7],
      ],
    });
    expect(recorder.reports.filter((r) => r.kind === 'change').map((r) => r.changeType)).toEqual(['EDIT']);
  });

  it('deleting a row fires onChange REMOVE_ROW and no onEdit; inserting fires INSERT_ROW', async () => {
    const id = await newSpreadsheet();
    await userActions(id, [{ type: 'edit', range: 'Sheet1!A1', values: [['id'], ['1'], ['2']] }]);
    recorder.reports.length = 0;
    const response = await userActions(id, [
      { type: 'deleteRows', sheet: 'Sheet1', index: 1, count: 1 },
      { type: 'insertRows', sheet: 0, index: 1, count: 2 },
    ]);
    expect(response.body.results.map((r: { triggers: unknown[] }) => r.triggers)).toEqual([
      [
        {
          functionName: 'recordChange',
          eventType: 'ON_CHANGE',
          changeType: 'REMOVE_ROW',
          status: 'COMPLETED',
        },
      ],
      [
        {
          functionName: 'recordChange',
          eventType: 'ON_CHANGE',
          changeType: 'INSERT_ROW',
          status: 'COMPLETED',
        },
      ],
    ]);
    expect(recorder.reports.map((r) => `${r.kind}:${r.changeType}`)).toEqual([
      'change:REMOVE_ROW',
      'change:INSERT_ROW',
    ]);
    const values = await client.spreadsheets.values.get({ spreadsheetId: id, range: 'Sheet1!A1:A4' });
    expect(values.data.values).toEqual([['id'], [], [], ['2']]);
  });

  it('a sort fires onEdit for the sorted range and onChange OTHER', async () => {
    const id = await newSpreadsheet();
    await userActions(id, [{ type: 'edit', range: 'Sheet1!A1', values: [['n'], ['3'], ['1'], ['2']] }]);
    recorder.reports.length = 0;
    await userActions(id, [
      {
        type: 'sortRange',
        range: 'Sheet1!A2:A4',
        sortSpecs: [{ dimensionIndex: 0, sortOrder: 'ASCENDING' }],
      },
    ]);
    expect(recorder.reports.find((r) => r.kind === 'edit')).toMatchObject({
      range: 'A2:A4',
      values: [[1], [2], [3]],
    });
    expect(recorder.reports.find((r) => r.kind === 'change')?.changeType).toBe('OTHER');
  });
});

describe('writes that are not a person’s fire nothing', () => {
  it('a write through the Sheets API fires no trigger', async () => {
    const id = await newSpreadsheet();
    const before = emulator.appsScript!.executions(id).length;
    await client.spreadsheets.values.update({
      spreadsheetId: id,
      range: 'Sheet1!A1',
      valueInputOption: 'USER_ENTERED',
      requestBody: { values: [['from the API']] },
    });
    await client.spreadsheets.batchUpdate({
      spreadsheetId: id,
      requestBody: {
        requests: [
          { insertDimension: { range: { sheetId: 0, dimension: 'ROWS', startIndex: 0, endIndex: 1 } } },
        ],
      },
    });
    // Triggers would run within milliseconds; give them far longer than that.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emulator.appsScript!.executions(id).length).toBe(before);
    expect(recorder.reports).toEqual([]);
  });

  it('a write by the script itself fires no trigger', async () => {
    const id = await newSpreadsheet();
    const written = await run(id, 'writeCell', ['C3', '=2*21']);
    expect(written.body).toMatchObject({ status: 'COMPLETED', result: 42 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emulator.appsScript!.executions(id).map((e) => e.functionName)).toEqual([
      'configure',
      'installTriggers',
      'writeCell',
    ]);
  });
});

describe('Range.setNote and setBackground', () => {
  // https://developers.google.com/apps-script/reference/spreadsheet/range#setnotenote
  // ("Sets the note to the given value"; null or '' removes it) and #setbackgroundcolor ("in CSS
  // notation (such as '#ffffff' or 'white')"; null resets it). The API shows both on the cell.
  it('sets a note and a fill, keeps the value, and removes both with null', async () => {
    const id = await newSpreadsheet();
    await client.spreadsheets.values.update({
      spreadsheetId: id,
      range: 'Sheet1!B2',
      valueInputOption: 'RAW',
      requestBody: { values: [['kept']] },
    });
    const cell = async () =>
      (
        await client.spreadsheets.get({
          spreadsheetId: id,
          ranges: ['Sheet1!B2'],
          includeGridData: true,
          fields: 'sheets.data.rowData.values(formattedValue,note,userEnteredFormat)',
        })
      ).data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.[0];
    expect((await run(id, 'decorateCell', ['B2', 'why', '#ff0000'])).body).toMatchObject({
      status: 'COMPLETED',
    });
    expect(await cell()).toEqual({
      formattedValue: 'kept',
      note: 'why',
      userEnteredFormat: { backgroundColor: { red: 1, green: 0, blue: 0 } },
    });
    await run(id, 'decorateCell', ['B2', null, null]);
    expect(await cell()).toEqual({ formattedValue: 'kept' });
    const named = await run(id, 'decorateCell', ['B2', 'x', 'white']);
    expect(named.body).toMatchObject({ status: 'FAILED' });
  });
});

describe('services', () => {
  it('LockService excludes concurrent executions, and tryLock(0) fails while the lock is held', async () => {
    const id = await newSpreadsheet();
    const holder = () =>
      (emulator.model.get(id).appsScript as { properties: { script: Record<string, string> } }).properties
        .script.HOLDER;
    const a = run(id, 'holdLock', ['a', 600]);
    const b = run(id, 'holdLock', ['b', 300]);
    await expect.poll(holder, { timeout: 10_000, interval: 20 }).toBeDefined();
    expect((await run(id, 'tryLockNow')).body.result).toBe(false);
    const spans = [(await a).body.result, (await b).body.result].sort((x, y) => x.start - y.start);
    expect(spans[0].end).toBeLessThanOrEqual(spans[1].start);
    // Each execution released the lock at its end, so a later one gets it at once.
    expect((await run(id, 'tryLockNow')).body.result).toBe(true);
  });

  it('a script exception is recorded, not fatal', async () => {
    const id = await newSpreadsheet();
    const failed = await run(id, 'fail');
    expect(failed.body).toMatchObject({ status: 'FAILED', error: 'Error: deliberate failure' });
    expect((await run(id, 'describeSheet', ['Sheet1'])).body.status).toBe('COMPLETED');
  });

  it('script properties and triggers are saved with the spreadsheet and survive a restart', async () => {
    const id = await newSpreadsheet();
    await emulator.close();
    emulator = await createEmulator({
      quotas: { enabled: false },
      state: join(stateDir, 'state.json'),
      appsScript: { scriptDir: SCRIPT_DIR, user: USER },
    });
    client = sheets({ version: 'v4', rootUrl: `${emulator.url}/`, retry: false });
    await userActions(id, [{ type: 'edit', range: 'Sheet1!A1', values: [['after restart']] }]);
    expect(recorder.reports.find((r) => r.kind === 'edit')).toMatchObject({ value: 'after restart' });
  });

  it('bad user actions get Google-shaped 400s and change nothing', async () => {
    const id = await newSpreadsheet();
    const unknownType = await userActions(id, [{ type: 'fly' }]);
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    const badRange = await userActions(id, [{ type: 'edit', range: 'Nope!A1', values: [['x']] }]);
    expect(badRange.body.error.message).toBe('Invalid actions[0] (edit): Unable to parse range: Nope!A1');
    const negative = await userActions(id, [{ type: 'insertRows', sheet: 'Sheet1', index: -1, count: 1 }]);
    expect(negative.body.error.message).toMatch(/^Invalid value at 'actions\[0\]\.index'/);
    expect(recorder.reports).toEqual([]);
  });
});

describe('time-driven triggers and Utilities', () => {
  it('everyMinutes(1) runs on a clock scaled by timeScale, with the clock event fields', async () => {
    const fast = await createEmulator({
      quotas: { enabled: false },
      appsScript: { scriptDir: SCRIPT_DIR, timeScale: 0.002 },
    });
    try {
      const id = fast.model.create({ title: 'clock' }).spreadsheetId;
      expect((await fast.appsScript!.run(id, 'installClock')).status).toBe('COMPLETED');
      // One minute scaled by 0.002 is 120 ms: a second is several periods.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const properties = (await fast.appsScript!.run(id, 'removeClocks')).result as Record<string, string>;
      expect(Number(properties.TICKS)).toBeGreaterThanOrEqual(3);
      expect(properties.LAST_TICK_KEYS).toBe(
        'authMode,day-of-month,day-of-week,hour,minute,month,second,timezone,triggerUid,week-of-year,year',
      );
    } finally {
      await fast.close();
    }
  });

  it('computeHmacSha256Signature returns signed bytes like Java', async () => {
    const id = await newSpreadsheet();
    const bytes = (await run(id, 'hmacBytes', ['payload', 'key'])).body.result as number[];
    const expected = Array.from(createHmac('sha256', 'key').update('payload').digest(), (b) =>
      b > 127 ? b - 256 : b,
    );
    expect(bytes).toEqual(expected);
    expect(bytes.some((b) => b < 0)).toBe(true);
  });

  it('UrlFetchApp throws on an error status unless muteHttpExceptions is set', async () => {
    const id = await newSpreadsheet();
    const missing = `${emulator.url}/no/such/path`;
    const thrown = await run(id, 'fetchText', [missing, false]);
    expect(thrown.body.status).toBe('FAILED');
    expect(thrown.body.error).toMatch(
      new RegExp(`^Exception: Request failed for ${missing} returned code 404`),
    );
    const muted = await run(id, 'fetchText', [missing, true]);
    expect(muted.body.result.code).toBe(404);
    expect(JSON.parse(muted.body.result.text).error.status).toBe('NOT_FOUND');
  });

  it('Utilities.formatDate follows SimpleDateFormat in a time zone; base64, UUIDs and CacheService work', async () => {
    const id = await newSpreadsheet();
    const result = (await run(id, 'utilitiesAndCache')).body.result;
    expect(result).toMatchObject({
      utc: '2024-01-15T13:05:09.007Z',
      newYork: 'Mon, 15 Jan 2024 08:05 -0500',
      base64: Buffer.from('héllo').toString('base64'),
      webSafe: Buffer.from([251, 255, 62]).toString('base64').replaceAll('+', '-').replaceAll('/', '_'),
      cached: 'hello',
      missing: null,
    });
    expect(result.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('a date cell reads as a Date in the spreadsheet time zone, and a Date written back stays a date', async () => {
    const id = await newSpreadsheet();
    await userActions(id, [{ type: 'edit', range: 'Sheet1!A1', values: [['2024-01-15']] }]);
    const result = (await run(id, 'dateRoundTrip', ['A1', 'B1'])).body.result;
    expect(result).toEqual({ isDate: true, iso: '2024-01-15T00:00:00.000Z' });
    const written = await client.spreadsheets.values.get({
      spreadsheetId: id,
      range: 'Sheet1!B1',
      valueRenderOption: 'UNFORMATTED_VALUE',
    });
    // 2024-01-16 as a serial number (days since 1899-12-30).
    expect(written.data.values).toEqual([[45307]]);
  });

  it('an execution past the time limit is stopped and recorded; the next one runs', async () => {
    const limited = await createEmulator({
      quotas: { enabled: false },
      appsScript: { scriptDir: SCRIPT_DIR, executionTimeoutMs: 500, concurrency: 1 },
    });
    try {
      const id = limited.model.create({ title: 'limits' }).spreadsheetId;
      const stopped = await limited.appsScript!.run(id, 'spin');
      expect(stopped).toMatchObject({
        status: 'FAILED',
        error: 'Exception: Exceeded maximum execution time',
      });
      expect((await limited.appsScript!.run(id, 'tryLockNow')).result).toBe(true);
    } finally {
      await limited.close();
    }
  });
});
