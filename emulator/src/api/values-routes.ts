/**
 * spreadsheets.values: get, batchGet, update, batchUpdate, append, clear, batchClear
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values).
 */
import type { RouteContext } from '../http/router.ts';
import { cellsPart, exceedsGridLimits, formatA1 } from '../model/a1.ts';
import { invalidArgument } from '../model/errors.ts';
import { clearA1, writeBounded, writeTarget } from '../model/operations.ts';
import type { BoundedRange, Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { type MajorDimension, type RenderOptions, readValues, type WriteResult } from '../model/values.ts';
import type { Emulator } from '../server.ts';
import {
  boolParam,
  dimensions,
  enumParam,
  insertDataOptions,
  renderParams,
  requireObject,
  requireValueInputOption,
  valuesOf,
} from './params.ts';

const base = '/v4/spreadsheets/{spreadsheetId}/values';

/** values.get clips an open or oversized range to the grid, as Google echoes it. */
export function readA1(
  spreadsheet: Spreadsheet,
  a1: string,
  options: RenderOptions & { majorDimension?: MajorDimension },
) {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  const bounded = spreadsheet.bound(sheet, range);
  if (bounded.startRowIndex >= sheet.rowCount || bounded.startColumnIndex >= sheet.columnCount) {
    throw exceedsGridLimits(sheet, cellsPart(a1) ?? formatA1(sheet.title, bounded).replace(/^.*!/, ''));
  }
  bounded.endRowIndex = Math.min(bounded.endRowIndex, sheet.rowCount);
  bounded.endColumnIndex = Math.min(bounded.endColumnIndex, sheet.columnCount);
  return readValues(spreadsheet, bounded, options);
}

function readOptions(query: URLSearchParams): RenderOptions & { majorDimension?: MajorDimension } {
  return {
    ...renderParams((name) => query.get(name) ?? undefined),
    majorDimension: enumParam(query.get('majorDimension'), 'majorDimension', 'Dimension', dimensions),
  };
}

/** UpdateValuesResponse; proto3 JSON leaves out zero counts. */
function updateResponse(
  spreadsheet: Spreadsheet,
  result: WriteResult,
  responseData: (RenderOptions & { majorDimension?: MajorDimension }) | undefined,
): Record<string, unknown> {
  const response: Record<string, unknown> = {
    spreadsheetId: spreadsheet.spreadsheetId,
    updatedRange: formatA1(result.written.sheet.title, result.written),
  };
  if (result.updatedRows) response.updatedRows = result.updatedRows;
  if (result.updatedColumns) response.updatedColumns = result.updatedColumns;
  if (result.updatedCells) response.updatedCells = result.updatedCells;
  if (responseData) response.updatedData = readValues(spreadsheet, result.written, responseData);
  return response;
}

function responseDataOptions(source: (name: string) => unknown, majorDimension: MajorDimension | undefined) {
  if (!boolParam(source('includeValuesInResponse'))) return undefined;
  return { ...renderParams(source, 'response'), majorDimension };
}

function writeValueRange(
  spreadsheet: Spreadsheet,
  emit: Emit,
  a1: string,
  body: Record<string, unknown>,
  valueInputOption: 'RAW' | 'USER_ENTERED',
  where: string,
): WriteResult {
  const majorDimension = enumParam(body.majorDimension, 'majorDimension', 'Dimension', dimensions);
  const bounded = writeTarget(spreadsheet, a1);
  return writeBounded(spreadsheet, emit, bounded, valuesOf(body.values, `${where}values`), {
    valueInputOption,
    majorDimension,
    requestedRange: formatA1(bounded.sheet.title, bounded),
  });
}

function checkBodyRange(body: Record<string, unknown>, urlRange: string): void {
  if (typeof body.range === 'string' && body.range !== urlRange) {
    throw invalidArgument(
      `Requested range [${urlRange}] is not the same as the range in the request body [${body.range}]`,
    );
  }
}

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
      const valueInputOption = requireValueInputOption(body.valueInputOption);
      const data = Array.isArray(body.data) ? body.data : [];
      return model.mutate(context.params.spreadsheetId ?? '', 'api', (spreadsheet, emit) => {
        const responses = data.map((item, i) => {
          const valueRange = requireObject(item);
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

function clearedRange(range: BoundedRange): string {
  return formatA1(range.sheet.title, {
    ...range,
    endRowIndex: Math.min(range.endRowIndex, range.sheet.rowCount),
    endColumnIndex: Math.min(range.endColumnIndex, range.sheet.columnCount),
  });
}

/**
 * values.append: "The input range is used to search for existing data and find a 'table'
 * within that range. Values will be appended to the next row of the table, starting with the
 * first column of the table." The table is the first block of consecutive non-empty rows (within
 * the range's columns) at or below the range's first row.
 */
function append(
  spreadsheet: Spreadsheet,
  emit: Emit,
  a1: string,
  body: Record<string, unknown>,
  options: {
    valueInputOption: 'RAW' | 'USER_ENTERED';
    insertRows: boolean;
    responseData: ReturnType<typeof responseDataOptions>;
  },
): Record<string, unknown> {
  const { sheet, range } = spreadsheet.resolveA1(a1);
  const bounded = spreadsheet.bound(sheet, range);
  const firstColumn = bounded.startColumnIndex;
  const lastColumn = Math.min(bounded.endColumnIndex, sheet.columnCount);
  const occupied = (r: number): [number, number] | undefined => {
    const cells = sheet.rows[r];
    if (!cells) return undefined;
    let lo = -1;
    let hi = -1;
    for (let c = firstColumn; c < Math.min(lastColumn, cells.length); c++) {
      const cell = cells[c];
      if (cell && (cell.value !== undefined || cell.formula !== undefined)) {
        if (lo < 0) lo = c;
        hi = c;
      }
    }
    return lo < 0 ? undefined : [lo, hi];
  };
  const lastRow = Math.min(bounded.endRowIndex, sheet.rows.length);
  let tableStart = -1;
  for (let r = bounded.startRowIndex; r < lastRow; r++) {
    if (occupied(r)) {
      tableStart = r;
      break;
    }
  }
  let writeRow = bounded.startRowIndex;
  let writeColumn = firstColumn;
  let tableRange: string | undefined;
  if (tableStart >= 0) {
    let tableEnd = tableStart;
    let lo = Number.POSITIVE_INFINITY;
    let hi = -1;
    for (let span = occupied(tableEnd); span; span = occupied(++tableEnd)) {
      lo = Math.min(lo, span[0]);
      hi = Math.max(hi, span[1]);
    }
    tableRange = formatA1(sheet.title, {
      startRowIndex: tableStart,
      endRowIndex: tableEnd,
      startColumnIndex: lo,
      endColumnIndex: hi + 1,
    });
    writeRow = tableEnd;
    writeColumn = lo;
  }
  const values = valuesOf(body.values, 'values');
  const majorDimension = enumParam(body.majorDimension, 'majorDimension', 'Dimension', dimensions);
  const height =
    majorDimension === 'COLUMNS' ? Math.max(0, ...values.map((line) => line.length)) : values.length;
  if (options.insertRows && height > 0 && writeRow < sheet.rowCount) {
    spreadsheet.checkCellLimit(height * sheet.columnCount);
    sheet.insertDimension('ROWS', writeRow, height);
    emit({
      kind: 'insertDimension',
      sheetId: sheet.sheetId,
      dimension: 'ROWS',
      range: { sheetId: sheet.sheetId, startRowIndex: writeRow, endRowIndex: writeRow + height },
    });
  }
  const target = {
    sheet,
    startRowIndex: writeRow,
    endRowIndex: writeRow + 1,
    startColumnIndex: writeColumn,
    endColumnIndex: writeColumn + 1,
    openRows: true,
    openColumns: true,
  };
  // InsertDataOption OVERWRITE: "adding data to the end of the sheet will still insert new rows
  // or columns so the data can be written."
  const result = writeBounded(spreadsheet, emit, target, values, {
    valueInputOption: options.valueInputOption,
    majorDimension,
    growGrid: true,
  });
  const reply: Record<string, unknown> = { spreadsheetId: spreadsheet.spreadsheetId };
  if (tableRange) reply.tableRange = tableRange;
  reply.updates = updateResponse(spreadsheet, result, options.responseData);
  return reply;
}

export type { RouteContext };
