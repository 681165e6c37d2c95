import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import {
  bucketDigests,
  CREATED_MARGIN_MS,
  planStructureCheck,
  scopeOf,
} from '../../functions/src/handlers/sheet-webhook/structure-check.ts';
import { row } from '../support/version-store-contract.ts';

const minute = 60_000;

/** A link whose rows the webhook checks, on a clock the test moves. */
async function setup(rows: number) {
  let clock = 1_000_000_000;
  const store = new MemoryVersionStore({ now: () => clock });
  const ids = Array.from({ length: rows }, () => randomUUID());
  await store.createRows(
    'leads',
    ids.map((id) => row(id, { n: 1 })),
  );
  clock += 20 * minute; // the rows were stored well before the events below
  /** A structure event with these ids, read at the clock, handled a second later (as the webhook). */
  const check = async (onSheet: string[]) => {
    const plan = await planStructureCheck(
      store,
      (l, prefix) => store.liveRowIds(l, prefix),
      'leads',
      { ids: onSheet, time: clock },
      clock + 1000,
    );
    const present = new Set(onSheet);
    const deletes = [...plan.candidates].filter((id) => !present.has(id)).sort();
    await store.recordStructureChecks('leads', plan.checks);
    return { ...plan, deletes };
  };
  const later = (ms: number) => {
    clock += ms;
  };
  return { store, ids, check, later, now: () => clock };
}

describe('structure checks', () => {
  it('digests a bucket’s ids whatever their order, and tells sets apart', () => {
    const scope = scopeOf(undefined);
    expect(scope).toHaveLength(256);
    expect(scopeOf('a')).toEqual([...'0123456789abcdef'].map((d) => `a${d}`));
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const digests = bucketDigests(ids, scope);
    expect(bucketDigests([...ids].reverse(), scope)).toEqual(digests);
    const fewer = bucketDigests(ids.slice(1), scope);
    const changed = scope.filter((b) => fewer[b] !== digests[b]);
    expect(changed).toEqual([ids[0]!.slice(0, 2)]);
  });

  it('reads every live row once, then after a sort none, after one deletion one bucket', async () => {
    const { ids, check, later } = await setup(2000);
    const first = await check(ids);
    expect(first).toMatchObject({ bucketsRead: 256, rowsRead: 2000, deletes: [] });
    later(minute);

    const sorted = await check([...ids].sort());
    expect(sorted).toMatchObject({ bucketsRead: 0, rowsRead: 0, deletes: [] });

    later(minute);
    const gone = ids[7]!;
    const deleted = await check(ids.filter((id) => id !== gone));
    expect(deleted.deletes).toEqual([gone]);
    expect(deleted.bucketsRead).toBe(1);
    expect(deleted.rowsRead).toBe(ids.filter((id) => id.slice(0, 2) === gone.slice(0, 2)).length);
  });

  it('finds a row that became live after the last check and left the sheet, in an unchanged bucket', async () => {
    const { store, ids, check, later } = await setup(300);
    await check(ids);
    later(minute);
    // applyToSheet appends a row the database inserted; a person deletes it before the next
    // structure event, whose ids are then the same set as the last one's.
    const appended = randomUUID();
    await store.commitRows('leads', [{ next: row(appended, { n: 2 }) }]);
    later(minute);
    const next = await check(ids);
    expect(next.bucketsRead).toBe(0);
    expect(next.deletes).toEqual([appended]);
    expect(next.rowsRead).toBe(1);
  });

  it('covers a row stored just before a check that may not have seen it (the margin)', async () => {
    const { store, ids, check, later, now } = await setup(10);
    const late = randomUUID();
    // Stored a moment before the check, but (commits in flight) not seen by it.
    await store.commitRows('leads', [{ next: row(late, { n: 2 }) }]);
    const first = await planStructureCheck(
      store,
      async () => ids, // the query ran before the late row's commit landed
      'leads',
      { ids, time: now() },
      now() + 1000,
    );
    expect(first.candidates.has(late)).toBe(false);
    await store.recordStructureChecks('leads', first.checks);
    expect(Object.values(first.checks)[0]!.checkedAt).toBe(now() - CREATED_MARGIN_MS);
    later(CREATED_MARGIN_MS - minute);
    expect((await check(ids)).deletes).toEqual([late]);
  });

  it('checks a big tab’s part against its 16 buckets only', async () => {
    const { ids, check, later, store, now } = await setup(1000);
    await check(ids);
    later(minute);
    const inA = ids.filter((id) => id.startsWith('a'));
    const gone = inA[0]!;
    const plan = await planStructureCheck(
      store,
      (l, prefix) => store.liveRowIds(l, prefix),
      'leads',
      { ids: inA.filter((id) => id !== gone), idPrefix: 'a', time: now() },
      now() + 1000,
    );
    expect(Object.keys(plan.checks)).toEqual(scopeOf('a'));
    expect(plan.bucketsRead).toBe(1);
    expect([...plan.candidates].every((id) => id.startsWith(gone.slice(0, 2)))).toBe(true);
    expect(plan.candidates.has(gone)).toBe(true);
  });
});
