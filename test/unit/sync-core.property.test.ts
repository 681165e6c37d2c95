/**
 * Property tests of the sync core over random interleavings of edits on both sides, with
 * duplicate publishes, replays of older messages, rewinds (redelivery from an earlier message)
 * and crashes between an apply function's two commits (see sync-core-simulation.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConflictPolicy } from '../../functions/src/core/conflict-policy.ts';
import { dbManaged, editable, Simulation, type Step } from './sync-core-simulation.ts';

// A failure prints its seed: FC_SEED=<seed> reruns that case; FC_NUM_RUNS searches longer.
const numRuns = Number(process.env.FC_NUM_RUNS ?? 1000);
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });
const queue = fc.constantFrom('toDb' as const, 'toSheet' as const);
const columns = fc.array(fc.nat(2), { minLength: 1, maxLength: 2 });
/**
 * A person resolves an open conflict, as from the dashboard or `sheetsync conflicts resolve`: keeps
 * the DB value or sets a value of their own. (Taking the sheet value goes the same way with the
 * sheet edit's value; it is left to the unit tests because the ground truth here names a value by
 * the edit that first wrote it, and the resolution would write the same value as a new change.)
 */
const resolve: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('resolve' as const),
  index: fc.nat(),
  take: fc.constantFrom('db' as const, 'value' as const),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('sheetEdit' as const), columns, duplicate: fc.boolean() }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('dbEdit' as const), columns, duplicate: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sheetDelete' as const), duplicate: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dbDelete' as const) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), queue }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('commit' as const), queue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), queue }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rewind' as const),
      queue,
      back: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), queue, index: fc.nat() }) },
);
// Most open conflicts are decided while the queues drain. In half of the runs, a calm moment
// follows in which people resolve open conflicts; then edits, deliveries and failures go on, so
// edits race with a resolution on its way to both sides.
const steps = fc
  .tuple(
    fc.array(step, { minLength: 1, maxLength: 40 }),
    fc.boolean(),
    fc.array(resolve, { minLength: 1, maxLength: 3 }),
    fc.array(step, { maxLength: 10 }),
  )
  .map(([run, calm, resolutions, later]): Step[] =>
    calm ? [...run, { kind: 'quiesce' }, ...resolutions, ...later] : run,
  );

const concat: ConflictPolicy = {
  default: { name: 'custom:concat', resolve: ({ sheet, db }) => ({ value: `${db.value}+${sheet.value}` }) },
};
const policies: Record<string, ConflictPolicy> = {
  'last-writer-wins': { default: 'last-writer-wins' },
  'sheet-wins': { default: 'sheet-wins' },
  'db-wins': { default: 'db-wins' },
  manual: { default: 'manual' },
  'per-column (a: sheet-wins, b: manual, c: concat)': {
    default: 'db-wins',
    columns: { a: 'sheet-wins', b: 'manual', c: concat.default },
  },
};

function simulate(policy: ConflictPolicy, run: Step[]): Simulation {
  const sim = new Simulation(policy);
  for (const s of run) sim.run(s);
  expect(sim.quiesce(), 'the queues drain').toBe(true);
  return sim;
}

// 1,000 runs per property take 1-2 s on an idle core; the shared CI machine may be slower.
const timeout = 30_000;

describe('sync core over random interleavings', () => {
  it('converges: sheet, table and row document hold the same row', { timeout }, () => {
    const outcomes = { deleted: 0, kept: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(policies)), steps, (name, run) => {
        const sim = simulate(policies[name]!, run);
        expect(sim.sheetDeleted, 'the row is deleted on both sides or on neither').toBe(sim.dbDeleted);
        outcomes[sim.dbDeleted ? 'deleted' : 'kept'] += 1;
        if (sim.dbDeleted) {
          expect(sim.doc.tombstone).not.toBeNull();
          return;
        }
        for (const column of [...editable, dbManaged]) {
          expect(sim.sheet[column]!.value, column).toEqual(sim.db[column]!.value);
          expect(sim.doc.cells[column]!.value, column).toEqual(sim.db[column]!.value);
        }
      }),
      { numRuns },
    );
    // Both endings must be exercised.
    expect(outcomes.deleted).toBeGreaterThan(numRuns / 10);
    expect(outcomes.kept).toBeGreaterThan(numRuns / 10);
  });

  it('a person’s resolution of an open conflict reaches both sides', { timeout }, () => {
    let resolved = 0;
    const manual = ['manual', 'per-column (a: sheet-wins, b: manual, c: concat)'];
    const calmThenResolve = fc
      .tuple(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.array(
          fc.record({
            kind: fc.constant('resolve' as const),
            index: fc.nat(),
            take: fc.constantFrom('sheet' as const, 'db' as const, 'value' as const),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      )
      .map(([run, resolutions]): Step[] => [...run, { kind: 'quiesce' }, ...resolutions]);
    fc.assert(
      fc.property(fc.constantFrom(...manual), calmThenResolve, (name, run) => {
        const sim = simulate(policies[name]!, run);
        if (sim.dbDeleted || sim.resolutionChanges === 0) return;
        resolved += 1;
        // Nothing else happened after the calm moment: each resolved cell shows the chosen value
        // on both sides, and the row document agrees.
        for (const conflict of sim.conflicts.values()) {
          if (!sim.resolved.has(conflict.id)) continue;
          const chosen = sim.db[conflict.column]!.value;
          expect(sim.sheet[conflict.column]!.value, conflict.column).toEqual(chosen);
          expect(sim.doc.cells[conflict.column]!.sheetValue, conflict.column).toEqual(chosen);
        }
        for (const column of [...editable, dbManaged]) {
          expect(sim.sheet[column]!.value, column).toEqual(sim.db[column]!.value);
        }
      }),
      { numRuns },
    );
    expect(resolved).toBeGreaterThan(numRuns / 20);
  });

  it('applies every change at most once', { timeout }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(policies)), steps, (name, run) => {
        const sim = simulate(policies[name]!, run);
        for (const [key, count] of sim.applied) expect(count, key).toBe(1);
      }),
      { numRuns },
    );
  });

  it('never loses an edit of a cell the other side did not touch', { timeout }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(policies)), steps, (name, run) => {
        const sim = simulate(policies[name]!, run);
        if (sim.dbDeleted) return;
        for (const column of editable) {
          const edits = sim.edits.filter((e) => e.column === column);
          const sides = new Set(edits.map((e) => e.side));
          if (sides.size !== 1) continue;
          expect(sim.db[column]!.value, column).toBe(edits.at(-1)!.id);
          expect(
            sim.conflicts.size === 0 || [...sim.conflicts.values()].every((c) => c.column !== column),
          ).toBe(true);
        }
      }),
      { numRuns },
    );
  });

  it('decides concurrent edits of one cell by the policy and records every losing value', { timeout }, () => {
    const seen = { concurrent: 0, unobserved: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(policies)), steps, (name, run) => {
        const policy = policies[name]!;
        const sim = simulate(policy, run);
        const editById = new Map(sim.edits.map((e) => [`${e.id}/${e.column}`, e]));
        for (const conflict of sim.conflicts.values()) {
          seen[conflict.reason === 'concurrent' ? 'concurrent' : 'unobserved'] += 1;
          if (conflict.reason !== 'concurrent') continue;
          const sheetEdit = editById.get(`${conflict.sheet.value}/${conflict.column}`)!;
          // The DB side may hold a value a custom resolver computed (after a crash, its write
          // comes back as a DB change).
          const dbKey = `${conflict.db.value}/${conflict.column}`;
          const dbEdit = editById.get(dbKey) ?? sim.derived.get(dbKey)!;
          // Truly concurrent: neither had seen the other. Known exceptions (docs/design/sync-core.md):
          // after applyToSheet crashed between its sheet write and its commit, the redelivered
          // write lands again, and an edit made in between counts as concurrent with it; so does
          // an edit made before a DB value kept at the deferral cap is shown again (reshow).
          expect(dbEdit.past.has(sheetEdit.id), 'the DB edit had not seen the sheet edit').toBe(false);
          if (sim.sheetCrashes === 0 && sim.reshows === 0) {
            expect(sheetEdit.past.has(dbEdit.id), 'the sheet edit had not seen the DB edit').toBe(false);
          }
          const columnPolicy = policy.columns?.[conflict.column] ?? policy.default;
          const expected =
            typeof columnPolicy !== 'string'
              ? 'custom'
              : columnPolicy === 'sheet-wins'
                ? 'sheet'
                : columnPolicy === 'last-writer-wins'
                  ? sheetEdit.time > dbEdit.time
                    ? 'sheet'
                    : 'db'
                  : 'db';
          expect(conflict.outcome).toBe(expected);
          expect(conflict.status).toBe(columnPolicy === 'manual' ? 'open' : 'resolved');
        }
        if (sim.dbDeleted) return;
        // Every edit is in the causal past of the final value or of a value a conflict recorded
        // (a winner can itself be overwritten later by an edit that never saw it: a sheet edit
        // made after sheetsync showed the loser there).
        const losers = new Set<string>();
        const lose = (value: unknown, column: string) => {
          const edit = editById.get(`${value}/${column}`);
          for (const id of edit ? [edit.id, ...edit.past] : []) losers.add(`${id}/${column}`);
        };
        for (const c of sim.conflicts.values()) {
          lose(c.sheet.value, c.column);
          lose(c.db.value, c.column);
        }
        for (const edit of sim.edits) {
          const final = sim.db[edit.column]!;
          const accounted = final.past.has(edit.id) || losers.has(`${edit.id}/${edit.column}`);
          expect(accounted, `${edit.id} on ${edit.column}`).toBe(true);
        }
      }),
      { numRuns },
    );
    // The runs must exercise conflicts, or the property says nothing.
    expect(seen.concurrent).toBeGreaterThan(numRuns / 10);
  });
});
