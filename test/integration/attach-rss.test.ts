/**
 * issue 7, done when: attach of a 100,000-row table into an empty sheet finishes with peak RSS
 * ≤ 300 MB, and afterwards the sheet equals the table. attach runs in a child process
 * (attach-rss-child.ts) against PostgreSQL, the Firestore emulator and the local sheet, which runs
 * here, so the child's maxRSS is attach's own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { fromDb, toSheet } from '../../functions/src/core/coercion.ts';
import { parseColumnType } from '../../functions/src/core/column-type.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

// The figure is 100,000 rows (ATTACH_RSS_ROWS=100000). By default CI runs 5,000: writing
// 100,000 row documents to the Firestore emulator takes longer than CI's budget on this machine
// (about 80 rows/s under load), so the 100k figure is still open (see the issue note).
const ROWS = Number(process.env.ATTACH_RSS_ROWS ?? 5_000);

describe(`attach of ${ROWS} rows`, () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  const spreadsheetId = uniqueName('attach-rss');

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Big', sheetId: 0 }] }, 'api');
    await db.sql`create table public.big (id bigint primary key, name text, amount numeric(12,2), flag boolean, day date, note text)`;
    await db.sql`insert into public.big
      select i, 'name ' || i, (i % 1000) * 1.25, i % 3 = 0, date '2020-01-01' + (i % 2000), md5(i::text)
      from generate_series(1, ${ROWS}) i`;
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('fills the empty sheet within 300 MB peak RSS, and the sheet equals the table', async () => {
    const input = {
      databaseUrl: db.url,
      sheetsApiUrl: emulator.url,
      firestoreHost: inject('firestoreEmulatorHost'),
      root: uniqueName('links'),
      link: { name: 'big', spreadsheetId, sheet: 'Big', table: 'public.big' },
    };
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'test/integration/attach-rss-child.ts', JSON.stringify(input)],
      { maxBuffer: 16 * 1024 * 1024, timeout: 900_000 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      result: { mode: string; rows: number };
      seconds: number;
      maxRssMb: number;
    };
    console.log(
      `attach of ${ROWS} rows: ${report.seconds} s, peak RSS ${report.maxRssMb.toFixed(0)} MB; ${stderr.split('\n').slice(-12).join(' | ')}`,
    );
    expect(report.result).toMatchObject({ mode: 'table-to-sheet', rows: ROWS });
    expect(report.maxRssMb).toBeLessThanOrEqual(300);

    const sheet = tabValues(emulator, spreadsheetId, 'Big');
    expect(sheet[0]).toEqual(['id', 'name', 'amount', 'flag', 'day', 'note', '_sheetsync_id']);
    expect(sheet).toHaveLength(ROWS + 1);
    const types = ['bigint', 'text', 'numeric', 'boolean', 'date', 'text'].map(parseColumnType);
    const columns = ['id', 'name', 'amount', 'flag', 'day', 'note'] as const;
    let mismatches = 0;
    let row = 1;
    const cursor =
      db.sql`select id::text, name, amount::text, flag, day::text, note from public.big order by public.big.id`.cursor(
        5000,
      );
    for await (const batch of cursor) {
      for (const record of batch) {
        const expected = columns.map((c, i) => {
          const canonical = fromDb(record[c] as never, types[i]!);
          return toSheet(canonical.ok ? canonical.value : null, types[i]!);
        });
        if (JSON.stringify(sheet[row]!.slice(0, 6)) !== JSON.stringify(expected)) {
          if (mismatches === 0) console.log('first mismatch', row, sheet[row], expected);
          mismatches++;
        }
        row++;
      }
    }
    expect(mismatches).toBe(0);
    expect(new Set(sheet.slice(1).map((r) => r[6])).size).toBe(ROWS);
  }, 1_200_000);
});
