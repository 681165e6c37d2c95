/**
 * The composition root: how the functions are built from the ports and a config, in one place
 * for every host (the deployed bundle, functions/src/index.ts; the CLI's local stack and the
 * test/bench harness are to follow). A host makes the clients (its own connection settings,
 * credentials and topics) and hands them here; what applyToDb, applyToSheet and the webhook are
 * given is decided only here.
 */
import { isMysqlUrl } from '../adapters/mysql/mysql-database.ts';
import { cellMarker } from '../adapters/sheets/cell-marker.ts';
import { ConflictsTab } from '../adapters/sheets/conflicts-tab.ts';
import { SheetTab } from '../adapters/sheets/sheet-tab.ts';
import type { SheetsApi } from '../adapters/sheets/sheets-api.ts';
import type { ConflictPolicy } from '../core/conflict-policy.ts';
import type { LinkCellMark } from '../handlers/apply-to-db/marks.ts';
import { createApplyToDb, type DbLink, type RowProblem } from '../handlers/apply-to-db.ts';
import { createApplyToSheet } from '../handlers/apply-to-sheet.ts';
import type { WebhookDeps } from '../handlers/sheet-webhook/handler.ts';
import { type LinkedTabStore, LinkedTabs } from '../handlers/sheet-webhook/linked-tabs.ts';
import type { ReplayGuard } from '../handlers/sheet-webhook/replay-guard.ts';
import type { Logger } from '../log.ts';
import type { Table } from '../ports/table.ts';
import type { Bus, LinkedTab, VersionStore } from '../ports.ts';
import { conflictsShower } from '../sync-jobs/show-conflicts.ts';
import type { SheetsyncConfig } from '../wire/config.ts';

/**
 * The engine behind a database URL: `mysql://` (or `mariadb://`) selects the MySQL Table and
 * relay (adapters/mysql/, relay/mysql-relay.ts), anything else PostgreSQL's.
 */
export function databaseEngine(url: string): 'postgres' | 'mysql' {
  return isMysqlUrl(url) ? 'mysql' : 'postgres';
}

/** applyToDb on the Table port, one entry per link of `config`. */
export function composeApplyToDb(parts: {
  config: SheetsyncConfig;
  table: Table;
  store: VersionStore;
  /** Each link's conflict policy (custom-resolver.ts loadConflictPolicies). */
  policies: ReadonlyMap<string, ConflictPolicy>;
  logger: Logger;
  /** Where problems for people go (the errors tab: errors-tab.ts sheetProblemReporter). */
  reportProblems?: (problems: RowProblem[]) => Promise<void>;
  /** Where refused cells are marked in the sheet (composeCellMarker). */
  markCells?: (marks: LinkCellMark[]) => Promise<void>;
  /** Where open conflicts are listed in the sheet (composeConflictsShower). */
  showConflicts?: (links: string[]) => Promise<void>;
}) {
  const links = new Map<string, DbLink>(
    parts.config.links.map((l) => [
      l.name,
      {
        table: l.table,
        policy: parts.policies.get(l.name)!,
        ...(l.columns ? { columns: l.columns } : {}),
        ...(l.key ? { key: l.key } : {}),
        ...(l.addMissingColumns ? { addMissingColumns: true } : {}),
        ...(l.attribution ? { attribution: l.attribution } : {}),
      },
    ]),
  );
  return createApplyToDb({
    table: parts.table,
    store: parts.store,
    links,
    logger: parts.logger,
    ...(parts.reportProblems ? { reportProblems: parts.reportProblems } : {}),
    ...(parts.markCells ? { markCells: parts.markCells } : {}),
    ...(parts.showConflicts ? { showConflicts: parts.showConflicts } : {}),
  });
}

/**
 * applyToSheet on one SheetTab per link (the Sheet port), each keeping its snapshot while the
 * link's sheet epochs stay the same (VersionStore.sheetEpochs).
 */
export function composeApplyToSheet(parts: {
  config: SheetsyncConfig;
  sheetsApi: SheetsApi;
  store: VersionStore;
  logger: Logger;
  /** Where problems for people go (the errors tab): a dropped table column. */
  reportProblems?: (problems: RowProblem[]) => Promise<void>;
}) {
  /** Each link's tab, by link name: the same objects applyToSheet writes through. */
  const tabs = linkTabs(parts);
  const apply = createApplyToSheet({
    ...(parts.reportProblems ? { reportProblems: parts.reportProblems } : {}),
    store: parts.store,
    links: new Map(
      parts.config.links.map((l) => [
        l.name,
        {
          tab: tabs.get(l.name)!,
          addMissingHeaders: l.addMissingHeaders,
          ...(l.columns ? { columns: l.columns } : {}),
        },
      ]),
    ),
    logger: parts.logger,
  });
  return Object.assign(apply, { tabs: tabs as ReadonlyMap<string, SheetTab> });
}

/**
 * applyToDb's `markCells`: refused cells marked in each link's data tab (cell-marker.ts),
 * through a SheetTab of its own per link that keeps its snapshot while the link's sheet epochs
 * stay the same, as applyToSheet's does.
 */
export function composeCellMarker(parts: {
  config: SheetsyncConfig;
  sheetsApi: SheetsApi;
  store: VersionStore;
  logger: Logger;
}) {
  const tabs = linkTabs(parts);
  return cellMarker((link) => tabs.get(link), parts.logger);
}

/**
 * A SheetTab per link, by link name, keeping its snapshot while the link's sheet epochs stay the
 * same and following its tab by the recorded sheetId.
 */
function linkTabs(parts: {
  config: SheetsyncConfig;
  sheetsApi: SheetsApi;
  store: VersionStore;
  logger: Logger;
}): Map<string, SheetTab> {
  const { store } = parts;
  return new Map(
    parts.config.links.map((l) => [
      l.name,
      new SheetTab(parts.sheetsApi, l.spreadsheetId, l.sheet, {
        changeToken: () => store.sheetEpochs(l.name),
        ...linkedTabOption(store, l.name, parts.logger),
      }),
    ]),
  );
}

/** applyToDb's `showConflicts`: each spreadsheet's `_sheetsync_conflicts` tab (sync-jobs/show-conflicts.ts). */
export function composeConflictsShower(parts: {
  config: SheetsyncConfig;
  sheetsApi: SheetsApi;
  store: VersionStore;
}) {
  return conflictsShower({
    tab: new ConflictsTab(parts.sheetsApi),
    store: parts.store,
    links: parts.config.links.map((l) => ({ name: l.name, spreadsheetId: l.spreadsheetId })),
  });
}

/** The webhook's dependencies: sheet changes published on `sheetTopic`, state in the store. */
export function composeWebhook(parts: {
  config: SheetsyncConfig;
  secrets: readonly string[];
  replayGuard: ReplayGuard;
  bus: Pick<Bus, 'publish'>;
  sheetTopic: string;
  store: VersionStore;
  logger: Logger;
}): WebhookDeps {
  const { bus, store } = parts;
  return {
    config: parts.config,
    secrets: parts.secrets,
    replayGuard: parts.replayGuard,
    publish: async (messages) => {
      await bus.publish(
        parts.sheetTopic,
        messages.map((m) => ({ data: Buffer.from(JSON.stringify(m.data)), orderingKey: m.orderingKey })),
      );
    },
    liveRowIds: (link, idPrefix) => store.liveRowIds(link, idPrefix),
    structure: store,
    ...linkedTabs(store, parts.logger),
    documents: store,
    held: store,
    conflicts: store,
    epochs: store,
    logger: parts.logger,
  };
}

/** The webhook finds links by their tabs' recorded sheetIds (issue 19): create once per process. */
export function linkedTabs(store: VersionStore, logger: Logger): { tabs?: LinkedTabs } {
  return store.linkedTab && store.recordLinkedTab
    ? { tabs: new LinkedTabs(store as LinkedTabStore, logger) }
    : {};
}

/** SheetTab finds the link's tab by its recorded sheetId (issue 19; sheet-webhook/linked-tabs.ts). */
export function linkedTabOption(store: VersionStore, link: string, logger: Logger) {
  if (!store.linkedTab || !store.recordLinkedTab) return {};
  const tabs = store as LinkedTabStore;
  return {
    linkedTab: {
      get: () => tabs.linkedTab(link),
      record: (tab: LinkedTab) => tabs.recordLinkedTab(link, tab),
      renamed: (from: string, to: string) =>
        logger.warn(
          `link ${link}'s tab was renamed from "${from}" to "${to}"; it keeps syncing (the link follows the tab by its sheetId). Set links[].sheet to "${to}" in the config`,
          { code: 'SHEETSYNC_E417', link },
        ),
    },
  };
}
