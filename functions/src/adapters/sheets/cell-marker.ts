/**
 * `markCells` for applyToDb (issue 22 item 2): a flush's cell marks (apply-to-db/marks.ts) sent
 * to each link's data tab, one batchUpdate per link that has marks (SheetTab.markCells places
 * them by sync id and proves the rows' places right before the request). Marks are rare (a
 * value people typed that the table refused, and later its correction), so this is a write of
 * its own beside the errors tab's append, and the tab is read through the link's kept snapshot
 * when it holds (one id-proof read otherwise). Writes go through the link's SheetsApi: they
 * share its quota buckets, backoff and retries.
 */
import type { CellMark, CellRef } from '../../core/cell-marks.ts';
import type { LinkCellMark } from '../../handlers/apply-to-db/marks.ts';
import type { Logger } from '../../log.ts';

/** What the marker needs of a link's tab (SheetTab has it). */
export interface MarkableTab {
  markCells(marks: readonly CellMark[]): Promise<CellRef[]>;
}

/**
 * Groups marks by link and sends each link's with one request; the links go concurrently. A
 * link without a tab here is skipped; marks whose row left the tab are logged (no values).
 */
export function cellMarker(
  tabOf: (link: string) => MarkableTab | undefined,
  logger: Logger,
): (marks: readonly LinkCellMark[]) => Promise<void> {
  return async (marks) => {
    const byLink = new Map<string, CellMark[]>();
    for (const { link, ...mark } of marks) {
      const group = byLink.get(link);
      if (group) group.push(mark);
      else byLink.set(link, [mark]);
    }
    const results = await Promise.allSettled(
      [...byLink].map(async ([link, group]) => {
        const tab = tabOf(link);
        if (!tab) return;
        const unplaced = await tab.markCells(group);
        if (unplaced.length > 0)
          logger.info(
            `${unplaced.length} cell marks found no place on the sheet (a row deleted since, or a column without a header)`,
            {
              link,
            },
          );
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}
