/**
 * Which link an event's tab belongs to (issue 19): a link follows its tab by sheetId, recorded at
 * its first sync (the webhook's first event of the tab, or applyToSheet's first read). The
 * config's title finds the tab only until then; a tab renamed afterwards stays linked, and the
 * stale title is logged once (SHEETSYNC_E417) with the hint to update the config. Another tab
 * given the config's title later is not the link's tab (SHEETSYNC_E418, once).
 */
import type { Logger } from '../../log.ts';
import type { LinkedTab } from '../../ports.ts';
import type { LinkConfig } from '../../wire/config.ts';

export interface LinkedTabStore {
  linkedTab(link: string): Promise<LinkedTab | undefined>;
  recordLinkedTab(link: string, tab: LinkedTab): Promise<void>;
}

export class LinkedTabs {
  /** Recorded tabs by link: a sheetId never changes, so a record read once holds. */
  private readonly known = new Map<string, LinkedTab>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly store: LinkedTabStore,
    private readonly logger: Logger,
  ) {}

  /** The link of the event's tab, recording the tab when a link is found by its title first. */
  async find(
    links: readonly LinkConfig[],
    event: { spreadsheetId: string; sheet: string; sheetId: number },
  ): Promise<LinkConfig | undefined> {
    const candidates = links.filter((l) => l.spreadsheetId === event.spreadsheetId);
    // A record of another spreadsheet (the link was pointed elsewhere) is no record.
    const recorded = await Promise.all(
      candidates.map(async (l) => {
        const tab = await this.recorded(l.name);
        return tab?.spreadsheetId === l.spreadsheetId ? tab : undefined;
      }),
    );
    const followed = candidates.findIndex((_, i) => recorded[i]?.sheetId === event.sheetId);
    if (followed >= 0) {
      const link = candidates[followed]!;
      if (link.sheet !== event.sheet)
        this.once(`${link.name}\u0000${event.sheet}`, 'SHEETSYNC_E417', link, event);
      if (recorded[followed]!.title !== event.sheet) {
        const tab = { ...recorded[followed]!, title: event.sheet };
        this.known.set(link.name, tab);
        await this.store.recordLinkedTab(link.name, tab);
      }
      return link;
    }
    const byTitle = candidates.findIndex((l) => l.sheet === event.sheet);
    if (byTitle < 0) return undefined;
    const link = candidates[byTitle]!;
    if (recorded[byTitle]) {
      this.once(`${link.name}\u0000#${event.sheetId}`, 'SHEETSYNC_E418', link, event);
      return undefined;
    }
    const tab = { spreadsheetId: event.spreadsheetId, sheetId: event.sheetId, title: event.sheet };
    await this.store.recordLinkedTab(link.name, tab);
    this.known.set(link.name, tab);
    return link;
  }

  private async recorded(link: string): Promise<LinkedTab | undefined> {
    const known = this.known.get(link);
    if (known) return known;
    const tab = await this.store.linkedTab(link);
    if (tab) this.known.set(link, tab);
    return tab;
  }

  private once(
    id: string,
    code: 'SHEETSYNC_E417' | 'SHEETSYNC_E418',
    link: LinkConfig,
    event: { sheet: string; sheetId: number },
  ): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    if (code === 'SHEETSYNC_E417')
      this.logger.warn(
        `link ${link.name}'s tab was renamed from "${link.sheet}" to "${event.sheet}"; it keeps syncing (the link follows the tab by its sheetId). Set links[].sheet to "${event.sheet}" in the config`,
        { code, link: link.name, sheetId: event.sheetId },
      );
    else
      this.logger.warn(
        `a tab titled "${event.sheet}" (sheetId ${event.sheetId}) is not the tab link ${link.name} follows (that tab was renamed); its edits are ignored. Set links[].sheet to the linked tab's title`,
        { code, link: link.name, sheetId: event.sheetId },
      );
  }
}
