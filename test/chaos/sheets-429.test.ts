/**
 * Chaos: a storm of 429 RESOURCE_EXHAUSTED. The local sheet allows 4 writes and 8 reads per user
 * per 2-second window while the client believes it may send 600 a minute, so most requests are
 * refused, during a mix of table updates, inserts and deletes. Google applies nothing it answers
 * 429 to, so such a request is simply sent again after backoff. sheets-chaos.ts has the mix and
 * the end check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbToSheetStack } from '../support/db-to-sheet-stack.ts';
import { useTestDatabase } from '../support/postgres.ts';
import {
  chaosSeed,
  expectSheetEqualsTable,
  runMix,
  seeded,
  startChaosStack,
  watchDuplicates,
} from './sheets-chaos.ts';

describe('chaos: Sheets 429 storms', () => {
  const db = useTestDatabase();
  let stack: DbToSheetStack | undefined;

  beforeAll(async () => {
    stack = await startChaosStack(db.sql, {
      sheetsApi: { writesPerMinute: 600, readsPerMinute: 600, backoffBaseMs: 100, backoffMaxMs: 2_000 },
    });
  });
  afterAll(() => stack?.stop());

  it('the sheet ends equal to the table: no row twice, no wrong row deleted', async () => {
    const s = stack!;
    const seed = chaosSeed();
    const watch = watchDuplicates(s);
    s.emulator.quotas.configure({ writePerUser: 4, readPerUser: 8, windowMs: 2_000 });
    await runMix(db.sql, seeded(seed), { rounds: 10, pauseMs: 400 });
    await expectSheetEqualsTable(s, db.sql, seed, 90_000);
    watch.stop();
    expect(watch.seen, `seed ${seed}`).toEqual([]);
    expect(s.api.counts.throttled, `seed ${seed}`).toBeGreaterThan(0);
    // A 429 is a definite "not applied": nothing is read back to check it.
    expect(s.api.counts.outcomeUnknown, `seed ${seed}`).toBe(0);
  });
});
