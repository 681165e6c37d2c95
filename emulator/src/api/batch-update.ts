/**
 * spreadsheets.batchUpdate
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/batchUpdate):
 * "The requests will be applied in the order they are specified. If any request is not valid,
 * no requests will be applied." Each request gets a reply, `{}` for those without one.
 * Validation errors read `Invalid requests[i].<kind>: <reason>`, as Google words them.
 */
import type { Emulator } from '../emulator.ts';
import type { GridRange } from '../model/a1.ts';
import { invalidArgument, SheetsApiError } from '../model/errors.ts';
import {
  appendDimension,
  type DimensionRange,
  deleteDimension,
  insertDimension,
  moveDimension,
  requireSheet,
  type SortSpec,
  sortRange,
  updateDimensionProperties,
} from '../model/operations.ts';
import { renameSheet } from '../model/rename-sheet.ts';
import type { SheetProperties } from '../model/sheet.ts';
import type { Spreadsheet } from '../model/spreadsheet.ts';
import type { Emit } from '../model/store.ts';
import { appendCells, type RowData, repeatCell, setDataValidation, updateCells } from './cell-updates.ts';
import { boolParam, rejectUnknownFields, requireObject } from './params.ts';
import {
  protectedRangeResource,
  sheetPropertiesResource,
  spreadsheetResource,
} from './spreadsheet-resource.ts';

type Request = Record<string, unknown>;
type Handler = (
  spreadsheet: Spreadsheet,
  emit: Emit,
  request: Request,
) => Record<string, unknown> | undefined;

interface SheetPropertiesInput {
  sheetId?: number;
  title?: string;
  index?: number;
  hidden?: boolean;
  tabColor?: unknown;
  gridProperties?: {
    rowCount?: number;
    columnCount?: number;
    frozenRowCount?: number;
    frozenColumnCount?: number;
  };
}

const handlers: Record<string, Handler> = {
  addSheet(spreadsheet, emit, request) {
    const properties = (request.properties ?? {}) as SheetPropertiesInput;
    const grid = properties.gridProperties ?? {};
    const sheet = spreadsheet.addSheet(
      {
        sheetId: properties.sheetId,
        title: properties.title,
        rowCount: grid.rowCount,
        columnCount: grid.columnCount,
        frozenRowCount: grid.frozenRowCount,
        frozenColumnCount: grid.frozenColumnCount,
        hidden: properties.hidden,
        tabColor: properties.tabColor,
      } as Partial<SheetProperties>,
      properties.index,
    );
    emit({ kind: 'addSheet', sheetId: sheet.sheetId });
    return { addSheet: { properties: sheetPropertiesResource(spreadsheet, sheet) } };
  },
  deleteSheet(spreadsheet, emit, request) {
    const sheetId = Number(request.sheetId ?? 0);
    spreadsheet.deleteSheet(sheetId);
    emit({ kind: 'deleteSheet', sheetId });
    return undefined;
  },
  updateSheetProperties(spreadsheet, emit, request) {
    const properties = (request.properties ?? {}) as SheetPropertiesInput;
    const sheet = requireSheet(spreadsheet, properties.sheetId);
    const fields = String(request.fields ?? '');
    if (fields === '') throw invalidArgument('At least one field must be specified.');
    const wants = (name: string) =>
      fields === '*' || fields.split(',').some((f) => f.trim() === name || name.startsWith(`${f.trim()}.`));
    if (wants('title') && properties.title !== undefined) {
      renameSheet(spreadsheet, sheet, properties.title);
    }
    if (wants('hidden')) sheet.properties.hidden = properties.hidden === true;
    if (wants('gridProperties.frozenRowCount'))
      sheet.properties.frozenRowCount = properties.gridProperties?.frozenRowCount ?? 0;
    if (wants('gridProperties.frozenColumnCount')) {
      sheet.properties.frozenColumnCount = properties.gridProperties?.frozenColumnCount ?? 0;
    }
    const rowCount = wants('gridProperties.rowCount') ? properties.gridProperties?.rowCount : undefined;
    const columnCount = wants('gridProperties.columnCount')
      ? properties.gridProperties?.columnCount
      : undefined;
    if (rowCount !== undefined || columnCount !== undefined) {
      const rows = rowCount ?? sheet.rowCount;
      const columns = columnCount ?? sheet.columnCount;
      if (rows < 1 || columns < 1)
        throw invalidArgument('A sheet must have at least one row and one column.');
      spreadsheet.checkCellLimit(rows * columns - sheet.rowCount * sheet.columnCount);
      sheet.resize(rows, columns);
    }
    if (wants('index') && properties.index !== undefined) {
      spreadsheet.sheets.splice(spreadsheet.indexOf(sheet), 1);
      spreadsheet.sheets.splice(Math.min(properties.index, spreadsheet.sheets.length), 0, sheet);
    }
    emit({ kind: 'sheetProperties', sheetId: sheet.sheetId });
    return undefined;
  },
  insertDimension(spreadsheet, emit, request) {
    insertDimension(spreadsheet, emit, dimensionRange(request.range));
    return undefined;
  },
  deleteDimension(spreadsheet, emit, request) {
    deleteDimension(spreadsheet, emit, dimensionRange(request.range));
    return undefined;
  },
  appendDimension(spreadsheet, emit, request) {
    appendDimension(
      spreadsheet,
      emit,
      Number(request.sheetId ?? 0),
      request.dimension as DimensionRange['dimension'],
      Number(request.length ?? 0),
    );
    return undefined;
  },
  moveDimension(spreadsheet, emit, request) {
    moveDimension(spreadsheet, emit, dimensionRange(request.source), Number(request.destinationIndex ?? 0));
    return undefined;
  },
  updateDimensionProperties(spreadsheet, emit, request) {
    const properties = (request.properties ?? {}) as { hiddenByUser?: boolean; pixelSize?: number };
    const fields = String(request.fields ?? '');
    if (fields === '') throw invalidArgument('At least one field must be specified.');
    const chosen: { hiddenByUser?: boolean; pixelSize?: number } = {};
    for (const field of fields.split(',').map((f) => f.trim())) {
      if (field === '*' || field === 'hiddenByUser') chosen.hiddenByUser = properties.hiddenByUser === true;
      if (field === '*' || field === 'pixelSize') chosen.pixelSize = properties.pixelSize;
    }
    updateDimensionProperties(spreadsheet, emit, dimensionRange(request.range), chosen);
    return undefined;
  },
  addProtectedRange(spreadsheet, emit, request) {
    const input = (request.protectedRange ?? {}) as {
      protectedRangeId?: number;
      range?: GridRange;
      description?: string;
      warningOnly?: boolean;
      editors?: { users?: string[]; groups?: string[] };
    };
    if (!input.range) throw invalidArgument('A protected range must have a range or a named range.');
    const sheet = requireSheet(spreadsheet, input.range.sheetId);
    if (input.warningOnly && input.editors)
      throw invalidArgument('Warning-only protected ranges cannot have editors.');
    const protectedRange = {
      protectedRangeId: input.protectedRangeId ?? spreadsheet.nextProtectedRangeId++,
      range: { ...input.range, sheetId: sheet.sheetId },
      ...(input.description ? { description: input.description } : {}),
      ...(input.warningOnly ? { warningOnly: true } : {}),
      ...(input.editors ? { editors: input.editors } : {}),
    };
    sheet.protectedRanges.push(protectedRange);
    emit({ kind: 'protectedRange', sheetId: sheet.sheetId, range: protectedRange.range });
    return { addProtectedRange: { protectedRange: protectedRangeResource(protectedRange) } };
  },
  deleteProtectedRange(spreadsheet, emit, request) {
    const id = Number(request.protectedRangeId);
    for (const sheet of spreadsheet.sheets) {
      const at = sheet.protectedRanges.findIndex((candidate) => candidate.protectedRangeId === id);
      if (at < 0) continue;
      const [removed] = sheet.protectedRanges.splice(at, 1);
      emit({ kind: 'protectedRange', sheetId: sheet.sheetId, range: removed?.range });
      return undefined;
    }
    throw invalidArgument(`No protected range with id: ${request.protectedRangeId}`);
  },
  updateCells(spreadsheet, emit, request) {
    updateCells(spreadsheet, emit, request as Parameters<typeof updateCells>[2]);
    return undefined;
  },
  repeatCell(spreadsheet, emit, request) {
    repeatCell(spreadsheet, emit, request as Parameters<typeof repeatCell>[2]);
    return undefined;
  },
  setDataValidation(spreadsheet, emit, request) {
    setDataValidation(spreadsheet, emit, request as Parameters<typeof setDataValidation>[2]);
    return undefined;
  },
  appendCells(spreadsheet, emit, request) {
    appendCells(spreadsheet, emit, request as { sheetId?: number; rows?: RowData[]; fields?: string });
    return undefined;
  },
  sortRange(spreadsheet, emit, request) {
    const range = request.range as GridRange | undefined;
    if (!range) throw invalidArgument('range is required.');
    sortRange(spreadsheet, emit, range, (request.sortSpecs ?? []) as SortSpec[]);
    return undefined;
  },
};

function dimensionRange(value: unknown): DimensionRange {
  if (!value || typeof value !== 'object') throw invalidArgument('range is required.');
  return value as DimensionRange;
}

export function applyBatchUpdate(
  emulator: Emulator,
  spreadsheetId: string,
  body: Record<string, unknown>,
): unknown {
  rejectUnknownFields(body, [
    'requests',
    'includeSpreadsheetInResponse',
    'responseRanges',
    'responseIncludeGridData',
  ]);
  const requests = Array.isArray(body.requests) ? body.requests : [];
  // Unknown request kinds are refused before anything is applied, as the proto parser does.
  const parsed = requests.map((item, i) => {
    const request = requireObject(item);
    const kinds = Object.keys(request);
    if (kinds.length !== 1) {
      throw invalidArgument(
        `Invalid requests[${i}]: exactly one kind of request must be set, found ${kinds.length}.`,
      );
    }
    const kind = kinds[0] ?? '';
    const handler = handlers[kind];
    if (!handler) {
      throw invalidArgument(
        `Invalid JSON payload received. Unknown name "${kind}" at 'requests[${i}]': Cannot find field.`,
      );
    }
    return { kind, handler, request: requireObject(request[kind]) };
  });
  return emulator.model.mutate(spreadsheetId, 'api', (spreadsheet, emit) => {
    const replies = parsed.map(({ kind, handler, request }, i) => {
      try {
        return handler(spreadsheet, emit, request) ?? {};
      } catch (error) {
        if (
          error instanceof SheetsApiError &&
          error.status === 'INVALID_ARGUMENT' &&
          !error.message.startsWith('Invalid requests')
        ) {
          throw new SheetsApiError(
            error.status,
            `Invalid requests[${i}].${kind}: ${error.message}`,
            error.extra,
            error.httpCode,
          );
        }
        throw error;
      }
    });
    const response: Record<string, unknown> = { spreadsheetId: spreadsheet.spreadsheetId, replies };
    if (boolParam(body.includeSpreadsheetInResponse)) {
      response.updatedSpreadsheet = spreadsheetResource(
        spreadsheet,
        emulator.url,
        boolParam(body.responseIncludeGridData) ? { cells: true } : undefined,
      );
    }
    return response;
  });
}
