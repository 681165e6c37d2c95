import { describe, expect, it } from 'vitest';
import { SheetsyncError } from '../../functions/src/errors.ts';
import {
  changeToBusMessage,
  type OutboxRow,
  outboxRowToChanges,
  storedChangeParts,
} from '../../functions/src/relay/outbox-messages.ts';
import { dbChangeOrderingKey, dbDot, parseDbChangeMessage } from '../../functions/src/wire/db-change.ts';

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
});
