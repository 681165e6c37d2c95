import { describe, expect, it } from 'vitest';
import { SheetsyncError } from '../../functions/src/errors.ts';
import {
  changesToBusMessages,
  changeToBusMessage,
  KEY_BUCKETS,
  type OutboxRow,
  outboxRowToChanges,
  storedChangeParts,
} from '../../functions/src/relay/outbox-messages.ts';
import {
  dbChangeOrderingKey,
  dbDot,
  parseDbChangeMessage,
  parseDbChanges,
} from '../../functions/src/wire/db-change.ts';

const row: OutboxRow = {
  id: '42',
  link: 'stock',
  tableName: 'public.items',
  op: 'UPDATE',
  origin: 'sheet',
  dot: 'sheet:7',
  txid: '991',
  time: '2026-11-25T14:00:00.123456Z',
  keyColumns: ['region', 'id'],
  columnTypes: { region: 'text', id: 'bigint', qty: 'integer' },
  changes: [
    { k: { region: 'eu', id: '1' }, c: { qty: 3 } },
    {
      k: { region: 'eu', id: '5' },
      pk: { region: 'eu', id: '2' },
      c: { region: 'eu', id: '5', qty: 1 },
      o: { region: 'eu', id: '2', qty: 1 },
    },
  ],
};

describe('outbox rows to messages', () => {
  it('gives each change a stable id from its outbox row and position', () => {
    const [first, second] = outboxRowToChanges(row);
    expect(first).toMatchObject({
      outboxId: '42',
      index: 0,
      changeId: 42000,
      cells: { qty: 3 },
      origin: 'sheet',
      dot: 'sheet:7',
    });
    expect(first).not.toHaveProperty('previousKey');
    expect(second).toMatchObject({
      index: 1,
      changeId: 42001,
      previousKey: { region: 'eu', id: '2' },
      old: { qty: 1 },
    });
    expect(dbDot(second!)).toBe('db:42001');
  });

  it('orders by link and the key values in key order, and round-trips through the wire schema', () => {
    const [first] = outboxRowToChanges(row);
    const message = changeToBusMessage(first!);
    expect(message.orderingKey).toBe('stock/["eu","1"]');
    expect(message.orderingKey).toBe(
      dbChangeOrderingKey('stock', ['region', 'id'], { id: '1', region: 'eu' }),
    );
    expect(message.attributes).toEqual({ link: 'stock', origin: 'sheet', op: 'UPDATE', changeId: '42000' });
    expect(parseDbChangeMessage(message.data)).toEqual(first);
  });

  it('reads the compact UPDATE form [key, column, value, ...] as the key and the changed cells', () => {
    const changes = outboxRowToChanges({
      ...row,
      changes: [
        [{ region: 'eu', id: '1' }, 'qty', 3, 'note', null, 'tags', ['a', 'b']],
        [{ region: 'eu', id: '2' }, 'qty', 0],
        { k: { region: 'eu', id: '5' }, pk: { region: 'eu', id: '4' }, c: { id: '5' }, o: { id: '4' } },
      ],
    });
    expect(changes.map((c) => [c.index, c.key, c.cells])).toEqual([
      [0, { region: 'eu', id: '1' }, { qty: 3, note: null, tags: ['a', 'b'] }],
      [1, { region: 'eu', id: '2' }, { qty: 0 }],
      [2, { region: 'eu', id: '5' }, { id: '5' }],
    ]);
    expect(changes[0]).not.toHaveProperty('old');
    expect(changes[0]).not.toHaveProperty('previousKey');
    expect(changes[2]).toMatchObject({ previousKey: { region: 'eu', id: '4' }, old: { id: '4' } });
    expect(storedChangeParts([{ id: 1 }])).toEqual({ k: { id: 1 }, c: {} });
  });

  it('a DELETE has no cells, only the key and the old row', () => {
    const [change] = outboxRowToChanges({
      ...row,
      op: 'DELETE',
      changes: [{ k: { region: 'eu', id: '1' }, o: { qty: 3 } }],
    });
    expect(change).toMatchObject({ op: 'DELETE', cells: {}, old: { qty: 3 } });
  });

  it('rejects a malformed message with SHEETSYNC_E301 naming the field', () => {
    const [first] = outboxRowToChanges(row);
    const bad = JSON.stringify({ ...first, changeId: -1 });
    expect(() => parseDbChangeMessage(bad)).toThrow(SheetsyncError);
    expect(() => parseDbChangeMessage(bad)).toThrow(/changeId/);
    expect(() => parseDbChangeMessage('{')).toThrow(/not JSON/);
  });

  it("sends a TRUNCATE to every key bucket of its link, after each bucket's earlier changes and before its later ones", () => {
    const insert = (outboxId: string, ids: number[]) =>
      outboxRowToChanges({
        ...row,
        id: outboxId,
        op: 'INSERT',
        origin: 'db',
        dot: null,
        keyColumns: ['id'],
        changes: ids.map((id) => ({ k: { id }, c: { id, qty: id } })),
      });
    const [truncate, ...extra] = outboxRowToChanges({
      ...row,
      id: '50',
      op: 'TRUNCATE',
      origin: 'db',
      dot: null,
      keyColumns: ['id'],
      columnTypes: {},
      changes: [{ k: {} }],
    });
    expect(extra).toEqual([]);
    expect(truncate).toMatchObject({ op: 'TRUNCATE', changeId: 50000, key: {}, cells: {}, link: 'stock' });
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    const before = insert('49', ids);
    const after = insert('51', ids);
    // Another link's changes are not touched by the truncate.
    const other = insert('52', [1]).map((c) => ({ ...c, link: 'other' }));
    const messages = changesToBusMessages([...before, truncate!, ...after, ...other]);

    const byKey = new Map<string, ReturnType<typeof parseDbChanges>>();
    for (const m of messages)
      byKey.set(m.orderingKey!, [...(byKey.get(m.orderingKey!) ?? []), ...parseDbChanges(m.data)]);
    const stockKeys = [...byKey.keys()].filter((k) => k.startsWith('stock/'));
    expect(stockKeys.sort()).toEqual(Array.from({ length: KEY_BUCKETS }, (_, b) => `stock/b${b}`).sort());
    for (const key of stockKeys) {
      const changes = byKey.get(key)!;
      const truncates = changes.filter((c) => c.op === 'TRUNCATE');
      expect(truncates, key).toHaveLength(1);
      expect(truncates[0]).toEqual(truncate);
      // In outbox order: every earlier change of the bucket, the truncate, then the later ones.
      const at = changes.indexOf(truncates[0]!);
      expect(
        changes.slice(0, at).every((c) => c.outboxId === '49'),
        key,
      ).toBe(true);
      expect(
        changes.slice(at + 1).every((c) => c.outboxId === '51'),
        key,
      ).toBe(true);
      expect(changes.map((c) => c.changeId)).toEqual(
        [...changes.map((c) => c.changeId)].sort((a, b) => a - b),
      );
    }
    // Every row change is published once, in the bucket of its key.
    const rowChanges = [...byKey.values()].flat().filter((c) => c.op !== 'TRUNCATE');
    expect(rowChanges).toHaveLength(before.length + after.length + other.length);
    expect([...byKey].filter(([k]) => k.startsWith('other/')).flatMap(([, c]) => c)).toHaveLength(1);
  });

  it('sends a SCHEMA change to every key bucket, marked to be reported in bucket 0 only', () => {
    const [schema] = outboxRowToChanges({
      ...row,
      id: '60',
      op: 'SCHEMA',
      origin: 'db',
      dot: null,
      keyColumns: ['id'],
      changes: [{ k: {}, c: { renamed: { qty: 'quantity' }, dropped: ['bin'], retyped: {} } }],
    });
    const messages = changesToBusMessages([schema!]);
    expect(messages).toHaveLength(KEY_BUCKETS);
    const reported = messages.filter((m) => parseDbChanges(m.data)[0]!.cells.report === true);
    expect(reported.map((m) => m.orderingKey)).toEqual(['stock/b0']);
    for (const m of messages)
      expect(parseDbChanges(m.data)[0]!.cells).toMatchObject({
        renamed: { qty: 'quantity' },
        dropped: ['bin'],
      });
  });
});
