/**
 * The Sheets faults of the chaos suite share this: the database → sheet stack (PostgreSQL, the
 * relay, Google's Pub/Sub and Firestore emulators, applyToSheet, the local sheet through
 * @googleapis/sheets), a realistic mix of table changes made while the local sheet misbehaves,
 * and the end check: once the faults stop and the pipeline is quiet, the sheet equals the table
 * row for row, no row is on it twice, none the table still holds is missing.
 *
 * Rows 1-10 are inserted before the faults and never changed: a delete that takes the wrong row
 * (the one that moved into a deleted row's place) would take one of them, and nothing would
 * bring it back. A watcher on the local sheet checks after every change that no sync id is on
 * two rows, so a duplicate that a later delete happened to remove is caught too.
 *
 * The mix is drawn from a seeded generator: CHAOS_SEED=n replays one (the seed is in every
 * failure message). The local sheet's faults draw from Math.random.
 */
import type postgres from 'postgres';
import { expect } from 'vitest';
import type { FaultConfig } from '../../emulator/src/faults.ts';
import { ID_HEADER } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import {
  type DbToSheetOptions,
  type DbToSheetStack,
  startDbToSheetStack,
} from '../support/db-to-sheet-stack.ts';
import { tabValues } from '../support/sheet-state.ts';
import { waitFor } from '../support/wait.ts';

const TAB = 'Leads';
const HEADERS = ['id', 'name', 'score'];
const STATIC_ROWS = 10;

/** A small seeded generator (mulberry32), so a failing mix can be replayed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function chaosSeed(): number {
  const fromEnv = Number(process.env.CHAOS_SEED);
  return Number.isInteger(fromEnv) ? fromEnv : Math.floor(Math.random() * 2 ** 31);
}

/** The stack on a table public.leads (id, name, score), its tab holding rows 1-10. */
export async function startChaosStack(
  sql: postgres.Sql,
  options: Pick<DbToSheetOptions, 'quotas' | 'sheetsApi'> = {},
): Promise<DbToSheetStack> {
  const stack = await startDbToSheetStack(sql, {
    table: 'public.leads',
    headers: HEADERS,
    createTable: (s) => s`create table public.leads (id int primary key, name text, score int)`,
    ...options,
  });
  await sql`insert into public.leads select i, 'static ' || i, i from generate_series(1, ${STATIC_ROWS}) i`;
  await waitFor('the static rows on the sheet', async () => sheetRows(stack).length === STATIC_ROWS, 30_000);
  return stack;
}

function sheetGrid(stack: DbToSheetStack): unknown[][] {
  return tabValues(stack.emulator, stack.spreadsheetId, TAB);
}

/** The tab's data rows as {id, name, score, rowId}, blank rows left out. */
function sheetRows(stack: DbToSheetStack) {
  const [headers = [], ...rows] = sheetGrid(stack);
  const at = (name: string) => headers.indexOf(name);
  return rows
    .filter((row) => row.some((v) => v !== '' && v !== null && v !== undefined))
    .map((row) => ({
      id: row[at('id')],
      name: row[at('name')] ?? '',
      score: row[at('score')] ?? '',
      rowId: String(row[at(ID_HEADER)] ?? ''),
    }));
}

/** Records every moment a sync id stands on two rows of the tab. */
export function watchDuplicates(stack: DbToSheetStack): { seen: string[]; stop: () => void } {
  const seen: string[] = [];
  const stop = stack.emulator.model.onChange((change) => {
    if (change.spreadsheetId !== stack.spreadsheetId || change.kind === 'deleteSpreadsheet') return;
    const [headers = [], ...rows] = sheetGrid(stack);
    const idColumn = headers.indexOf(ID_HEADER);
    if (idColumn < 0) return;
    const ids = new Set<string>();
    for (const row of rows) {
      const id = String(row[idColumn] ?? '');
      if (id === '') continue;
      if (ids.has(id)) seen.push(`sync id ${id} on two rows after a ${change.kind}`);
      ids.add(id);
    }
  });
  return { seen, stop };
}

export interface MixOptions {
  rounds: number;
  /** Pause between rounds (ms): changes arrive in several flushes, as they do from a live table. */
  pauseMs: number;
  /** Called before each round: e.g. to vary the faults. */
  beforeRound?: (round: number) => void;
}

/**
 * Rounds of table changes: each updates a few rows (one statement, or one per row), deletes a
 * few and inserts a few new ones (appends on the sheet). Rows 1-10 are left alone. Returns how
 * many changes it made of each kind.
 */
export async function runMix(sql: postgres.Sql, random: () => number, options: MixOptions) {
  let nextId = 1000;
  const made = { updates: 0, inserts: 0, deletes: 0 };
  const pick = (ids: number[], n: number) => {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(n, ids.length)) chosen.add(ids[Math.floor(random() * ids.length)]!);
    return [...chosen];
  };
  for (let round = 0; round < options.rounds; round++) {
    options.beforeRound?.(round);
    const live = (await sql<{ id: number }[]>`select id from public.leads where id > ${STATIC_ROWS}`).map(
      (r) => r.id,
    );
    const updated = pick(live, 1 + Math.floor(random() * 4));
    if (random() < 0.5) {
      await sql`update public.leads set name = 'round ' || ${round} || ' row ' || id, score = score + 1
        where id in ${sql(updated)}`;
    } else {
      for (const id of updated)
        await sql`update public.leads set score = ${Math.floor(random() * 1000)} where id = ${id}`;
    }
    made.updates += updated.length;
    const deleted = pick(
      live.filter((id) => !updated.includes(id)),
      Math.floor(random() * 3),
    );
    if (deleted.length > 0) await sql`delete from public.leads where id in ${sql(deleted)}`;
    made.deletes += deleted.length;
    const inserted = Array.from({ length: 1 + Math.floor(random() * 4) }, () => nextId++);
    await sql`insert into public.leads ${sql(inserted.map((id) => ({ id, name: `new ${id}`, score: id % 97 })))}`;
    made.inserts += inserted.length;
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  return made;
}

/**
 * Waits until the sheet shows exactly the table's rows, then checks it closely: each table row
 * once with its values and a sync id of its own, no other row, the static rows all there.
 */
export async function expectSheetEqualsTable(
  stack: DbToSheetStack,
  sql: postgres.Sql,
  seed: number,
  timeoutMs = 90_000,
): Promise<void> {
  const table = async () =>
    (
      await sql<
        { id: number; name: string; score: number }[]
      >`select id, name, score from public.leads order by id`
    ).map((r) => JSON.stringify([r.id, r.name, r.score]));
  const sheet = () =>
    sheetRows(stack)
      .map((r) => JSON.stringify([r.id, r.name, r.score]))
      .sort((a, b) => JSON.parse(a)[0] - JSON.parse(b)[0]);
  let last = '';
  try {
    await waitFor(
      'the sheet to equal the table',
      async () => {
        const [want, got] = [await table(), sheet()];
        last = `table ${want.length} rows, sheet ${got.length}; first difference: ${
          want.find((r, i) => got[i] !== r) ?? got.find((r) => !want.includes(r)) ?? 'none'
        }`;
        return JSON.stringify(want) === JSON.stringify(got);
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`seed ${seed}: ${(error as Error).message} (${last})`);
  }
  // Quiet for a while: nothing late changes it (a retry still under way would).
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const rows = sheetRows(stack);
  expect(rows.map((r) => JSON.stringify([r.id, r.name, r.score])).sort(), `seed ${seed}`).toEqual(
    (await table()).sort(),
  );
  const rowIds = rows.map((r) => r.rowId);
  expect(
    rowIds.filter((id) => id === ''),
    `seed ${seed}: rows without a sync id`,
  ).toEqual([]);
  expect(new Set(rowIds).size, `seed ${seed}: a sync id on two rows`).toBe(rowIds.length);
  const ids = rows.map((r) => r.id);
  expect(new Set(ids).size, `seed ${seed}: a table row on two sheet rows`).toBe(ids.length);
  for (let id = 1; id <= STATIC_ROWS; id++) expect(ids, `seed ${seed}: static row ${id}`).toContain(id);
}

/** Every fault off (the pipeline then converges). */
export function faultsOff(stack: DbToSheetStack, extra: Partial<FaultConfig> = {}): void {
  stack.emulator.faults.configure({
    errorRate: 0,
    failNext: 0,
    lostResponseRate: 0,
    lostResponseNext: 0,
    hangRate: 0,
    hangNext: 0,
    ...extra,
  });
}
