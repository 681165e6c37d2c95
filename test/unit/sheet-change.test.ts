import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sheetChangesToBatches } from '../../functions/src/handlers/sheet-webhook/batches.ts';
import { KEY_BUCKETS } from '../../functions/src/relay/outbox-messages.ts';
import {
  parseSheetChanges,
  type SheetChangeMessage,
  sheetChangeBucket,
  sheetChangeOrderingKey,
} from '../../functions/src/wire/sheet-change.ts';

function change(rowId: string, extra: Partial<SheetChangeMessage> = {}): SheetChangeMessage {
  return {
    v: 1,
    link: 'leads',
    rowId,
    op: 'upsert',
    cells: { name: 'Ada' },
    isNew: false,
    eventId: randomUUID(),
    time: 1_800_000_000_000,
    ...extra,
  };
}

describe('sheet change messages', () => {
  it('parses a batch body into its changes, in order', () => {
    const changes = [change(randomUUID()), change(randomUUID(), { op: 'delete', cells: {} })];
    expect(parseSheetChanges(JSON.stringify({ changes }))).toEqual(changes);
  });

  it('still parses a single-change body, as webhooks before batching published it', () => {
    const one = change(randomUUID(), { row: 4 });
    expect(parseSheetChanges(Buffer.from(JSON.stringify(one)))).toEqual([one]);
  });

  it.each([
    ['not JSON', '{"changes":', /not JSON/],
    ['an empty batch', '{"changes":[]}', /malformed at changes/],
    [
      'a change without a row id',
      JSON.stringify({ changes: [{ ...change(randomUUID()), rowId: 'x' }] }),
      /changes\.0\.rowId/,
    ],
    ['an unknown field', JSON.stringify({ changes: [change(randomUUID())], extra: 1 }), /malformed/],
  ])('refuses %s with SHEETSYNC_E310, naming the field', (_name, body, message) => {
    expect(() => parseSheetChanges(body)).toThrow(message);
    try {
      parseSheetChanges(body);
    } catch (error) {
      expect(error).toHaveProperty('code', 'SHEETSYNC_E310');
    }
  });

  it('keys a row by a stable bucket of its link and row id', () => {
    const rowId = '0b7c8f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
    // Stable across processes and versions: a fixed value (FNV-1a of "leads/<rowId>" mod 16).
    expect(sheetChangeBucket('leads', rowId)).toBe(5);
    expect(sheetChangeOrderingKey({ link: 'leads', rowId })).toBe('leads/b5');
    const spread = new Set(Array.from({ length: 400 }, () => sheetChangeBucket('leads', randomUUID())));
    expect(spread.size).toBe(KEY_BUCKETS);
  });
});

describe('sheetChangesToBatches', () => {
  it('puts every change of a row in one ordering key, in event order', () => {
    const rowId = randomUUID();
    const changes = [
      change(rowId, { cells: { name: 'a' } }),
      change(randomUUID()),
      change(rowId, { cells: { name: 'b' } }),
    ];
    const batches = sheetChangesToBatches(changes);
    const mine = batches.filter((b) => b.data.changes.some((c) => c.rowId === rowId));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.data.changes.filter((c) => c.rowId === rowId).map((c) => c.cells.name)).toEqual([
      'a',
      'b',
    ]);
  });

  it('splits a bucket under the byte cap, keeping order across its messages', () => {
    const changes = Array.from({ length: 300 }, (_, i) =>
      change(randomUUID(), { row: i + 2, cells: { note: 'x'.repeat(1000) } }),
    );
    const maxBytes = 20_000;
    const batches = sheetChangesToBatches(changes, { buckets: 1, maxBytes });
    expect(batches.length).toBeGreaterThan(10);
    for (const b of batches) {
      expect(Buffer.byteLength(JSON.stringify(b.data))).toBeLessThanOrEqual(maxBytes);
      expect(b.orderingKey).toBe('leads/b0');
    }
    expect(batches.flatMap((b) => b.data.changes.map((c) => c.row))).toEqual(changes.map((c) => c.row));
  });
});
