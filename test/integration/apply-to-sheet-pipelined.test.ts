/**
 * applyToSheet releases the next flush after its sheet write, while its version-store commit is
 * still running (GroupCommit release). The next flush must then see the rows that commit is
 * writing: a new row's key (else an UPDATE right after the INSERT would append a second row),
 * and its document (else the UPDATE would be decided against nothing). The store here is slowed
 * down so the second flush always runs while the first commit is under way.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { ID_HEADER, SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { createApplyToSheet, type DbDelivery } from '../../functions/src/functions/apply-to-sheet.ts';
import { GroupCommit } from '../../functions/src/functions/group-commit.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { DbChangeMessage } from '../../functions/src/wire/db-change.ts';
import { tabValues } from '../support/sheet-state.ts';
import { leadsChange, SlowStore } from '../support/slow-store.ts';

describe('applyToSheet with flushes overlapping the previous commit', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
  });
  afterAll(() => emulator.close());

  it('an UPDATE flushed while the INSERT is still committing updates the new row, and a DELETE after both removes it', async () => {
    const spreadsheetId = `pipelined-${randomUUID()}`;
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
    const api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger, writesPerMinute: 600 });
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Leads!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [['id', 'name', 'score']] },
    });
    const store = new SlowStore();
    const apply = createApplyToSheet({
      store,
      links: new Map([
        [
          'leads',
          {
            tab: new SheetTab(api, spreadsheetId, 'Leads', { changeToken: () => store.sheetEpochs('leads') }),
            addMissingHeaders: false,
          },
        ],
      ]),
      logger: silentLogger,
    });
    const group = new GroupCommit<DbDelivery, string>(apply.flush, { windowMs: 5, maxItems: 1 });
    const submit = (message: DbChangeMessage) => group.submit({ message: [message], attempt: 1 });

    const results = await Promise.all([
      submit(leadsChange('INSERT', 1, { id: 1, name: 'Ada', score: 1 })),
      submit(leadsChange('UPDATE', 1, { score: 2 })),
      submit(leadsChange('INSERT', 2, { id: 2, name: 'Bo', score: 5 })),
      submit(leadsChange('UPDATE', 2, { name: 'Bob' })),
    ]);
    expect(results).toEqual(['ack', 'ack', 'ack', 'ack']);
    expect(store.maxCommitsInFlight).toBeGreaterThan(1); // the flushes did overlap
    let rows = tabValues(emulator, spreadsheetId, 'Leads!A1:D');
    expect(rows[0]).toEqual(['id', 'name', 'score', ID_HEADER]);
    expect(rows.slice(1).map((r) => r.slice(0, 3))).toEqual([
      [1, 'Ada', 2],
      [2, 'Bob', 5],
    ]);
    const [doc1] = [...(await store.readRows('leads', [String(rows[1]![3])])).values()];
    expect(doc1?.cells.score?.value).toBe(2);

    await Promise.all([
      submit(leadsChange('UPDATE', 1, { name: 'Ada L.' })),
      submit(leadsChange('DELETE', 1, {})),
    ]);
    await group.drain();
    rows = tabValues(emulator, spreadsheetId, 'Leads!A1:D');
    expect(rows.slice(1).map((r) => r.slice(0, 3))).toEqual([[2, 'Bob', 5]]);
  });
});
