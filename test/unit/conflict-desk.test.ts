/**
 * The conflict desk behind the dashboard and `sheetsync conflicts resolve`: what it publishes for
 * a person's choice, and the choices it refuses.
 */
import { describe, expect, it } from 'vitest';
import { conflictDesk } from '../../cli/src/dashboard/open-conflicts.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { isResolutionEventId, staleChoice } from '../../functions/src/core/conflict-resolution.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import type { Bus } from '../../functions/src/ports.ts';
import { parseSheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';

const rowId = '7f1c2d3e-4b5a-4c6d-8e7f-901234567890';

function row(status: string): RowDocument {
  return {
    rowId,
    key: { id: 1 },
    vv: { sheet: 1, db: 6 },
    cells: {
      status: {
        value: status,
        dot: 'db:6',
        time: { wall: 110, logical: 0 },
        echoed: true,
        sheetValue: status,
        sheetWrittenAt: 120,
      },
    },
    tombstone: null,
    events: { e115: { counter: 1, wall: 115 } },
    eventsFloor: 0,
  };
}

const conflict = (id: string): ConflictRecord => ({
  id,
  link: 'crm',
  rowId,
  column: 'status',
  reason: 'concurrent',
  policy: 'manual',
  sheet: { value: 'won', dot: 'sheet:1', time: { wall: 115, logical: 0 } },
  db: { value: 'lost', dot: 'db:6', time: { wall: 110, logical: 0 } },
  outcome: 'db',
  value: 'lost',
  status: 'open',
  detectedAt: 130,
  resolution: null,
});

async function desk(current: string) {
  const store = new MemoryVersionStore();
  await store.commitRows('crm', [{ next: row(current), conflicts: [conflict('a'.repeat(32))] }]);
  const published: Array<{ topic: string; data: string; orderingKey?: string }> = [];
  const bus = {
    async publish(topic: string, messages: Array<{ data: Buffer; orderingKey?: string }>) {
      for (const m of messages)
        published.push({ topic, data: m.data.toString(), orderingKey: m.orderingKey });
      return messages.map((_, i) => String(i));
    },
  } as unknown as Bus;
  return { store, published, desk: conflictDesk({ store, bus, links: ['crm'], now: () => 200 }) };
}

describe('the conflict desk', () => {
  it('publishes the chosen value as a resolution the sheet does not show yet', async () => {
    const { desk: d, published, store } = await desk('lost');
    const resolved = await d.resolve('a'.repeat(32), 'sheet');
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolution: { choice: 'sheet', value: 'won', at: 200 },
    });
    expect(published).toHaveLength(1);
    const message = parseSheetChangeMessage(published[0]!.data);
    expect(message).toMatchObject({ link: 'crm', rowId, op: 'upsert', cells: { status: 'won' }, time: 200 });
    expect(isResolutionEventId(message.eventId)).toBe(true);
    expect(await store.listOpenConflicts('crm')).toEqual([]);
  });

  it('publishes nothing for the DB value, which both sides show', async () => {
    const { desk: d, published } = await desk('lost');
    await d.resolve('a'.repeat(32), 'db');
    expect(published).toEqual([]);
  });

  it('refuses a value that would overwrite a change made since the conflict (E410), and keeps it open', async () => {
    const { desk: d, published, store } = await desk('changed later');
    const refused = await d.resolve('a'.repeat(32), { value: 'agreed' }).catch((e: Error) => e);
    expect(refused).toMatchObject({ code: 'SHEETSYNC_E410' });
    expect((refused as Error).message).toContain('it held "lost", now "changed later"');
    expect(published).toEqual([]);
    expect((await store.listOpenConflicts('crm')).map((c) => c.id)).toEqual(['a'.repeat(32)]);
    // Taking the DB value writes nothing, so it closes the conflict.
    await d.resolve('a'.repeat(32), 'db');
    expect(await store.listOpenConflicts('crm')).toEqual([]);
    expect(published).toEqual([]);
  });

  it('staleChoice: only a writing choice on a changed cell is refused', () => {
    const c = conflict('b'.repeat(32));
    expect(staleChoice(c, 'sheet', 'lost')).toBeNull();
    expect(staleChoice(c, 'sheet', undefined)).toBeNull();
    expect(staleChoice(c, 'db', 'other')).toBeNull();
    expect(staleChoice(c, 'sheet', 'other')?.code).toBe('SHEETSYNC_E410');
    expect(staleChoice(c, { value: 'x' }, null)?.code).toBe('SHEETSYNC_E410');
  });
});
