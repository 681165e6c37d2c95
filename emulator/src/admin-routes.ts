/**
 * Admin routes under /_emulator/v1: create, list and delete spreadsheets, reset, quotas and
 * faults. They spend no quota and see no injected faults.
 */

import { requireObject } from './api/params.ts';
import { sheetPropertiesResource } from './api/spreadsheet-resource.ts';
import type { Emulator } from './emulator.ts';
import { noFaults, parseFaultConfig } from './faults.ts';
import type { Spreadsheet } from './model/spreadsheet.ts';
import type { CreateSpreadsheetOptions } from './model/store.ts';
import type { QuotaConfig } from './quotas.ts';

const admin = '/_emulator/v1';

function summary(emulator: Emulator, spreadsheet: Spreadsheet) {
  return {
    spreadsheetId: spreadsheet.spreadsheetId,
    properties: spreadsheet.properties,
    sheets: spreadsheet.sheets.map((sheet) => ({ properties: sheetPropertiesResource(spreadsheet, sheet) })),
    spreadsheetUrl: `${emulator.url}/spreadsheets/${spreadsheet.spreadsheetId}`,
  };
}

export function mountAdminRoutes(emulator: Emulator): void {
  const { model, addRoute } = emulator;

  addRoute('GET', `${admin}/health`, () => ({ status: 'ok' }));

  /** Body: `{spreadsheetId?, title?, sheets?: [{title?, sheetId?, rowCount?, columnCount?}]}`. */
  addRoute('POST', `${admin}/spreadsheets`, async (context) => {
    const body = requireObject(await context.body()) as CreateSpreadsheetOptions;
    return summary(emulator, model.create(body, 'user'));
  });
  addRoute('GET', `${admin}/spreadsheets`, () => ({
    spreadsheets: model.list().map((spreadsheet) => summary(emulator, spreadsheet)),
  }));
  addRoute('DELETE', `${admin}/spreadsheets/{spreadsheetId}`, ({ params }) => {
    model.delete(params.spreadsheetId ?? '', 'user');
    return {};
  });

  /** Drops every spreadsheet and quota counter and turns faults off. */
  addRoute('POST', `${admin}/reset`, () => {
    model.reset();
    emulator.quotas.reset();
    emulator.faults.configure(noFaults);
    return {};
  });

  addRoute('GET', `${admin}/quotas`, () => emulator.quotas.config);
  /** Body: any of readPerUser, readPerProject, writePerUser, writePerProject, windowMs, enabled. Counters restart. */
  addRoute('POST', `${admin}/quotas`, async (context) => {
    emulator.quotas.configure(requireObject(await context.body()) as Partial<QuotaConfig>);
    return emulator.quotas.config;
  });
  addRoute('POST', `${admin}/quotas:reset`, () => {
    emulator.quotas.reset();
    return {};
  });

  addRoute('GET', `${admin}/faults`, () => emulator.faults.config);
  /**
   * Body: any of latencyMs, jitterMs, errorRate (0..1), errorStatus (500|503), failNext,
   * lostResponseRate (0..1), lostResponseNext, lostResponseAs ('reset'|500), hangRate (0..1),
   * hangNext, hangApplied, target ('all'|'read'|'write'); see src/faults.ts.
   */
  addRoute('POST', `${admin}/faults`, async (context) => {
    emulator.faults.configure(parseFaultConfig(requireObject(await context.body())));
    return emulator.faults.config;
  });
}
