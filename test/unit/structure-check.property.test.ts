/**
 * Structure checks against the full read they replace, over random histories: rows the database
 * inserts (appended to the sheet, their documents stored with a createdAt that may lag their
 * commit), rows people delete, sorts, and structure events read at one time and handled later,
 * in any order, retried when their publish fails. Each handled event must find exactly the rows
 * that reading every live row finds, so no deletion is missed and none is invented.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { emptyRowDocument } from '../../functions/src/core/row-document.ts';
import {
  CREATED_MARGIN_MS,
  planStructureCheck,
} from '../../functions/src/handlers/sheet-webhook/structure-check.ts';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 300);
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

type Step =
  | { kind: 'insert'; lag: number }
  | { kind: 'type' }
  | { kind: 'store'; index: number; lag: number }
  | { kind: 'delete'; index: number }
  | { kind: 'sort' }
  | { kind: 'read' }
  | { kind: 'handle'; index: number; fail: boolean }
  | { kind: 'wait'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      lag: fc.integer({ min: 0, max: CREATED_MARGIN_MS - 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('type' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('store' as const),
      index: fc.nat(),
      lag: fc.integer({ min: 0, max: CREATED_MARGIN_MS - 1 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sort' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('handle' as const), index: fc.nat(), fail: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.integer({ min: 1, max: 3 * CREATED_MARGIN_MS }),
    }),
  },
);

/** Short ids spread over few buckets, so buckets are shared and changed often. */
let seq = 0;
const newId = () => {
  seq += 1;
  const bucket = ['0a', '0b', 'f0'][seq % 3]!;
  return `${bucket}${seq.toString(16).padStart(6, '0')}-0000-4000-8000-000000000000`;
};

async function run(steps: Step[]) {
  let clock = 1_000_000;
  const store = new MemoryVersionStore({ now: () => stamp ?? clock });
  let stamp: number | undefined;
  const link = 'leads';
  let sheet: string[] = [];
  /** When each row reached the sheet (RowDocument.onSheetSince, as applyToDb reads it). */
  const onSheetSince = new Map<string, number>();
  const tombstoned = new Set<string>();
  const pending: Array<{ ids: string[]; time: number }> = [];
  /** Rows a person typed whose documents applyToDb has not stored yet, with the edit's time. */
  const typed: Array<{ id: string; at: number }> = [];

  const insert = async (lag: number) => {
    const id = newId();
    sheet.push(id); // appended, then its document stored, stamped `lag` before it lands
    clock += 1;
    onSheetSince.set(id, clock);
    stamp = clock - lag;
    await store.commitRows(link, [{ next: { ...emptyRowDocument(id), onSheetSince: clock } }]);
    stamp = undefined;
  };
  const handle = async (event: { ids: string[]; time: number }, fail: boolean) => {
    clock += 1;
    const present = new Set(event.ids);
    // The full read, as before structure checks, and as applyToDb decides a delete.
    const full = (await store.liveRowIds(link)).filter((id) => !present.has(id));
    const plan = await planStructureCheck(
      store,
      (l, prefix) => store.liveRowIds(l, prefix),
      link,
      event,
      clock,
    );
    const found = [...plan.candidates].filter((id) => !present.has(id));
    expect(found.sort(), 'the rows a full read finds').toEqual(full.sort());
    if (fail) return false; // the publish failed: nothing recorded, the event is sent again
    for (const id of found) {
      if (event.time < onSheetSince.get(id)!) continue; // reached the sheet after the read
      tombstoned.add(id);
      await store.commitRows(link, [
        {
          next: {
            ...emptyRowDocument(id),
            tombstone: { dot: 'sheet:1', time: { wall: event.time, logical: 0 } },
          },
        },
      ]);
    }
    await store.recordStructureChecks(link, plan.checks);
    return true;
  };

  for (const s of steps) {
    switch (s.kind) {
      case 'insert':
        await insert(s.lag);
        break;
      case 'type': {
        clock += 1;
        const id = newId();
        sheet.push(id);
        typed.push({ id, at: clock });
        break;
      }
      case 'store':
        if (typed.length > 0) {
          const [row] = typed.splice(s.index % typed.length, 1);
          clock += 1;
          onSheetSince.set(row!.id, row!.at);
          stamp = clock - s.lag;
          await store.commitRows(link, [{ next: { ...emptyRowDocument(row!.id), onSheetSince: row!.at } }]);
          stamp = undefined;
        }
        break;
      case 'delete':
        if (sheet.length > 0) sheet.splice(s.index % sheet.length, 1);
        break;
      case 'sort':
        sheet = [...sheet].reverse();
        break;
      case 'read':
        clock += 1;
        pending.push({ ids: [...sheet], time: clock });
        break;
      case 'handle':
        if (pending.length > 0) {
          const i = s.index % pending.length;
          if (await handle(pending[i]!, s.fail)) pending.splice(i, 1);
        }
        break;
      case 'wait':
        clock += s.ms;
        break;
    }
  }
  // Quiet: the typed rows stored, the remaining events handled, then one read now; the table
  // then holds what the sheet holds.
  for (const row of typed) {
    onSheetSince.set(row.id, row.at);
    await store.commitRows(link, [{ next: { ...emptyRowDocument(row.id), onSheetSince: row.at } }]);
  }
  for (const event of pending) await handle(event, false);
  clock += 1;
  await handle({ ids: [...sheet], time: clock }, false);
  expect((await store.liveRowIds(link)).sort()).toEqual([...sheet].sort());
}

describe('structure checks over random histories', () => {
  it('find exactly the deleted rows a full read finds', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => run(steps)),
      { numRuns },
    );
  });
});
