/**
 * The Pub/Sub emulator killed (SIGKILL) and started again on the same port while changes flow both
 * ways (issue 17, fault suite). The test runs an emulator of its own, never the global setup's,
 * under the whole pipeline (the local sheet with the real apps-script/, the webhook, applyToDb,
 * the relay, applyToSheet). The restarted emulator knows no topic, subscription or message: the
 * pipeline must declare its topics and subscriptions again before it publishes into them (a
 * message published to a topic with no subscription is dropped), and repair what the emulator
 * held when it died. Afterwards the table equals the sheet, every value typed in the sheet is in
 * the table once and was written there once, and every table row is on the sheet once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../cli/src/services/gcloud-emulator.ts';
import { createLogger } from '../../functions/src/log.ts';
import { waitForConvergence } from '../support/converged.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { type SyncHarness, startSyncHarness } from '../support/sheet-sync-harness.ts';
import {
  COLUMNS,
  createItemsTable,
  expectEachChangeOnce,
  renameSheetRows,
  TABLE,
  typeSheetRows,
  UNSTABLE_CHAOS,
  writeTableRows,
} from '../support/two-way-traffic.ts';
import { waitFor } from '../support/wait.ts';

const SHEET_ROWS = 16;
const TABLE_ROWS = 30;

describe.runIf(UNSTABLE_CHAOS)('chaos: the Pub/Sub emulator restarted under load', () => {
  const db = useTestDatabase();
  let pubsub: RunningEmulator | undefined;
  let h: SyncHarness | undefined;
  /** The codes the pipeline logged at WARNING and above. */
  const codes: string[] = [];

  beforeAll(async () => {
    pubsub = await startEmulator('pubsub');
    h = await startSyncHarness({
      databaseUrl: db.url,
      pubsubEmulatorHost: pubsub.host,
      firestoreEmulatorHost: inject('firestoreEmulatorHost'),
      table: 'public.items',
      headers: COLUMNS,
      // The script's queue flush every 3 s instead of every minute.
      timeScale: 0.05,
      logger: createLogger({
        level: 'WARNING',
        write: (line) => {
          const code = (JSON.parse(line) as { code?: string }).code;
          if (code) codes.push(code);
        },
      }),
      createTable: createItemsTable,
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await pubsub?.stop();
  });

  it('loses nothing and applies nothing twice across a restart', async () => {
    const harness = h!;
    const port = Number(pubsub!.host.split(':')[1]);

    // Before the fault: the sheet's rows, typed by a person. Then a person renames them one by
    // one, every ~150 ms, while a program inserts a row and updates the one before, every ~100 ms.
    await typeSheetRows(harness, SHEET_ROWS);
    const traffic = Promise.all([
      renameSheetRows(harness, 0, SHEET_ROWS, 150),
      writeTableRows(harness, TABLE_ROWS, 100),
    ]);

    const onSheet = (prefix: string) =>
      harness.tabValues().filter((r) => String(r[0] ?? '').startsWith(prefix)).length;
    const renamed = async () =>
      Number((await harness.sql`select count(*)::int as n from public.items where name like '% v2'`)[0]?.n);
    await waitFor('both directions under way', async () => (await renamed()) >= 3 && onSheet('d-') >= 4);
    await pubsub!.stop();
    await new Promise((r) => setTimeout(r, 500));
    pubsub = await startEmulator('pubsub', { port });

    await traffic;
    // The pipeline found its topics and subscriptions gone, and declared them again.
    expect(codes).toContain('SHEETSYNC_E306');
    await waitForConvergence(harness, TABLE, COLUMNS, SHEET_ROWS + TABLE_ROWS, 45_000);

    // Every row once on the sheet, each sheet value written to the table once.
    const names = Array.from({ length: SHEET_ROWS }, (_, i) => [`sheet ${i}`, `sheet ${i} v2`]);
    await expectEachChangeOnce(harness, {
      sheetRows: SHEET_ROWS,
      tableRows: TABLE_ROWS,
      names: names.flat(),
    });
    expect(harness.problems).toEqual([]);
  }, 90_000);
});
