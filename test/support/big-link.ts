/**
 * A large link for the 100,000-row tests (attach-rss.test.ts, reconcile-scale.test.ts) and
 * `npm run bench -- attach`: the table, the attach and reconcile commands run in a child process
 * (sync-child.ts) so their peak RSS is their own, and a cell-by-cell compare of sheet and table.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type postgres from 'postgres';
import type { Emulator } from '../../emulator/src/server.ts';
import { fromDb, toSheet } from '../../functions/src/core/coercion.ts';
import { parseColumnType } from '../../functions/src/core/column-type.ts';
import { tabValues } from './sheet-state.ts';
import type { SyncChildInput, SyncChildReport } from './sync-child.ts';

export const BIG_HEADERS = ['id', 'name', 'amount', 'flag', 'day', 'note', '_sheetsync_id'];
const COLUMNS = ['id', 'name', 'amount', 'flag', 'day', 'note'] as const;
const TYPES = ['bigint', 'text', 'numeric', 'boolean', 'date', 'text'].map(parseColumnType);

/** `table` (schema.name, trusted test input) with `rows` rows of six typed columns. */
export async function createBigTable(sql: postgres.Sql, table: string, rows: number): Promise<void> {
  await sql.unsafe(
    `create table ${table} (id bigint primary key, name text, amount numeric(12,2), flag boolean, day date, note text)`,
  );
  await sql.unsafe(
    `insert into ${table}
      select i, 'name ' || i, (i % 1000) * 1.25, i % 3 = 0, date '2020-01-01' + (i % 2000), md5(i::text)
      from generate_series(1, $1::int) i`,
    [rows],
  );
}

/** Runs one command in its own process; rejects with its stderr when it fails. */
export async function runSyncChild(input: SyncChildInput): Promise<SyncChildReport & { progress: string[] }> {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'sync-child.ts'), JSON.stringify(input)],
    { maxBuffer: 64 * 1024 * 1024, timeout: 1_500_000 },
  );
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as SyncChildReport;
  return { ...report, progress: stderr.trim().split('\n') };
}

/**
 * Compares the tab with the table, row by row in key order, every cell as attach writes it.
 * Returns the number of differing rows (the first few are described in `examples`).
 */
export async function compareSheetWithTable(
  emulator: Emulator,
  spreadsheetId: string,
  tab: string,
  sql: postgres.Sql,
  table: string,
): Promise<{ rows: number; mismatches: number; examples: string[]; ids: number }> {
  const sheet = tabValues(emulator, spreadsheetId, tab);
  const examples: string[] = [];
  let mismatches = 0;
  let row = 1;
  const cursor = sql
    // t.id, not id: the output column id is text, and '10' sorts before '2'.
    .unsafe(
      `select t.id::text as id, t.name, t.amount::text as amount, t.flag, t.day::text as day, t.note
         from ${table} as t order by t.id`,
    )
    .cursor(5000);
  for await (const batch of cursor) {
    for (const record of batch) {
      const expected = COLUMNS.map((c, i) => {
        const canonical = fromDb(record[c] as never, TYPES[i]!);
        return toSheet(canonical.ok ? canonical.value : null, TYPES[i]!);
      });
      const actual = (sheet[row] ?? []).slice(0, COLUMNS.length);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        if (examples.length < 3)
          examples.push(`sheet row ${row + 1}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
        mismatches++;
      }
      row++;
    }
  }
  if (sheet.length !== row) {
    examples.push(`the sheet has ${sheet.length - 1} data rows, the table ${row - 1}`);
    mismatches += Math.abs(sheet.length - row);
  }
  if (JSON.stringify(sheet[0]) !== JSON.stringify(BIG_HEADERS)) {
    examples.push(`headers ${JSON.stringify(sheet[0])}`);
    mismatches++;
  }
  const ids = new Set(sheet.slice(1).map((r) => r[COLUMNS.length])).size;
  return { rows: row - 1, mismatches, examples, ids };
}
