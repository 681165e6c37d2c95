/**
 * applyToSheet and TRUNCATE against the local sheet, with flushes that overlap the previous
 * version-store commit (the store is slowed down): the truncate deletes every row written before
 * it, including rows whose commit is still under way; a key inserted again after it gets a new
 * row, and a later UPDATE of that key finds the new row while its commit is under way; the
 * truncate's copies (one per key bucket) and a redelivery change nothing more; a row without a
 * sync id stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { ID_HEADER } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { tabValues } from '../support/sheet-state.ts';
import { leadsChange, slowApplyToSheet } from '../support/slow-store.ts';

describe('applyToSheet and TRUNCATE', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
  });
  afterAll(() => emulator.close());

  it('deletes what was written before it, keeps what comes after, and repeats as a duplicate', async () => {
    const { spreadsheetId, store, group, submit } = await slowApplyToSheet(emulator, 'truncate', [
      ['id', 'name', 'score'],
      ['', 'a note, not synced'],
    ]);
    const synced = () =>
      tabValues(emulator, spreadsheetId, 'Leads!A2:D')
        .filter((r) => r[3])
        .map((r) => r.slice(0, 3));

    await Promise.all([
      submit(leadsChange('INSERT', 1, { id: 1, name: 'Ada', score: 1 })),
      submit(leadsChange('INSERT', 2, { id: 2, name: 'Bo', score: 2 })),
    ]);
    await group.drain();
    expect(synced()).toEqual([
      [1, 'Ada', 1],
      [2, 'Bo', 2],
    ]);

    const insert3 = leadsChange('INSERT', 3, { id: 3, name: 'Cy', score: 3 });
    const truncate = leadsChange('TRUNCATE', 0, {});
    const results = await Promise.all([
      submit(insert3), // its commit overlaps the truncate's flush
      submit(truncate),
      submit(truncate), // another bucket's copy
      submit(leadsChange('INSERT', 1, { id: 1, name: 'Ada again', score: 10 })),
      submit(leadsChange('UPDATE', 1, { score: 11 })),
      submit(truncate), // a redelivery
    ]);
    expect(results).toEqual(['ack', 'ack', 'ack', 'ack', 'ack', 'ack']);
    await group.drain();
    expect(store.maxCommitsInFlight).toBeGreaterThan(1); // the flushes did overlap
    expect(synced()).toEqual([[1, 'Ada again', 11]]);
    const [header, ...rows] = tabValues(emulator, spreadsheetId, 'Leads!A1:D');
    expect(header).toEqual(['id', 'name', 'score', ID_HEADER]);
    expect(rows.filter((r) => !r[3] && r.some((v) => v !== ''))).toEqual([['', 'a note, not synced']]);
    const live = await store.liveRowIds('leads');
    expect(live).toHaveLength(1);
    const docs = await store.readRows('leads', live);
    expect(docs.get(live[0]!)?.cells.score?.value).toBe(11);
  });
});
