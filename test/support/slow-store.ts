/**
 * For tests of applyToSheet's overlapping flushes: a version store whose commits take 400 ms (so
 * the next flush always runs while one is under way), outbox changes built by hand, and
 * applyToSheet over both (slowApplyToSheet).
 */
import { randomUUID } from 'node:crypto';
import type { Emulator } from '../../emulator/src/server.ts';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { createApplyToSheet, type DbDelivery } from '../../functions/src/handlers/apply-to-sheet.ts';
import { GroupCommit } from '../../functions/src/handlers/group-commit.ts';
import { silentLogger } from '../../functions/src/log.ts';
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

/**
 * applyToSheet for link `leads` on tab "Leads" of a new spreadsheet in `emulator` (its first rows
 * `values`), over a SlowStore, with the kept tab snapshot as deployed; `submit` hands it one
 * change per flush through a GroupCommit.
 */
export async function slowApplyToSheet(emulator: Emulator, name: string, values: unknown[][]) {
  const spreadsheetId = `${name}-${randomUUID()}`;
  emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
  const api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger, writesPerMinute: 600 });
  await api.client.spreadsheets.values.update({
    spreadsheetId,
    range: 'Leads!A1',
    valueInputOption: 'RAW',
    requestBody: { values },
  });
  const store = new SlowStore();
  const tab = new SheetTab(api, spreadsheetId, 'Leads', { changeToken: () => store.sheetEpochs('leads') });
  const apply = createApplyToSheet({
    store,
    links: new Map([['leads', { tab, addMissingHeaders: false }]]),
    logger: silentLogger,
  });
  const group = new GroupCommit<DbDelivery, string>(apply.flush, { windowMs: 5, maxItems: 1 });
  const submit = (message: DbChangeMessage) => group.submit({ message: [message], attempt: 1 });
  return { spreadsheetId, store, group, submit, apply };
}
