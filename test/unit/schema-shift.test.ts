/**
 * SCHEMA changes in a flush of database changes (issue 19, item 2; apply-to-sheet/
 * schema-changes.ts): the changes before a rename are renamed to the names the headers will
 * have, a dropped column is reported from the reporting copy only, and headers are renamed only
 * where the old one exists and the new one does not.
 */
import { describe, expect, it } from 'vitest';
import { headerResolver } from '../../functions/src/handlers/apply-to-sheet/column-values.ts';
import { headerRenames, schemaShift } from '../../functions/src/handlers/apply-to-sheet/schema-changes.ts';
import type { DbChangeMessage } from '../../functions/src/wire/db-change.ts';

const base: DbChangeMessage = {
  outboxId: '1',
  index: 0,
  changeId: 1000,
  link: 'parts',
  table: 'public.parts',
  op: 'UPDATE',
  keyColumns: ['id'],
  key: { id: 1 },
  cells: {},
  types: { id: 'integer', name: 'text' },
  origin: 'db',
  dot: null,
  txid: '1',
  time: '2026-12-07T00:00:00.000000Z',
};
const update = (changeId: number, cells: DbChangeMessage['cells']): DbChangeMessage => ({
  ...base,
  changeId,
  cells,
});
const schema = (changeId: number, cells: DbChangeMessage['cells']): DbChangeMessage => ({
  ...base,
  op: 'SCHEMA',
  changeId,
  key: {},
  cells,
});

describe('schemaShift', () => {
  it('renames the columns of the changes before a rename, and leaves the later ones', () => {
    const shift = schemaShift([
      update(1000, { name: 'bolt' }),
      schema(2000, { renamed: { name: 'title' }, dropped: [], retyped: {} }),
      update(3000, { title: 'nut' }),
      schema(4000, { renamed: { title: 'label' }, dropped: [], retyped: {} }),
    ]);
    expect(shift.messages.map((m) => m.cells)).toEqual([{ label: 'bolt' }, { label: 'nut' }]);
    expect(shift.positions).toEqual([0, 2]);
    expect(shift.renamed).toEqual([
      { from: 'name', to: 'title' },
      { from: 'title', to: 'label' },
    ]);
  });

  it('counts each SCHEMA change once, and reports a dropped column from the reporting copy only', () => {
    const copy = { renamed: {}, dropped: ['bin'], retyped: { qty: 'numeric(8,2)' } };
    const shift = schemaShift([
      schema(2000, copy),
      schema(2000, { ...copy, report: true }),
      schema(2000, copy),
    ]);
    expect(shift.dropped).toEqual([{ column: 'bin', table: 'public.parts' }]);
    expect([...shift.retyped]).toEqual([['qty', 'numeric(8,2)']]);
    expect(schemaShift([schema(2000, copy)]).dropped).toEqual([]);
  });
});

describe('headerRenames', () => {
  it('renames the header found for the old column, unless the new name is a header already', () => {
    const { renames, clashes } = headerRenames(
      ['id', 'Name', 'qty', 'bin', '_sheetsync_id'],
      [
        { from: 'name', to: 'title' },
        { from: 'qty', to: 'bin' },
        { from: 'missing', to: 'other' },
      ],
      headerResolver,
    );
    expect(renames).toEqual([{ from: 'Name', to: 'title' }]);
    expect(clashes).toEqual([{ from: 'qty', to: 'bin' }]);
  });
});
