/**
 * SheetTab.verify's reads: the rows a flush decides on, read again in values.batchGet requests
 * of runs of consecutive rows, each row's id proving it is still where the snapshot has it
 * (docs/design/kept-snapshot.md). Rows the flush only deletes have just their id cells read.
 */
import { columnLetters, quoteTitle } from './a1.ts';
import type { SheetValue, TabSnapshot } from './tab-model.ts';
import { batchGet, type TabAddress } from './tab-reads.ts';

/** Runs of consecutive rows verify() reads in one request (a small tab with more is read whole). */
export const MAX_VERIFY_RUNS = 100;

/** Sorted row numbers as runs of consecutive rows. */
export function runsOf(rows: number[]): Array<{ from: number; to: number }> {
  const runs: Array<{ from: number; to: number }> = [];
  for (const row of rows) {
    const last = runs.at(-1);
    if (last && row <= last.to + 1) last.to = row;
    else runs.push({ from: row, to: row });
  }
  return runs;
}

/**
 * Reads the rows of `ids` (values) and `placeIds` (id cells only) not yet in `verified`, and
 * on success sets their values in `snapshot` and adds them to `verified`. Returns how many
 * rows' values it made current, 'moved' when a row is not where the snapshot has it, or
 * 'scattered' when a small tab's rows need more than MAX_VERIFY_RUNS runs (read it whole).
 */
export async function verifyRows(
  tab: TabAddress,
  snapshot: TabSnapshot,
  asked: {
    verified: Set<string>;
    ids: readonly string[];
    placeIds: readonly string[];
    isBig: () => Promise<boolean>;
  },
): Promise<number | 'moved' | 'scattered'> {
  const idColumn = snapshot.idColumn!;
  const { verified } = asked;
  const rowsOf = (list: readonly string[]) =>
    list
      .filter((id) => snapshot.rows.has(id) && !verified.has(id))
      .map((id) => ({ id, row: snapshot.rows.get(id)!.row }))
      .sort((a, b) => a.row - b.row);
  const targets = rowsOf(asked.ids);
  const places = rowsOf(asked.placeIds);
  if (targets.length === 0 && places.length === 0) return 0;
  const valueRuns = runsOf(targets.map((t) => t.row));
  const placeRuns = runsOf(places.map((t) => t.row));
  if (valueRuns.length + placeRuns.length > MAX_VERIFY_RUNS && !(await asked.isBig())) return 'scattered';
  const title = quoteTitle(tab.title);
  const lastColumn = columnLetters(Math.max(snapshot.headers.length, idColumn + 1) - 1);
  const idLetter = columnLetters(idColumn);
  const ranges = [
    ...valueRuns.map((r) => `${title}!A${r.from}:${lastColumn}${r.to}`),
    ...placeRuns.map((r) => `${title}!${idLetter}${r.from}:${idLetter}${r.to}`),
  ];
  const answers: SheetValue[][][] = [];
  for (let i = 0; i < ranges.length; i += MAX_VERIFY_RUNS)
    answers.push(...(await batchGet(tab, ranges.slice(i, i + MAX_VERIFY_RUNS), 'ROWS')));
  const byRow = (runs: Array<{ from: number; to: number }>, offset: number) => {
    const found = new Map<number, SheetValue[]>();
    runs.forEach((run, i) => {
      const values = answers[offset + i] ?? [];
      for (let row = run.from; row <= run.to; row++) found.set(row, values[row - run.from] ?? []);
    });
    return found;
  };
  const fresh = byRow(valueRuns, 0);
  const idCells = byRow(placeRuns, valueRuns.length);
  for (const { id, row } of targets) if (String(fresh.get(row)?.[idColumn] ?? '') !== id) return 'moved';
  for (const { id, row } of places) if (String(idCells.get(row)?.[0] ?? '') !== id) return 'moved';
  for (const { id, row } of targets) {
    snapshot.rows.get(id)!.values = fresh.get(row)!;
    verified.add(id);
  }
  return targets.length;
}

/**
 * Whether each row of `ids` that `snapshot` has is still at its row, by its id cell: one
 * values.batchGet of the id column's runs (more for over MAX_VERIFY_RUNS runs). SheetTab.write
 * asks this right before a request that addresses rows by position.
 */
export async function rowsInPlace(
  tab: TabAddress,
  snapshot: TabSnapshot,
  ids: Iterable<string>,
): Promise<boolean> {
  const idColumn = snapshot.idColumn!;
  const places = [...new Set(ids)]
    .filter((id) => snapshot.rows.has(id))
    .map((id) => ({ id, row: snapshot.rows.get(id)!.row }))
    .sort((a, b) => a.row - b.row);
  if (places.length === 0) return true;
  const runs = runsOf(places.map((p) => p.row));
  const title = quoteTitle(tab.title);
  const idLetter = columnLetters(idColumn);
  const ranges = runs.map((r) => `${title}!${idLetter}${r.from}:${idLetter}${r.to}`);
  const idAt = new Map<number, string>();
  for (let i = 0; i < ranges.length; i += MAX_VERIFY_RUNS) {
    const answers = await batchGet(tab, ranges.slice(i, i + MAX_VERIFY_RUNS), 'ROWS');
    runs.slice(i, i + MAX_VERIFY_RUNS).forEach((run, k) => {
      const values = answers[k] ?? [];
      for (let row = run.from; row <= run.to; row++) idAt.set(row, String(values[row - run.from]?.[0] ?? ''));
    });
  }
  return places.every(({ id, row }) => idAt.get(row) === id);
}
