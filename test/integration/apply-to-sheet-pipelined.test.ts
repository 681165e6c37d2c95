/**
 * applyToSheet releases the next flush after its sheet write, while its version-store commit is
 * still running (GroupCommit release). The next flush must then see the rows that commit is
 * writing: a new row's key (else an UPDATE right after the INSERT would append a second row),
 * and its document (else the UPDATE would be decided against nothing). The store here is slowed
 * down so the second flush always runs while the first commit is under way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { ID_HEADER } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { tabValues } from '../support/sheet-state.ts';
import { leadsChange, slowApplyToSheet } from '../support/slow-store.ts';

describe('applyToSheet with flushes overlapping the previous commit', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
  });
  afterAll(() => emulator.close());

  it('an UPDATE flushed while the INSERT is still committing updates the new row, and a DELETE after both removes it', async () => {
    const { spreadsheetId, store, group, submit } = await slowApplyToSheet(emulator, 'pipelined', [
      ['id', 'name', 'score'],
    ]);

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

  it('two UPDATEs of one cell in one flush, the second back to what the sheet showed: the sheet ends as the table', async () => {
    const { spreadsheetId, submit, apply } = await slowApplyToSheet(emulator, 'back-and-forth', [
      ['id', 'name', 'score'],
    ]);
    expect(await submit(leadsChange('INSERT', 7, { id: 7, name: 'Ada', score: 1 }))).toBe('ack');
    const outcomes = await apply.flush([
      { message: [leadsChange('UPDATE', 7, { name: 'Ada II' })], attempt: 1 },
      { message: [leadsChange('UPDATE', 7, { name: 'Ada' })], attempt: 1 },
    ]);
    expect(outcomes).toEqual(['ack', 'ack']);
    expect(tabValues(emulator, spreadsheetId, 'Leads!A2:C2')).toEqual([[7, 'Ada', 1]]);
  });
});
