/**
 * Rows sorted without their hidden ids (functions/src/handlers/sheet-webhook/reidentify.ts):
 * recognised from the rows' documents, answered with the ids to write, and nothing published.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/src/config.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import {
  cellKey,
  findRowPermutation,
  keysOfMovedRows,
} from '../../functions/src/handlers/sheet-webhook/reidentify.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { WebhookRow } from '../../functions/src/wire/webhook.ts';
import { signedHeaders } from '../support/signed-request.ts';
import { row } from '../support/version-store-contract.ts';

const ids = Array.from({ length: 4 }, () => randomUUID());
/** What sheetsync knows the sheet shows, row by row (canonical values). */
const known = [
  { sku: 'A-1', qty: 3, price: '9.5', seen: '2026-11-26T10:00:00.000Z' },
  { sku: 'B-2', qty: 1, price: '12', seen: null },
  { sku: 'C-3', qty: 7, price: '0.25', seen: '2026-11-26T11:30:00.000Z' },
  { sku: 'D-4', qty: 2, price: null, seen: null },
];
const docs = new Map<string, RowDocument>(ids.map((id, i) => [id, row(id, known[i]!)]));

/** The same rows as the sheet holds them (raw values, as the script sends them). */
const raw = [
  { sku: 'A-1', qty: 3, price: 9.5, seen: '2026-11-26T11:00:00.000+01:00' },
  { sku: 'B-2', qty: 1, price: 12, seen: '' },
  { sku: 'C-3', qty: 7, price: 0.25, seen: '2026-11-26T11:30:00.000Z' },
  { sku: 'D-4', qty: 2, price: '', seen: '' },
];

/** The event after the values were sorted into `order` (indexes into raw) and the ids stayed. */
function sortedEvent(order: number[]): WebhookRow[] {
  return order.map((from, position) => ({
    rowId: ids[position]!,
    row: position + 2,
    isNew: false,
    cells: { ...raw[from]! },
  }));
}

describe('findRowPermutation', () => {
  it('finds the id each moved row should carry, across raw and canonical forms', () => {
    // Sorted by qty descending: C-3, A-1, D-4, B-2.
    const moves = findRowPermutation(sortedEvent([2, 0, 3, 1]), docs);
    expect(moves).toEqual([
      { row: 2, from: ids[0], to: ids[2] },
      { row: 3, from: ids[1], to: ids[0] },
      { row: 4, from: ids[2], to: ids[3] },
      { row: 5, from: ids[3], to: ids[1] },
    ]);
  });

  it('leaves out rows that did not move', () => {
    const moves = findRowPermutation(sortedEvent([1, 0, 2, 3]), docs);
    expect(moves).toEqual([
      { row: 2, from: ids[0], to: ids[1] },
      { row: 3, from: ids[1], to: ids[0] },
    ]);
  });

  it('is null for real edits: a changed value, values not all among the rows, one moved row', () => {
    const edited = sortedEvent([1, 0, 2, 3]);
    edited[0]!.cells.qty = 99;
    expect(findRowPermutation(edited, docs)).toBeNull();
    const copied = sortedEvent([0, 0, 2, 3]);
    expect(findRowPermutation(copied, docs)).toBeNull();
    const unchanged = sortedEvent([0, 1, 2, 3]);
    expect(findRowPermutation(unchanged, docs)).toBeNull();
  });

  it('is null when the event lacks a synced column (a sort of some columns moves values between rows)', () => {
    const some = sortedEvent([1, 0, 2, 3]).map((r) => {
      const { price: _price, ...cells } = r.cells;
      return { ...r, cells };
    });
    expect(findRowPermutation(some, docs)).toBeNull();
  });

  it('is null for new rows, unknown or deleted rows, and rows whose known values lag the sheet', () => {
    const withNew = sortedEvent([1, 0, 2, 3]);
    withNew[2]!.isNew = true;
    expect(findRowPermutation(withNew, docs)).toBeNull();
    const partial = new Map(docs);
    partial.delete(ids[3]!);
    expect(findRowPermutation(sortedEvent([1, 0, 2, 3]), partial)).toBeNull();
    const deleted = new Map(docs);
    deleted.set(ids[1]!, {
      ...docs.get(ids[1]!)!,
      tombstone: { dot: 'db:9', time: { wall: 2, logical: 0 } },
    });
    expect(findRowPermutation(sortedEvent([1, 0, 2, 3]), deleted)).toBeNull();
    // Row 0 known (shown and decided) with a qty the sheet does not hold.
    const lagging = new Map(docs);
    lagging.set(ids[0]!, row(ids[0]!, { ...known[0]!, qty: 4 }));
    expect(findRowPermutation(sortedEvent([1, 0, 2, 3]), lagging)).toBeNull();
  });

  it('matches a row by the value shown or the value decided while a database change is on its way', () => {
    // Row 0's qty was changed to 4 in the table: the sheet may still show 3, or already show 4
    // before the document records that it does.
    const pending = new Map(docs);
    const doc = row(ids[0]!, known[0]!);
    doc.cells.qty = { ...doc.cells.qty!, value: 4, dot: 'db:7' };
    pending.set(ids[0]!, doc);
    const expected = [
      { row: 2, from: ids[0], to: ids[1] },
      { row: 3, from: ids[1], to: ids[0] },
    ];
    expect(findRowPermutation(sortedEvent([1, 0, 2, 3]), pending)).toEqual(expected);
    const shownAlready = sortedEvent([1, 0, 2, 3]);
    shownAlready[1]!.cells.qty = 4;
    expect(findRowPermutation(shownAlready, pending)).toEqual(expected);
    // Unmoved, it is no move either way.
    const unmoved = sortedEvent([0, 1, 3, 2]);
    unmoved[0]!.cells.qty = 4;
    expect(findRowPermutation(unmoved, pending)).toEqual([
      { row: 4, from: ids[2], to: ids[3] },
      { row: 5, from: ids[3], to: ids[2] },
    ]);
  });

  it('matches headers to columns loosely, as applyToDb does, and pairs rows of equal values', () => {
    const twin = randomUUID();
    const twins = new Map(docs);
    twins.set(twin, row(twin, known[1]!));
    const event: WebhookRow[] = [
      { rowId: ids[1]!, row: 2, isNew: false, cells: { SKU: 'A-1', Qty: 3, Price: 9.5, Seen: raw[0]!.seen } },
      { rowId: ids[0]!, row: 3, isNew: false, cells: { SKU: 'B-2', Qty: 1, Price: 12, Seen: '' } },
      { rowId: twin, row: 4, isNew: false, cells: { SKU: 'B-2', Qty: 1, Price: 12, Seen: '' } },
    ];
    expect(findRowPermutation(event, twins)).toEqual([
      { row: 2, from: ids[1], to: ids[0] },
      { row: 3, from: ids[0], to: ids[1] },
    ]);
  });
});

describe('a part of a split sort', () => {
  // Rows 0 and 1 of the table form a part; rows 2 and 3 are in another part.
  const keyed = new Map<string, RowDocument>(
    ids.map((id, i) => [id, row(id, known[i]!, { key: { sku: known[i]!.sku } })]),
  );
  const part = (order: number[]): WebhookRow[] => sortedEvent(order).slice(0, 2);

  it('names the keys among the moved rows values, in the form of the rows own keys', () => {
    expect(keysOfMovedRows(part([2, 3, 0, 1]), keyed)).toEqual([{ sku: 'C-3' }, { sku: 'D-4' }]);
    expect(keysOfMovedRows(part([0, 3, 2, 1]), keyed)).toEqual([{ sku: 'D-4' }]);
    const numeric = new Map<string, RowDocument>([
      [ids[0]!, row(ids[0]!, { n: 1, label: 'a' }, { key: { n: '1' } })],
      [ids[1]!, row(ids[1]!, { n: 2, label: 'b' }, { key: { n: 2 } })],
    ]);
    const rows: WebhookRow[] = [
      { rowId: ids[0]!, row: 2, isNew: false, cells: { n: 7, label: 'x' } },
      { rowId: ids[1]!, row: 3, isNew: false, cells: { n: '8', label: 'y' } },
    ];
    // A bigint key is decimal text, an integer key a number.
    expect(keysOfMovedRows(rows, numeric)).toEqual([{ n: '7' }, { n: 8 }]);
    // No key among the values: no keys.
    const noKey = rows.map((r) => ({ ...r, cells: { label: r.cells.label! } }));
    const labelled = new Map(
      [...numeric].map(([id, d]) => [id, row(id, { label: d.cells.label!.value }, { key: d.key })]),
    );
    expect(keysOfMovedRows(noKey, labelled)).toBeUndefined();
  });

  it('moves a part s rows to rows of other parts whose values they hold', () => {
    const rows = part([2, 3, 0, 1]);
    expect(findRowPermutation(rows, keyed)).toBeNull();
    const others = new Map([ids[2]!, ids[3]!].map((id) => [id, keyed.get(id)!]));
    expect(findRowPermutation(rows, keyed, others)).toEqual([
      { row: 2, from: ids[0], to: ids[2] },
      { row: 3, from: ids[1], to: ids[3] },
    ]);
    // One moved row is enough in a part; a row that holds nobody's values is not.
    expect(findRowPermutation(part([0, 3, 2, 1]), keyed, others)).toEqual([
      { row: 3, from: ids[1], to: ids[3] },
    ]);
    const edited = part([2, 3, 0, 1]);
    edited[1]!.cells.qty = 50;
    expect(findRowPermutation(edited, keyed, others)).toBeNull();
  });
});

describe('cellKey', () => {
  it('is the same for a raw sheet value and its canonical form', () => {
    expect(cellKey(12.5)).toBe(cellKey('12.50'));
    expect(cellKey(1e21)).toBe(cellKey('1000000000000000000000'));
    expect(cellKey('')).toBe(cellKey(null));
    expect(cellKey('2026-11-26T11:00:00.000+01:00')).toBe(cellKey('2026-11-26T10:00:00.000Z'));
    expect(cellKey('{"b": [1, 2], "a": null}')).toBe(cellKey({ a: null, b: [1, 2] }));
    expect(cellKey('TRUE')).toBe(cellKey(true));
  });

  it('tells different values apart, also where numbers would round', () => {
    expect(cellKey('12345678901234567890')).not.toBe(cellKey('12345678901234567891'));
    expect(cellKey('1.5')).not.toBe(cellKey('1.50001'));
    expect(cellKey('A-1')).not.toBe(cellKey('a-1'));
    expect(cellKey(0)).not.toBe(cellKey(null));
    expect(cellKey(false)).not.toBe(cellKey(''));
  });
});

describe('sheetWebhook with rows sorted without their ids', () => {
  const secret = 'test-secret-0123456789';
  const now = 1_800_000_000_000;
  const config = parseConfig({
    links: [{ name: 'items', spreadsheetId: 'ss1', sheet: 'Items', table: 'public.items' }],
  });

  function setup() {
    const published: unknown[] = [];
    const reads: string[][] = [];
    const deps: WebhookDeps = {
      config,
      secrets: [secret],
      replayGuard: memoryReplayGuard(),
      publish: async (messages) => {
        published.push(...messages);
      },
      liveRowIds: async () => [],
      documents: {
        readRows: async (link, rowIds) => {
          expect(link).toBe('items');
          reads.push([...rowIds]);
          return new Map(rowIds.flatMap((id) => (docs.has(id) ? [[id, docs.get(id)!] as const] : [])));
        },
        rowIdsForKeys: async () => new Map(),
      },
      logger: silentLogger,
      now: () => now,
    };
    return { deps, published, reads };
  }

  function request(extra: Record<string, unknown>) {
    const body = {
      v: 1,
      eventId: randomUUID(),
      kind: 'edit',
      spreadsheetId: 'ss1',
      sheet: 'Items',
      sheetId: 0,
      headers: ['sku', 'qty', 'price', 'seen', '_sheetsync_id'],
      time: now - 50,
      ...extra,
    };
    const rawBody = Buffer.from(JSON.stringify(body));
    return {
      method: 'POST',
      headers: signedHeaders(secret, 'ss1', rawBody, { timestamp: now }),
      rawBody,
    };
  }

  it('answers the moves and publishes nothing; a retry of the event gets them again', async () => {
    const { deps, published } = setup();
    const req = request({ rows: sortedEvent([3, 2, 1, 0]), canReidentify: true });
    const answer = await handleWebhook(req, deps);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      published: 0,
      reidentify: [
        { row: 2, from: ids[0], to: ids[3] },
        { row: 3, from: ids[1], to: ids[2] },
        { row: 4, from: ids[2], to: ids[1] },
        { row: 5, from: ids[3], to: ids[0] },
      ],
    });
    expect(published).toEqual([]);
    const again = await handleWebhook(req, deps);
    expect(again.status).toBe(409);
    expect(again.body.reidentify).toEqual(answer.body.reidentify);
    expect(published).toEqual([]);
  });

  it('publishes as edits what is not a permutation, and everything from a script that cannot follow the answer', async () => {
    const { deps, published, reads } = setup();
    const edited = sortedEvent([1, 0, 2, 3]);
    edited[1]!.cells.qty = 40;
    expect((await handleWebhook(request({ rows: edited, canReidentify: true }), deps)).body).toEqual({
      published: 4,
    });
    expect((await handleWebhook(request({ rows: sortedEvent([1, 0, 2, 3]) }), deps)).body).toEqual({
      published: 4,
    });
    const changes = (
      published as Array<{ data: { changes: Array<{ rowId: string; cells: unknown }> } }>
    ).flatMap((m) => m.data.changes);
    expect(changes).toHaveLength(8);
    expect(changes.find((c) => c.rowId === ids[1])?.cells).toEqual({ ...raw[0], qty: 40 });
    // Only the event that could be a permutation read documents.
    expect(reads).toEqual([ids]);
  });

  it('reads a sample of a big edit first: all documents only when it may be a sort', async () => {
    const { deps, reads } = setup();
    const many: string[] = Array.from({ length: 40 }, () => randomUUID());
    const manyDocs = new Map(many.map((id, i) => [id, row(id, { sku: `S-${i}`, qty: i })]));
    deps.documents!.readRows = async (_link, rowIds) => {
      reads.push([...rowIds]);
      return new Map(rowIds.map((id) => [id, manyDocs.get(id)!]));
    };
    const rowsWith = (values: (i: number) => { sku: string; qty: number }) =>
      many.map((id, i) => ({ rowId: id, row: i + 2, isNew: false, cells: values(i) }));
    // New values in every row: 16 documents read, published as edits.
    const edit = await handleWebhook(
      request({ rows: rowsWith((i) => ({ sku: `S-${i}`, qty: 100 + i })), canReidentify: true }),
      deps,
    );
    expect(edit.body).toEqual({ published: 40 });
    expect(reads.map((r) => r.length)).toEqual([16]);
    // Reversed: the sample may be a sort, so the other 24 are read, and it is one.
    reads.length = 0;
    const sort = await handleWebhook(
      request({ rows: rowsWith((i) => ({ sku: `S-${39 - i}`, qty: 39 - i })), canReidentify: true }),
      deps,
    );
    expect(reads.map((r) => r.length)).toEqual([16, 24]);
    expect((sort.body.reidentify as unknown[]).length).toBe(40);
  });

  it('reads no documents for one row, new rows or rows with different columns', async () => {
    const { deps, reads } = setup();
    const one = sortedEvent([1]);
    await handleWebhook(request({ rows: one, canReidentify: true }), deps);
    const mixed = sortedEvent([1, 0]);
    mixed[1]!.cells = { qty: 3 };
    await handleWebhook(request({ rows: mixed, canReidentify: true }), deps);
    const fresh = sortedEvent([1, 0]);
    fresh[0]!.isNew = true;
    await handleWebhook(request({ rows: fresh, canReidentify: true }), deps);
    expect(reads).toEqual([]);
  });

  it('answers a part of a split sort with moves to rows of other parts, found by key', async () => {
    const { deps, published, reads } = setup();
    const keyed = new Map<string, RowDocument>(
      ids.map((id, i) => [id, row(id, known[i]!, { key: { sku: known[i]!.sku } })]),
    );
    const keysAsked: unknown[] = [];
    deps.documents!.readRows = async (_link, rowIds) => {
      reads.push([...rowIds]);
      return new Map(rowIds.map((id) => [id, keyed.get(id)!]));
    };
    deps.documents!.rowIdsForKeys = async (_link, keys) => {
      keysAsked.push(...keys);
      const bySku = new Map(known.map((k, i) => [k.sku, ids[i]!]));
      return new Map(keys.map((k) => [String(k.sku), bySku.get(String(k.sku))!]));
    };
    const rows = sortedEvent([2, 3, 0, 1]).slice(0, 2);
    const part = { group: randomUUID(), index: 0, count: 2 };
    const answer = await handleWebhook(request({ rows, canReidentify: true, part }), deps);
    expect(answer.body).toEqual({
      published: 0,
      reidentify: [
        { row: 2, from: ids[0], to: ids[2] },
        { row: 3, from: ids[1], to: ids[3] },
      ],
    });
    expect(keysAsked).toEqual([{ sku: 'C-3' }, { sku: 'D-4' }]);
    expect(reads).toEqual([
      [ids[0], ids[1]],
      [ids[2], ids[3]],
    ]);
    expect(published).toEqual([]);
    // The same rows without `part` are no permutation on their own: published as edits.
    const whole = await handleWebhook(request({ rows, canReidentify: true }), deps);
    expect(whole.body).toEqual({ published: 2 });
  });

  it('answers 503 and keeps the event retryable when the documents cannot be read', async () => {
    const { deps, published } = setup();
    deps.documents!.readRows = async () => {
      throw new Error('firestore down');
    };
    const req = request({ rows: sortedEvent([1, 0, 2, 3]), canReidentify: true });
    expect((await handleWebhook(req, deps)).status).toBe(503);
    expect(published).toEqual([]);
    deps.documents!.readRows = async (_link, rowIds) => new Map(rowIds.map((id) => [id, docs.get(id)!]));
    expect((await handleWebhook(req, deps)).status).toBe(200);
  });
});
