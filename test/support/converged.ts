/**
 * Waits until the sync harness's table equals its sheet by sync id, in every synced column
 * (tableVsSheet), and holds `rows` rows; fails with the first differences it saw.
 */
import { type SyncHarness, tableVsSheet } from './sheet-sync-harness.ts';
import { waitFor } from './wait.ts';

export async function waitForConvergence(
  h: SyncHarness,
  table: { schema: string; name: string; key: readonly string[] },
  columns: readonly string[],
  rows: number,
  timeoutMs = 30_000,
): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(
      `the table to equal the sheet with ${rows} rows`,
      async () => {
        last = await tableVsSheet(h, table, columns);
        const [counted] = await h.sql<{ n: number }[]>`
          select count(*)::int as n from ${h.sql(table.schema)}.${h.sql(table.name)}`;
        if (counted?.n !== rows) last.push(`table has ${counted?.n} rows, expected ${rows}`);
        return last.length === 0;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${last.slice(0, 10).join('\n')}`);
  }
}
