import { describe, expect, it } from 'vitest';
import {
  changesToBusMessages,
  KEY_BUCKETS,
  outboxRowToChanges,
} from '../../functions/src/relay/outbox-messages.ts';
import { type DbChangeMessage, parseDbChanges } from '../../functions/src/wire/db-change.ts';

/** Two outbox rows (statements) each updating rows 1..n of link `leads`. */
function twoStatements(n: number, note = ''): DbChangeMessage[] {
  const statement = (id: string, score: number) =>
    outboxRowToChanges({
      id,
      link: 'leads',
      tableName: 'public.leads',
      op: 'UPDATE',
      origin: 'db',
      dot: null,
      txid: id,
      time: '2026-11-25T14:00:00.000000Z',
      keyColumns: ['id'],
      columnTypes: { id: 'integer', score: 'integer', note: 'text' },
      changes: Array.from({ length: n }, (_, i) => ({ k: { id: i + 1 }, c: { score, note } })),
    });
  return [...statement('1', 1), ...statement('2', 2)];
}

describe('relay batches to bus messages', () => {
  it('puts every change of a row under one bucket key, in outbox order, and loses none', () => {
    const changes = twoStatements(1000);
    const messages = changesToBusMessages(changes);
    expect(messages.length).toBeLessThanOrEqual(KEY_BUCKETS);
    const keysOfRow = new Map<number, Set<string>>();
    const order = new Map<number, number[]>();
    for (const m of messages) {
      expect(m.orderingKey).toMatch(/^leads\/b(\d|1[0-5])$/);
      for (const c of parseDbChanges(m.data)) {
        const id = c.key.id as number;
        keysOfRow.set(id, new Set([...(keysOfRow.get(id) ?? []), m.orderingKey!]));
        order.set(id, [...(order.get(id) ?? []), c.changeId]);
      }
    }
    expect(keysOfRow.size).toBe(1000);
    for (const keys of keysOfRow.values()) expect(keys.size).toBe(1);
    for (const ids of order.values()) {
      expect(ids).toHaveLength(2);
      expect(ids[0]!).toBeLessThan(ids[1]!);
    }
    expect([...order.values()].flat()).toHaveLength(2000);
  });

  it('splits a bucket into successive messages of the same key under the size cap', () => {
    const changes = twoStatements(200, 'x'.repeat(10_000));
    const messages = changesToBusMessages(changes, 1);
    expect(messages.length).toBeGreaterThan(1);
    expect(new Set(messages.map((m) => m.orderingKey))).toEqual(new Set(['leads/b0']));
    for (const m of messages) expect(m.data.byteLength).toBeLessThan(512 * 1024);
    const ids = messages.flatMap((m) => parseDbChanges(m.data).map((c) => c.changeId));
    expect(ids).toEqual(changes.map((c) => c.changeId));
  });

  it('still reads a single-change body as earlier relays published it', () => {
    const [change] = twoStatements(1);
    expect(parseDbChanges(JSON.stringify(change))).toEqual([change]);
    expect(() => parseDbChanges('{"changes":[]}')).toThrow(/malformed at changes/);
  });
});
