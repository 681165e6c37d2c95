/**
 * The Table port's contract (functions/src/ports/table.ts): what every database adapter must
 * do, through the port alone. test/integration/postgres-table.test.ts runs it on PostgreSQL; a
 * MySQL adapter runs the same suite with its own fixture.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cells } from '../../functions/src/core/cell-value.ts';
import { keyId } from '../../functions/src/core/key-id.ts';
import type { Table } from '../../functions/src/ports/table.ts';

export interface TableFixture {
  table: Table;
  /**
   * Creates (or empties) table `people`, watched by sheetsync: `id` an integer key the database
   * assigns, `name` text NOT NULL, `note` text NULL. Returns its name as `describe` takes it.
   */
  createPeople(): Promise<string>;
}

export function tableContract(engine: string, fixture: () => TableFixture): void {
  describe(`Table port contract (${engine})`, () => {
    let table: Table;
    let people: string;
    const link = { name: 'people-link' };

    beforeAll(async () => {
      table = fixture().table;
      people = await fixture().createPeople();
    });

    it('describes the columns, their defaults and the primary key', async () => {
      const schema = await table.describe(people, link);
      expect(schema.primaryKey).toEqual(['id']);
      expect(schema.columns.map((c) => [c.name, c.nullable, c.hasDefault])).toEqual([
        ['id', false, true],
        ['name', false, false],
        ['note', true, false],
      ]);
    });

    it('refuses a table that does not exist with a coded error', async () => {
      await expect(table.describe('no_such_table', link)).rejects.toMatchObject({ code: 'SHEETSYNC_E250' });
    });

    it('inserts rows, returning their keys, and reads them back locked by key', async () => {
      const schema = await table.describe(people, link);
      const [a, b] = [randomUUID(), randomUUID()];
      const written = await table.inSheetTransaction((tx) =>
        tx.write(
          schema,
          [
            { rowId: a, dot: 'sheet:1', key: undefined, cells: { name: 'Ada', note: null } },
            { rowId: b, dot: 'sheet:1', key: undefined, cells: { name: 'Brian', note: 'x' } },
          ],
          [],
        ),
      );
      expect(written.errors).toEqual([]);
      const keys = [written.keys.get(a), written.keys.get(b)] as Cells[];
      expect(keys.every((k) => typeof k?.id === 'number' || typeof k?.id === 'string')).toBe(true);
      const rows = await table.inSheetTransaction((tx) => tx.readForUpdate(schema, keys));
      expect(rows.get(keyId(keys[0]!))).toMatchObject({ name: 'Ada', note: null });
      expect(rows.get(keyId(keys[1]!))).toMatchObject({ name: 'Brian', note: 'x' });
    });

    it('updates only the columns given, and deletes by key', async () => {
      const schema = await table.describe(people, link);
      const id = randomUUID();
      const inserted = await table.inSheetTransaction((tx) =>
        tx.write(
          schema,
          [{ rowId: id, dot: 'sheet:1', key: undefined, cells: { name: 'Cleo', note: 'n' } }],
          [],
        ),
      );
      const key = inserted.keys.get(id)!;
      await table.inSheetTransaction((tx) =>
        tx.write(schema, [{ rowId: id, dot: 'sheet:2', key, cells: { note: 'changed' } }], []),
      );
      let rows = await table.inSheetTransaction((tx) => tx.readForUpdate(schema, [key as Cells]));
      expect(rows.get(keyId(key as Cells))).toMatchObject({ name: 'Cleo', note: 'changed' });
      const deleted = await table.inSheetTransaction((tx) =>
        tx.write(schema, [], [{ rowId: id, dot: 'sheet:3', key }]),
      );
      expect(deleted.deleted).toEqual(new Set([id]));
      rows = await table.inSheetTransaction((tx) => tx.readForUpdate(schema, [key as Cells]));
      expect(rows.size).toBe(0);
    });

    it('reports a row the table refuses with its code, and applies the others', async () => {
      const schema = await table.describe(people, link);
      const [bad, good] = [randomUUID(), randomUUID()];
      const written = await table.inSheetTransaction((tx) =>
        tx.write(
          schema,
          [
            { rowId: bad, dot: 'sheet:1', key: undefined, cells: { name: null, note: 'no name' } },
            { rowId: good, dot: 'sheet:1', key: undefined, cells: { name: 'Dora', note: null } },
          ],
          [],
        ),
      );
      expect(written.errors.map((e) => [e.rowId, e.op, e.code])).toEqual([[bad, 'upsert', 'SHEETSYNC_E409']]);
      expect(written.keys.has(good)).toBe(true);
      expect(written.keys.has(bad)).toBe(false);
    });

    it('keeps the sync id → key map of inserted rows, and forgets deleted ones', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      await table.inSheetTransaction((tx) =>
        tx.recordRowIds(link.name, [
          { rowId: a, key: { id: 101 } },
          { rowId: b, key: { id: 102 } },
        ]),
      );
      const found = await table.inSheetTransaction((tx) => tx.insertedKeys(link.name, [a, b, randomUUID()]));
      expect(found).toEqual(
        new Map([
          [a, { id: 101 }],
          [b, { id: 102 }],
        ]),
      );
      await table.inSheetTransaction((tx) => tx.forgetRowIds(link.name, [a]));
      expect(await table.inSheetTransaction((tx) => tx.insertedKeys(link.name, [a, b]))).toEqual(
        new Map([[b, { id: 102 }]]),
      );
      expect(await table.inSheetTransaction((tx) => tx.insertedKeys('another-link', [b]))).toEqual(new Map());
    });

    it('commits nothing of a transaction whose function throws', async () => {
      const schema = await table.describe(people, link);
      const id = randomUUID();
      let key: Cells | undefined;
      await expect(
        table.inSheetTransaction(async (tx) => {
          const written = await tx.write(
            schema,
            [{ rowId: id, dot: 'sheet:1', key: undefined, cells: { name: 'Gone', note: null } }],
            [],
          );
          key = written.keys.get(id) as Cells;
          throw new Error('stop');
        }),
      ).rejects.toThrow('stop');
      const rows = await table.inSheetTransaction((tx) => tx.readForUpdate(schema, [key!]));
      expect(rows.size).toBe(0);
    });

    it('does not take an error of its own making for a row refusal', () => {
      expect(table.isRowRefusal(new Error('not from the database'))).toBe(false);
    });
  });
}
