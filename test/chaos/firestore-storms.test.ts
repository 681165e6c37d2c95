/**
 * Storms of ABORTED and UNAVAILABLE from Firestore under the version store (issue 17, fault
 * suite), injected at the client boundary (test/support/firestore-storm.ts): transactions,
 * batch commits and reads fail, some after their commit applied with the answer lost. Under the
 * whole pipeline (the local sheet with the real apps-script/, the webhook, applyToDb, the relay,
 * applyToSheet), while a person edits the sheet and a program writes the table; once a full
 * outage while both sides change one cell. Afterwards the table equals the sheet, every value
 * typed in the sheet was written to the table once, and the concurrent change is decided with
 * the losing value recorded.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { waitForConvergence } from '../support/converged.ts';
import { type Storm, stormyFirestore } from '../support/firestore-storm.ts';
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
const TABLE_ROWS = 24;

describe.runIf(UNSTABLE_CHAOS)('chaos: Firestore ABORTED and UNAVAILABLE storms', () => {
  const db = useTestDatabase();
  let h: SyncHarness | undefined;
  let storm: Storm;
  let firestore: Firestore;

  beforeAll(async () => {
    h = await startSyncHarness({
      databaseUrl: db.url,
      pubsubEmulatorHost: inject('pubsubEmulatorHost'),
      firestoreEmulatorHost: inject('firestoreEmulatorHost'),
      table: 'public.items',
      headers: COLUMNS,
      wrapFirestore: (client) => {
        firestore = client;
        const stormy = stormyFirestore(client);
        storm = stormy.storm;
        return stormy.firestore;
      },
      createTable: createItemsTable,
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('converges, applies each change once and records the conflict it decides', async () => {
    const harness = h!;
    await typeSheetRows(harness, SHEET_ROWS);

    // A storm: half the store's calls fail, half of those after their commit applied.
    storm.blow({ rate: 0.5, afterCommit: 0.5 });
    await Promise.all([
      renameSheetRows(harness, 1, SHEET_ROWS, 100),
      writeTableRows(harness, TABLE_ROWS, 80),
    ]);

    // A full outage while both sides change s-0's qty: the sheet first, the table 300 ms later,
    // so last-writer-wins picks the table's value, and the sheet's is the recorded loser.
    storm.blow({ rate: 1, afterCommit: 0 });
    await harness.act([{ type: 'edit', range: 'Rows!C2', values: [[-1]] }]);
    await new Promise((r) => setTimeout(r, 300));
    await harness.sql`update public.items set qty = -2 where sku = 's-0'`;
    await new Promise((r) => setTimeout(r, 1500));
    storm.blow({ rate: 0.5, afterCommit: 0.5 });
    await new Promise((r) => setTimeout(r, 3000));
    storm.calm();

    await waitForConvergence(harness, TABLE, COLUMNS, SHEET_ROWS + TABLE_ROWS, 45_000);
    expect(storm.counts.aborted).toBeGreaterThan(5);
    expect(storm.counts.unavailable).toBeGreaterThan(5);
    expect(storm.counts.afterCommit).toBeGreaterThan(2);

    // Every row once on the sheet, each sheet value written to the table once (s-0 kept its name).
    const names = Array.from({ length: SHEET_ROWS }, (_, i) =>
      i === 0 ? ['sheet 0'] : [`sheet ${i}`, `sheet ${i} v2`],
    );
    await expectEachChangeOnce(harness, {
      sheetRows: SHEET_ROWS,
      tableRows: TABLE_ROWS,
      names: names.flat(),
    });
    const [s0] = await harness.sql<{ qty: number }[]>`select qty from public.items where sku = 's-0'`;

    // The concurrent change: the table's later value won on both sides, the sheet's is recorded.
    expect(s0?.qty).toBe(-2);
    const idAt = harness.tabValues()[0]!.indexOf('_sheetsync_id');
    const row = harness.tabValues().find((r) => r[0] === 's-0')!;
    expect(row[2]).toBe(-2);
    const conflicts = await waitFor('the conflict record', async () => {
      const found = await firestore.collectionGroup('conflicts').where('rowId', '==', row[idAt]).get();
      return found.size > 0 ? found.docs.map((d) => d.data() as unknown as ConflictRecord) : undefined;
    });
    expect(conflicts).toHaveLength(1);
    // Decided by last-writer-wins, or, when the outage outlasted the sheet change's five deliveries
    // while the table's change was unknown, kept open for a person (sync-core.md): either way
    // the table's value stands and the sheet's is recorded.
    const [conflict] = conflicts;
    expect(conflict).toMatchObject({ column: 'qty', outcome: 'db' });
    expect(
      conflict!.policy === 'last-writer-wins' ||
        (conflict!.policy === 'keep-db-unobserved' && conflict!.status === 'open'),
    ).toBe(true);
    expect(JSON.stringify(conflict!.sheet.value)).toContain('-1');
  }, 110_000);
});
