/**
 * addMissingColumns' plan (issue 19, item 3): which headers may become column names (a safe
 * pattern and PostgreSQL's 63-byte limit) and the type their values suggest.
 */
import { describe, expect, it } from 'vitest';
import { planMissingColumns } from '../../functions/src/handlers/apply-to-db/missing-columns.ts';

describe('planMissingColumns', () => {
  it('types a column from the values typed under its header', () => {
    const changes = [
      { cells: { price: 1.5, ok: true, note: 'a', blank: '' } },
      { cells: { price: 2, ok: false, note: 3, blank: null } },
    ];
    expect(planMissingColumns(['price', 'ok', 'note', 'blank'], changes)).toEqual({
      add: [
        { name: 'price', type: 'numeric' },
        { name: 'ok', type: 'boolean' },
        { name: 'note', type: 'text' },
        { name: 'blank', type: 'text' },
      ],
      refused: [],
    });
  });

  it('refuses headers that are no safe column name, and sheetsync’s own prefix', () => {
    const long = `a${'b'.repeat(63)}`;
    const plan = planMissingColumns(
      ['unit cost', 'x"; drop table t; --', '9lives', long, '_sheetsync_id', 'é'],
      [],
    );
    expect(plan.add).toEqual([]);
    expect(plan.refused).toHaveLength(6);
    expect(planMissingColumns([long.slice(0, 63), '_under'], []).refused).toEqual([]);
  });
});
