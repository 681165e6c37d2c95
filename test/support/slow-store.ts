/**
 * For tests of applyToSheet's overlapping flushes: a version store whose commits take 400 ms (so
 * the next flush always runs while one is under way), and outbox changes built by hand.
 */
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import type { DbChangeMessage } from '../../functions/src/wire/db-change.ts';

export class SlowStore extends MemoryVersionStore {
  commitsInFlight = 0;
  maxCommitsInFlight = 0;
  override async commitRows(...args: Parameters<MemoryVersionStore['commitRows']>) {
    this.commitsInFlight++;
    this.maxCommitsInFlight = Math.max(this.maxCommitsInFlight, this.commitsInFlight);
    await new Promise((r) => setTimeout(r, 400));
    try {
      return await super.commitRows(...args);
    } finally {
      this.commitsInFlight--;
    }
  }
}

let outboxId = 1;

/** One change of public.leads (id integer, name text, score integer) for link `leads`. */
export function leadsChange(
  op: DbChangeMessage['op'],
  id: number,
  cells: Record<string, unknown>,
): DbChangeMessage {
  return {
    outboxId: String(outboxId++),
    index: 0,
    changeId: outboxId * 1000,
    link: 'leads',
    table: 'public.leads',
    op,
    keyColumns: ['id'],
    key: op === 'TRUNCATE' ? {} : { id },
    cells: cells as DbChangeMessage['cells'],
    ...(op === 'DELETE' ? { old: { id, ...cells } as DbChangeMessage['cells'] } : {}),
    types: { id: 'integer', name: 'text', score: 'integer' },
    origin: 'db',
    dot: null,
    txid: String(outboxId),
    time: new Date().toISOString(),
  };
}
