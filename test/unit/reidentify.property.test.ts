/**
 * findRowPermutation over random tables: rows with values drawn from a small set (so duplicates
 * and look-alikes are common), shown on the sheet in raw forms (numbers for decimal text, offset
 * timestamps), then either sorted by some order (the ids stay) or edited. Whenever it answers,
 * the moves must be a permutation of the moved rows' ids and each moved row must hold the known
 * values of the row whose id it gets; a real sort must always be recognised.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CellValue } from '../../functions/src/core/cell-value.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import {
  cellKey,
  findRowPermutation,
  mayBeSorted,
  sortSample,
} from '../../functions/src/handlers/sheet-webhook/reidentify.ts';
import type { WebhookRow } from '../../functions/src/wire/webhook.ts';
import { row } from '../support/version-store-contract.ts';

const numRuns = Number(process.env.FC_NUM_RUNS ?? 300);
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

/** A canonical value and one raw form the sheet may hold for it. */
const value: fc.Arbitrary<{ canonical: CellValue; raw: string | number | boolean }> = fc.oneof(
  fc.constantFrom('a', 'b', 'A').map((v) => ({ canonical: v, raw: v })),
  fc.constantFrom('1.5', '2', '10').map((v) => ({ canonical: v, raw: Number(v) })),
  fc.constantFrom(1, 2).map((v) => ({ canonical: v, raw: v })),
  fc.constant({ canonical: null, raw: '' }),
  fc.constant({ canonical: true, raw: true }),
  fc.constant({ canonical: '2026-11-26T10:00:00.000Z', raw: '2026-11-26T11:00:00.000+01:00' }),
);

const table = fc
  .integer({ min: 2, max: 12 })
  .chain((rows) =>
    fc.array(fc.array(value, { minLength: 3, maxLength: 3 }), { minLength: rows, maxLength: rows }),
  );

const columns = ['name', 'price', 'seen'];

function build(cells: Array<Array<{ canonical: CellValue; raw: string | number | boolean }>>) {
  const ids = cells.map((_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const docs = new Map<string, RowDocument>(
    ids.map((id, i) => [
      id,
      row(id, Object.fromEntries(columns.map((c, j) => [c, cells[i]![j]!.canonical]))),
    ]),
  );
  const raw = cells.map((r) => Object.fromEntries(columns.map((c, j) => [c, r[j]!.raw])));
  return { ids, docs, raw };
}

const key = (values: Record<string, CellValue>) => columns.map((c) => cellKey(values[c] ?? null)).join('|');

describe('findRowPermutation (property)', () => {
  it('recognises every sort, and its moves always put each row under the id of its values', () => {
    fc.assert(
      fc.property(table, fc.array(fc.nat()), (cells, seeds) => {
        const { ids, docs, raw } = build(cells);
        // A permutation of the rows from the seeds (Fisher–Yates).
        const order = ids.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = (seeds[i] ?? 0) % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const event: WebhookRow[] = order.map((from, position) => ({
          rowId: ids[position]!,
          row: position + 2,
          isNew: false,
          cells: { ...raw[from]! },
        }));
        const moved = event.filter((r, i) => key(r.cells) !== key(raw[i]!));
        // The sample never rules a sort out.
        const sample = new Map(sortSample(event).map((r) => [r.rowId, docs.get(r.rowId)!]));
        expect(mayBeSorted(event, sample)).toBe(true);
        const moves = findRowPermutation(event, docs);
        if (moved.length < 2) {
          expect(moves).toBeNull();
          return;
        }
        expect(moves).not.toBeNull();
        check(event, docs, moves!);
      }),
      { numRuns },
    );
  });

  it('answers edits only with moves that are a permutation of the rows values', () => {
    fc.assert(
      fc.property(table, table, (cells, edits) => {
        const { ids, docs } = build(cells);
        const event: WebhookRow[] = ids.map((id, i) => ({
          rowId: id,
          row: i + 2,
          isNew: false,
          cells: Object.fromEntries(columns.map((c, j) => [c, (edits[i] ?? cells[i]!)[j]!.raw])),
        }));
        const moves = findRowPermutation(event, docs);
        if (moves) check(event, docs, moves);
      }),
      { numRuns },
    );
  });
});

function check(
  event: WebhookRow[],
  docs: Map<string, RowDocument>,
  moves: { row: number; from: string; to: string }[],
) {
  expect(moves.map((m) => m.from).sort()).toEqual(moves.map((m) => m.to).sort());
  for (const move of moves) {
    const shown = event.find((r) => r.row === move.row)!;
    expect(shown.rowId).toBe(move.from);
    const target = docs.get(move.to)!;
    expect(key(shown.cells)).toBe(
      key(Object.fromEntries(columns.map((c) => [c, target.cells[c]!.sheetValue]))),
    );
  }
}
