/**
 * spreadsheets.get, spreadsheets.create and spreadsheets.batchUpdate
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets).
 */
import type { Emulator } from '../emulator.ts';
import { maskIncludes } from '../http/field-mask.ts';
import type { GridRange } from '../model/a1.ts';
import { applyBatchUpdate } from './batch-update.ts';
import { boolParam, requireObject } from './params.ts';
import { spreadsheetResource } from './spreadsheet-resource.ts';

export function mountSpreadsheetsRoutes(emulator: Emulator): void {
  const { model, addRoute } = emulator;

  /**
   * "includeGridData: True if grid data should be returned. This parameter is ignored if a
   * field mask was set in the request." With a mask, grid data is built when the mask asks
   * for `sheets.data`, and cells only when it asks for `sheets.data.rowData`.
   */
  addRoute(
    'GET',
    '/v4/spreadsheets/{spreadsheetId}',
    ({ params, query }) => {
      const spreadsheet = model.get(params.spreadsheetId ?? '');
      const fields = query.get('fields');
      const wantsData = fields
        ? maskIncludes(fields, ['sheets', 'data'])
        : boolParam(query.get('includeGridData'));
      const cells = fields ? maskIncludes(fields, ['sheets', 'data', 'rowData']) : true;
      const a1Ranges = query.getAll('ranges');
      let ranges: Map<number, GridRange[]> | undefined;
      if (a1Ranges.length > 0) {
        ranges = new Map();
        for (const a1 of a1Ranges) {
          const { sheet, range } = spreadsheet.resolveA1(a1);
          ranges.set(sheet.sheetId, [...(ranges.get(sheet.sheetId) ?? []), range]);
        }
      }
      return spreadsheetResource(
        spreadsheet,
        emulator.url,
        wantsData ? { ranges, cells } : undefined,
        ranges,
      );
    },
    { quota: 'read', faults: true },
  );

  addRoute(
    'POST',
    '/v4/spreadsheets',
    async (context) => {
      const body = requireObject(await context.body());
      const properties = (body.properties ?? {}) as { title?: string };
      const sheets = Array.isArray(body.sheets)
        ? body.sheets.map((sheet: { properties?: Record<string, unknown> }) => {
            const p = (sheet.properties ?? {}) as {
              title?: string;
              sheetId?: number;
              gridProperties?: { rowCount?: number; columnCount?: number };
            };
            return {
              title: p.title,
              sheetId: p.sheetId,
              rowCount: p.gridProperties?.rowCount,
              columnCount: p.gridProperties?.columnCount,
            };
          })
        : undefined;
      const spreadsheet = model.create({ title: properties.title, sheets });
      return spreadsheetResource(spreadsheet, emulator.url, undefined);
    },
    { quota: 'write', faults: true },
  );

  addRoute(
    'POST',
    '/v4/spreadsheets/{spreadsheetId}:batchUpdate',
    async (context) => {
      const body = requireObject(await context.body());
      return applyBatchUpdate(emulator, context.params.spreadsheetId ?? '', body);
    },
    { quota: 'write', faults: true },
  );
}
