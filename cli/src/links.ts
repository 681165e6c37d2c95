/**
 * Start-up checks of a links config against the live services (DESIGN.md §2, Link: "a wrong
 * config fails at start-up with a message that names the field"). parseConfig already checks the
 * shape and duplicate names; this checks what only the services know: the table exists and has
 * a primary key, the spreadsheet has the tab. Every problem is reported at once, each naming the
 * field at fault, before anything starts.
 */

import type postgres from 'postgres';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { linkKeyProblem } from '../../functions/src/adapters/table/link-key.ts';
import { describeTable, type TableSchema } from '../../functions/src/adapters/table/table-schema.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import type { SyncDatabase } from '../../functions/src/ports/sync-database.ts';
import type { LinkConfig, SheetsyncConfig } from '../../functions/src/wire/config.ts';

export interface LinkProblem {
  /** The field at fault, e.g. `links[1].table`. */
  field: string;
  code: SheetsyncError['code'];
  message: string;
}

/** Thrown when a config names things the services do not have; `code` is the first problem's. */
export class LinkCheckError extends SheetsyncError {
  override name = 'LinkCheckError';
  constructor(
    readonly source: string,
    readonly problems: LinkProblem[],
  ) {
    super(
      problems[0]?.code ?? 'SHEETSYNC_E101',
      `The links config in ${source} does not match the live services:\n${problems
        .map((p) => `  - ${p.field}: ${p.message} (${p.code})`)
        .join('\n')}`,
    );
  }
}

export interface LinkServices {
  sql: postgres.Sql;
  /** MySQL: the link tables' database (ports/sync-database.ts); PostgreSQL's on `sql` otherwise. */
  database?: SyncDatabase;
  sheetsApi: SheetsApi;
}

/**
 * Checks every link; resolves with each link's table schema by link name, or throws
 * LinkCheckError listing every problem.
 */
export async function checkLinks(
  config: SheetsyncConfig,
  services: LinkServices,
  source = 'config',
): Promise<Map<string, TableSchema>> {
  const problems: LinkProblem[] = [];
  const tables = new Map<string, TableSchema>();
  const tabsBySpreadsheet = new Map<string, Promise<Set<string> | Error>>();
  for (const [i, link] of config.links.entries()) {
    try {
      // MySQL's describe checks the link's key itself (SHEETSYNC_E111, tableProblem).
      const table = services.database
        ? await services.database.describe(link.table, link)
        : await describeTable(services.sql, link.table);
      tables.set(link.name, table);
      const keyProblem =
        link.key && !services.database ? await linkKeyProblem(services.sql, table, link.key) : undefined;
      if (keyProblem)
        problems.push({
          field: `links[${i}].key`,
          code: 'SHEETSYNC_E111',
          message: `link "${link.name}": "key" ${keyProblem}`,
        });
    } catch (error) {
      problems.push(tableProblem(i, link, error));
    }
    let tabs = tabsBySpreadsheet.get(link.spreadsheetId);
    if (!tabs) {
      tabs = tabTitles(services.sheetsApi, link.spreadsheetId);
      tabsBySpreadsheet.set(link.spreadsheetId, tabs);
    }
    const titles = await tabs;
    if (titles instanceof Error) {
      problems.push({
        field: `links[${i}].spreadsheetId`,
        code: 'SHEETSYNC_E504',
        message: `link "${link.name}": cannot open spreadsheet ${link.spreadsheetId}: ${titles.message}`,
      });
    } else if (!titles.has(link.sheet)) {
      problems.push({
        field: `links[${i}].sheet`,
        code: 'SHEETSYNC_E504',
        message:
          `link "${link.name}": spreadsheet ${link.spreadsheetId} has no tab titled "${link.sheet}" ` +
          `(it has ${[...titles].map((t) => `"${t}"`).join(', ') || 'none'}); fix the title or add the tab`,
      });
    }
  }
  if (problems.length > 0) throw new LinkCheckError(source, problems);
  return tables;
}

function tableProblem(i: number, link: LinkConfig, error: unknown): LinkProblem {
  if (error instanceof SheetsyncError && error.code === 'SHEETSYNC_E201') {
    return { field: `links[${i}].table`, code: error.code, message: `link "${link.name}": ${error.message}` };
  }
  if (error instanceof SheetsyncError && error.code === 'SHEETSYNC_E111') {
    return {
      field: `links[${i}].key`,
      code: error.code,
      message: `link "${link.name}": "key" ${error.message}`,
    };
  }
  if (error instanceof SheetsyncError && error.code === 'SHEETSYNC_E250') {
    return {
      field: `links[${i}].table`,
      code: 'SHEETSYNC_E250',
      message: `link "${link.name}": ${error.message}`,
    };
  }
  throw error;
}

async function tabTitles(api: SheetsApi, spreadsheetId: string): Promise<Set<string> | Error> {
  try {
    const meta = await api.call('read', 'spreadsheets.get', () =>
      api.client.spreadsheets.get({ spreadsheetId, fields: 'sheets.properties.title' }),
    );
    return new Set((meta.sheets ?? []).map((s) => s.properties?.title ?? ''));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
