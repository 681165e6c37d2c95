/**
 * Chaos: the local sheet applies a third of the writes and then loses their answers (the
 * connection dropped, or Google's 500 INTERNAL after applying) while the table takes updates,
 * inserts (appends on the sheet) and deletes. A write sent again as it was would append rows
 * twice or delete the row that moved into a deleted one's place. sheets-chaos.ts has the mix and
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

describe('chaos: Sheets writes applied with their answers lost', () => {
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
    s.emulator.faults.configure({ target: 'write', lostResponseRate: 0.35 });
    const made = await runMix(db.sql, seeded(seed), {
      rounds: 10,
      pauseMs: 400,
      beforeRound: (round) =>
        s.emulator.faults.configure({ lostResponseAs: round % 2 === 0 ? 'reset' : 500 }),
    });
    faultsOff(s);
    await expectSheetEqualsTable(s, db.sql, seed);
    watch.stop();
    expect(watch.seen, `seed ${seed}`).toEqual([]);
    expect(made.inserts + made.updates).toBeGreaterThan(10);
    // The faults did bite: writes whose outcome was unknown were checked, not sent again blind.
    expect(s.api.counts.outcomeUnknown, `seed ${seed}`).toBeGreaterThan(0);
  });
});
