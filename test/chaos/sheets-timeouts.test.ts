/**
 * Chaos: Sheets requests that hang, never answered, during a mix of table updates, inserts and
 * deletes. Every request is cut off by the client's timeout (SHEETSYNC_SHEETS_TIMEOUT_MS, here
 * 800 ms); a write that hung may have been applied (half of the rounds) or not. Without a timeout
 * the first hang stalls the link until the function is killed. sheets-chaos.ts has the mix and
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

describe('chaos: Sheets requests that hang', () => {
  const db = useTestDatabase();
  let stack: DbToSheetStack | undefined;

  beforeAll(async () => {
    stack = await startChaosStack(db.sql, {
      quotas: { writePerUser: 6000, writePerProject: 6000, readPerUser: 6000, readPerProject: 6000 },
      sheetsApi: { writesPerMinute: 600, readsPerMinute: 600, backoffBaseMs: 100, timeoutMs: 800 },
    });
  });
  afterAll(() => stack?.stop());

  it('the sheet ends equal to the table: no row twice, no wrong row deleted, no stall', async () => {
    const s = stack!;
    const seed = chaosSeed();
    const watch = watchDuplicates(s);
    // The rate is drawn per request: with few requests (a fast run batches more) it may draw no
    // hang at all, so the first request always hangs.
    s.emulator.faults.configure({ target: 'all', hangRate: 0.2, hangNext: 1 });
    await runMix(db.sql, seeded(seed), {
      rounds: 10,
      pauseMs: 400,
      beforeRound: (round) => s.emulator.faults.configure({ hangApplied: round % 2 === 0 }),
    });
    faultsOff(s, { hangApplied: false });
    await expectSheetEqualsTable(s, db.sql, seed, 60_000);
    watch.stop();
    expect(watch.seen, `seed ${seed}`).toEqual([]);
    expect(s.api.counts.timedOut, `seed ${seed}`).toBeGreaterThan(0);
  });
});
