/**
 * Which link an event's tab belongs to (sheet-webhook/linked-tabs.ts, issue 19): by title until
 * the tab's sheetId is recorded, by sheetId from then on; a stale title is logged once.
 */
import { describe, expect, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { LinkedTabs } from '../../functions/src/handlers/sheet-webhook/linked-tabs.ts';
import type { Logger } from '../../functions/src/log.ts';

function capture() {
  const warnings: Array<{ message: string; code: unknown }> = [];
  const logger: Logger = {
    debug() {},
    info() {},
    error() {},
    warn: (message, labels) => warnings.push({ message, code: labels?.code }),
    child: () => logger,
  };
  return { logger, warnings };
}

const { links } = parseConfig({
  links: [{ name: 'leads', spreadsheetId: 'ss-1', sheet: 'Leads', table: 'public.leads' }],
});

describe('LinkedTabs', () => {
  it('finds a tab by title first and records its sheetId', async () => {
    const store = new MemoryVersionStore();
    const tabs = new LinkedTabs(store, capture().logger);
    expect((await tabs.find(links, { spreadsheetId: 'ss-1', sheet: 'Leads', sheetId: 7 }))?.name).toBe(
      'leads',
    );
    expect(await store.linkedTab('leads')).toEqual({ spreadsheetId: 'ss-1', sheetId: 7, title: 'Leads' });
    expect(await tabs.find(links, { spreadsheetId: 'ss-1', sheet: 'Other', sheetId: 8 })).toBeUndefined();
  });

  it('follows the tab renamed, logging the stale config once; another tab with the old title is not it', async () => {
    const store = new MemoryVersionStore();
    await store.recordLinkedTab('leads', { spreadsheetId: 'ss-1', sheetId: 7, title: 'Leads' });
    const { logger, warnings } = capture();
    const tabs = new LinkedTabs(store, logger);
    for (let i = 0; i < 3; i++)
      expect((await tabs.find(links, { spreadsheetId: 'ss-1', sheet: 'Leads 2026', sheetId: 7 }))?.name).toBe(
        'leads',
      );
    expect(warnings.map((w) => w.code)).toEqual(['SHEETSYNC_E417']);
    expect(warnings[0]!.message).toContain('"Leads 2026"');
    expect((await store.linkedTab('leads'))?.title).toBe('Leads 2026');
    expect(await tabs.find(links, { spreadsheetId: 'ss-1', sheet: 'Leads', sheetId: 9 })).toBeUndefined();
    expect(warnings.map((w) => w.code)).toEqual(['SHEETSYNC_E417', 'SHEETSYNC_E418']);
  });

  it('takes a record of another spreadsheet for none (the link was pointed elsewhere)', async () => {
    const store = new MemoryVersionStore();
    await store.recordLinkedTab('leads', { spreadsheetId: 'ss-0', sheetId: 7, title: 'Leads' });
    const tabs = new LinkedTabs(store, capture().logger);
    expect((await tabs.find(links, { spreadsheetId: 'ss-1', sheet: 'Leads', sheetId: 3 }))?.name).toBe(
      'leads',
    );
    expect(await store.linkedTab('leads')).toEqual({ spreadsheetId: 'ss-1', sheetId: 3, title: 'Leads' });
  });
});
