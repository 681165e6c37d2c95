/**
 * spreadsheets.values: get, batchGet, update, batchUpdate, append, clear, batchClear
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values).
 */
import type { Emulator } from '../emulator.ts';
import { invalidArgument } from '../model/errors.ts';
import { clearA1 } from '../model/operations.ts';
import {
  dimensions,
  enumParam,
  insertDataOptions,
  rejectUnknownFields,
  requireObject,
  requireValueInputOption,
  valueRangeFields,
} from './params.ts';
import {
  checkBodyRange,
  clearedRange,
  readA1,
  readOptions,
  responseDataOptions,
  updateResponse,
  writeValueRange,
} from './value-ranges.ts';
import { append } from './values-append.ts';

const base = '/v4/spreadsheets/{spreadsheetId}/values';

export function mountValuesRoutes(emulator: Emulator): void {
  const { model, addRoute } = emulator;
  const read = { quota: 'read', faults: true } as const;
  const write = { quota: 'write', faults: true } as const;

  addRoute(
    'GET',
    `${base}:batchGet`,
    ({ params, query }) => {
      const spreadsheet = model.get(params.spreadsheetId ?? '');
      const options = readOptions(query);
      return {
        spreadsheetId: spreadsheet.spreadsheetId,
        valueRanges: query.getAll('ranges').map((a1) => readA1(spreadsheet, a1, options)),
      };
    },
    read,
  );

  addRoute(
    'POST',
    `${base}:batchUpdate`,
    async (context) => {
      const body = requireObject(await context.body());
      rejectUnknownFields(body, [
        'valueInputOption',
        'data',
        'includeValuesInResponse',
        'responseValueRenderOption',
        'responseDateTimeRenderOption',
      ]);
      const valueInputOption = requireValueInputOption(body.valueInputOption);
      const data = Array.isArray(body.data) ? body.data : [];
      return model.mutate(context.params.spreadsheetId ?? '', 'api', (spreadsheet, emit) => {
        const responses = data.map((item, i) => {
          const valueRange = requireObject(item);
          rejectUnknownFields(valueRange, valueRangeFields, `data[${i}]`);
          if (typeof valueRange.range !== 'string')
            throw invalidArgument(`Invalid data[${i}]: range is required.`);
          const result = writeValueRange(
            spreadsheet,
            emit,
            valueRange.range,
            valueRange,
            valueInputOption,
            `data[${i}].`,
          );
          const majorDimension = enumParam(
            valueRange.majorDimension,
            'majorDimension',
            'Dimension',
            dimensions,
          );
          return {
            result,
            response: updateResponse(
              spreadsheet,
              result,
              responseDataOptions((n) => body[n], majorDimension),
            ),
          };
        });
        const total = (key: 'updatedRows' | 'updatedColumns' | 'updatedCells') =>
          responses.reduce((sum, { result }) => sum + result[key], 0);
        const sheets = new Set(
          responses.filter(({ result }) => result.updatedCells > 0).map(({ result }) => result.written.sheet),
        );
        const reply: Record<string, unknown> = { spreadsheetId: spreadsheet.spreadsheetId };
        if (total('updatedRows')) reply.totalUpdatedRows = total('updatedRows');
        if (total('updatedColumns')) reply.totalUpdatedColumns = total('updatedColumns');
        if (total('updatedCells')) reply.totalUpdatedCells = total('updatedCells');
        if (sheets.size) reply.totalUpdatedSheets = sheets.size;
        if (responses.length) reply.responses = responses.map(({ response }) => response);
        return reply;
      });
    },
    write,
  );

  addRoute(
    'POST',
    `${base}:batchClear`,
    async (context) => {
      const body = requireObject(await context.body());
      rejectUnknownFields(body, ['ranges']);
      const ranges = Array.isArray(body.ranges) ? body.ranges.map(String) : [];
      return model.mutate(context.params.spreadsheetId ?? '', 'api', (spreadsheet, emit) => ({
        spreadsheetId: spreadsheet.spreadsheetId,
        clearedRanges: ranges.map((a1) => clearedRange(clearA1(spreadsheet, emit, a1))),
      }));
    },
    write,
  );

  addRoute(
    'POST',
    `${base}/{range}:append`,
    async (context) => {
      const { params, query } = context;
      const body = requireObject(await context.body());
      checkBodyRange(body, params.range ?? '');
      const valueInputOption = requireValueInputOption(query.get('valueInputOption'));
      const insertDataOption = enumParam(
        query.get('insertDataOption'),
        'insertDataOption',
        'InsertDataOption',
        insertDataOptions,
      );
      return model.mutate(params.spreadsheetId ?? '', 'api', (spreadsheet, emit) =>
        append(spreadsheet, emit, params.range ?? '', body, {
          valueInputOption,
          insertRows: insertDataOption === 'INSERT_ROWS',
          responseData: responseDataOptions(
            (n) => query.get(n) ?? undefined,
            enumParam(body.majorDimension, 'majorDimension', 'Dimension', dimensions),
          ),
        }),
      );
    },
    write,
  );

  addRoute(
    'POST',
    `${base}/{range}:clear`,
    ({ params }) =>
      model.mutate(params.spreadsheetId ?? '', 'api', (spreadsheet, emit) => ({
        spreadsheetId: spreadsheet.spreadsheetId,
        clearedRange: clearedRange(clearA1(spreadsheet, emit, params.range ?? '')),
      })),
    write,
  );

  addRoute(
    'GET',
    `${base}/{range}`,
    ({ params, query }) =>
      readA1(model.get(params.spreadsheetId ?? ''), params.range ?? '', readOptions(query)),
    read,
  );

  addRoute(
    'PUT',
    `${base}/{range}`,
    async (context) => {
      const { params, query } = context;
      const body = requireObject(await context.body());
      checkBodyRange(body, params.range ?? '');
      const valueInputOption = requireValueInputOption(query.get('valueInputOption'));
      return model.mutate(params.spreadsheetId ?? '', 'api', (spreadsheet, emit) => {
        const result = writeValueRange(spreadsheet, emit, params.range ?? '', body, valueInputOption, '');
        const majorDimension = enumParam(body.majorDimension, 'majorDimension', 'Dimension', dimensions);
        return updateResponse(
          spreadsheet,
          result,
          responseDataOptions((n) => query.get(n) ?? undefined, majorDimension),
        );
      });
    },
    write,
  );
}
