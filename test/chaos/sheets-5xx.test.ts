/**
 * Chaos: Google's transient 5xx on Sheets requests, reads and writes, during a mix of table
 * updates, inserts and deletes: 503 UNAVAILABLE before a request is applied, and 500 INTERNAL
 * after a write was applied (the client cannot tell them apart). sheets-chaos.ts has the mix and
 * the end check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import {
  chaosSeed,
  expectSheetEqualsTable,
  faultsOff,
  runMix,
  seeded,
  startChaosStack,
  watchDuplicates,
} from './sheets-chaos.ts';

describe('chaos: Sheets 5xx', () => {
  const db = useTestDatabase();
  let stack: DbToSheetStack | undefined;

  beforeAll(async () => {
    stack = await startChaosStack(db.sql, {
      quotas: { writePerUser: 6000, writePerProject: 6000, readPerUser: 6000, readPerProject: 6000 },
      sheetsApi: { writesPerMinute: 600, readsPerMinute: 600, backoffBaseMs: 100 },
    });
  });
  afterAll(() => stack?.stop());

  it('the sheet ends equal to the table: no row twice, no wrong row deleted', async () => {
    const s = stack!;
    const seed = chaosSeed();
    const watch = watchDuplicates(s);
    // 503 before applying on a quarter of all requests; 500 after applying on a fifth of writes.
    s.emulator.faults.configure({
      target: 'all',
      errorRate: 0.25,
      errorStatus: 503,
      lostResponseRate: 0.2,
      lostResponseAs: 500,
    });
    const before = { ...s.api.counts };
    await runMix(db.sql, seeded(seed), { rounds: 10, pauseMs: 400 });
    faultsOff(s);
    await expectSheetEqualsTable(s, db.sql, seed);
    watch.stop();
    expect(watch.seen, `seed ${seed}`).toEqual([]);
    expect(s.api.counts.retries - before.retries, `seed ${seed}`).toBeGreaterThan(0);
    expect(s.api.counts.outcomeUnknown - before.outcomeUnknown, `seed ${seed}`).toBeGreaterThan(0);
  });
});
