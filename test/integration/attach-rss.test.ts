/**
 * issue 7, done when: attach of a 100,000-row table into an empty sheet finishes with peak RSS
 * ≤ 300 MB, and afterwards the sheet equals the table. attach runs in a child process
 * (test/support/sync-child.ts) against PostgreSQL, the Firestore emulator and the local sheet,
 * which runs here, so the child's maxRSS is attach's own. ATTACH_RSS_ROWS changes the size.
 */

import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { compareSheetWithTable, createBigTable, runSyncChild } from '../support/big-link.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';

const ROWS = Number(process.env.ATTACH_RSS_ROWS ?? 100_000);

describe(`attach of ${ROWS} rows`, () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  const spreadsheetId = uniqueName('attach-rss');

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Big', sheetId: 0 }] }, 'api');
    await createBigTable(db.sql, 'public.big', ROWS);
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('fills the empty sheet within 300 MB peak RSS, and the sheet equals the table', async () => {
    const root = uniqueName('links');
    const report = await runSyncChild({
      command: 'attach',
      databaseUrl: db.url,
      sheetsApiUrl: emulator.url,
      firestoreHost: inject('firestoreEmulatorHost'),
      root,
      link: { name: 'big', spreadsheetId, sheet: 'Big', table: 'public.big' },
    });
    console.log(
      `attach of ${ROWS} rows: ${report.seconds} s (${Math.round(ROWS / report.seconds)} rows/s), peak RSS ${report.maxRssMb.toFixed(0)} MB; ${report.progress.slice(-3).join(' | ')}`,
    );
    expect(report.result).toMatchObject({ mode: 'table-to-sheet', rows: ROWS });
    expect(report.maxRssMb).toBeLessThanOrEqual(300);

    const compared = await compareSheetWithTable(emulator, spreadsheetId, 'Big', db.sql, 'public.big');
    expect(compared.examples).toEqual([]);
    expect(compared).toMatchObject({ rows: ROWS, mismatches: 0, ids: ROWS });

    // Every row has its document, found by key (spot checks at both ends and the middle).
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
    try {
      const store = new FirestoreVersionStore({ firestore, root });
      const keys = [1, Math.ceil(ROWS / 2), ROWS].map((id) => ({ id: String(id) }));
      const rowIds = await store.rowIdsForKeys('big', keys);
      expect(rowIds.size).toBe(3);
      const docs = await store.readRows('big', [...rowIds.values()]);
      expect([...docs.values()].map((d) => d.key)).toEqual(keys);
    } finally {
      await firestore.terminate();
    }
  }, 1_500_000);
});
