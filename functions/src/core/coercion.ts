/**
 * Coercion between sheet values (string | number | boolean | empty) and PostgreSQL column types,
 * through one canonical form per type (the core compares values only in that form):
 *
 * | type                  | canonical                  | on the sheet                          |
 * | --------------------- | -------------------------- | ------------------------------------- |
 * | smallint, integer     | number                     | number                                |
 * | bigint                | decimal string             | number when exact, else text          |
 * | numeric               | normalised decimal string  | number when exact, else text          |
 * | real, double          | number                     | number                                |
 * | text, varchar, char   | string                     | text                                  |
 * | boolean               | boolean                    | boolean                               |
 * | date                  | `YYYY-MM-DD`               | `YYYY-MM-DD` (also reads M/D/YYYY, serials) |
 * | timestamptz           | UTC ISO `…Z`               | the same text                         |
 * | json, jsonb           | the JSON value             | its JSON text                         |
 * | uuid                  | lower-case string          | text                                  |
 * | arrays                | JSON array of canonicals   | JSON text (reads `{a,b}` too)         |
 * | NULL                  | null                       | empty cell                            |
 *
 * An empty cell is NULL, also in a text column. Errors are per cell: the caller applies the rest
 * of the row and reports the bad cell (SHEETSYNC_E407).
 */
import type { Cells, CellValue } from './cell-value.ts';
import type { ColumnType } from './column-type.ts';
import { canonicalDate, canonicalTimestamp } from './temporal.ts';

export type SheetValue = string | number | boolean | null;

export type Coerced = { ok: true; value: CellValue } | { ok: false; message: string };

export interface CellError {
  column: string;
  type: string;
  value: SheetValue;
  message: string;
}

const ok = (value: CellValue): Coerced => ({ ok: true, value });
const fail = (message: string): Coerced => ({ ok: false, message });
const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const decimalPattern = /^([+-])?(\d*)(?:\.(\d*))?$/;
const trueWords = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const falseWords = new Set(['false', 'f', 'no', 'n', '0', 'off']);

/** A sheet cell's value as the column's canonical value, or why it does not fit. */
export function fromSheet(value: SheetValue, type: ColumnType): Coerced {
  if (value === null || value === '') return ok(null);
  if (type.array > 0) return arrayFromSheet(value, type);
  return scalarFromSheet(value, type);
}

/** A value from the outbox (PostgreSQL's to_json form) as the column's canonical value. */
export function fromDb(value: CellValue, type: ColumnType): Coerced {
  if (value === null) return ok(null);
  if (type.array > 0) {
    if (!Array.isArray(value)) return fail(`expected an array for ${type.name}`);
    return mapAll(value, (item) => fromDb(item, { ...type, array: type.array - 1 }));
  }
  if (type.kind === 'json') return ok(value);
  if (typeof value === 'object') return fail(`expected a scalar for ${type.name}`);
  return scalarFromSheet(value, type);
}

/**
 * Google's limit on one cell: "Cells can contain up to 50,000 characters". A write of a longer
 * one fails the whole request (400), so such a value goes to the sheet as its preview.
 */
export const SHEET_CELL_MAX_CHARS = 50_000;

/**
 * What the sheet shows of a text too long for a cell: its start and a note that says so, in
 * SHEET_CELL_MAX_CHARS characters (UTF-16 units, never half a surrogate pair). The note ends the
 * cell, so a person sees it.
 */
export function sheetPreview(text: string): string {
  const note = `… [sheetsync: ${text.length.toLocaleString('en-US')} characters in the database, more than a sheet cell holds; what you type here replaces them all]`;
  let keep = SHEET_CELL_MAX_CHARS - note.length;
  const last = text.charCodeAt(keep - 1);
  if (last >= 0xd800 && last <= 0xdbff) keep--;
  return text.slice(0, keep) + note;
}

/**
 * Whether a sheet cell shows the preview (sheetPreview) of `value`: the sheet sending it back (a
 * paste or copy of the row, a reconcile read) is not a new value.
 */
export function isSheetPreviewOf(
  sheet: SheetValue | undefined,
  value: CellValue | undefined,
  type: ColumnType,
): boolean {
  if (typeof sheet !== 'string' || sheet.length < SHEET_CELL_MAX_CHARS - 1_000 || !sheet.endsWith(']'))
    return false;
  if (value === null || value === undefined) return false;
  const text = fullSheetValue(value, type);
  return typeof text === 'string' && text.length > SHEET_CELL_MAX_CHARS && sheetPreview(text) === sheet;
}

/** Whether a value is too long for a sheet cell (it is shown as its preview). */
export function tooLongForSheet(value: CellValue, type: ColumnType): boolean {
  const text = fullSheetValue(value, type);
  return typeof text === 'string' && text.length > SHEET_CELL_MAX_CHARS;
}

/**
 * A canonical value in the sheet's natural form (written with RAW input: text stays text); text
 * too long for a cell as its preview (sheetPreview).
 */
export function toSheet(value: CellValue, type: ColumnType): SheetValue {
  const shown = fullSheetValue(value, type);
  return typeof shown === 'string' && shown.length > SHEET_CELL_MAX_CHARS ? sheetPreview(shown) : shown;
}

function fullSheetValue(value: CellValue, type: ColumnType): SheetValue {
  if (value === null) return '';
  if (type.array > 0 || type.kind === 'json') return JSON.stringify(value);
  switch (type.kind) {
    case 'int8':
    case 'numeric': {
      const text = String(value);
      const number = Number(text);
      return Number.isFinite(number) && normaliseDecimal(decimalText(number)) === text ? number : text;
    }
    default:
      return typeof value === 'object' ? JSON.stringify(value) : value;
  }
}

/** Coerces the changed cells of one sheet row; bad cells are left out and reported. */
export function coerceSheetCells(
  cells: Record<string, SheetValue>,
  types: Record<string, ColumnType>,
): { cells: Cells; errors: CellError[] } {
  const coerced: Cells = {};
  const errors: CellError[] = [];
  for (const [column, value] of Object.entries(cells)) {
    const type = types[column];
    if (!type) {
      errors.push({ column, type: 'unknown', value, message: `the table has no column "${column}"` });
      continue;
    }
    const result = fromSheet(value, type);
    if (result.ok) coerced[column] = result.value;
    else errors.push({ column, type: type.name, value, message: result.message });
  }
  return { cells: coerced, errors };
}

function scalarFromSheet(value: string | number | boolean, type: ColumnType): Coerced {
  const text = typeof value === 'string' ? value.trim() : value;
  switch (type.kind) {
    case 'int4':
    case 'int8': {
      const digits =
        typeof text === 'number' ? (Number.isInteger(text) ? decimalText(text) : '') : String(text);
      if (typeof text === 'boolean' || !/^[+-]?\d+$/.test(digits))
        return fail(`"${value}" is not a whole number`);
      const big = BigInt(digits);
      const [min, max] =
        type.kind === 'int4' ? [-(2n ** 31n), 2n ** 31n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (big < min || big > max) return fail(`${digits} is out of range for ${type.name}`);
      return ok(type.kind === 'int4' ? Number(big) : big.toString());
    }
    case 'numeric': {
      if (typeof text === 'boolean') return fail(`${value} is not a number`);
      if (typeof text === 'string' && /^nan$/i.test(text)) return ok('NaN');
      const decimal = typeof text === 'number' ? decimalText(text) : text.replace(/^\+/, '');
      const normalised = normaliseDecimal(decimal);
      return normalised === undefined ? fail(`"${value}" is not a number`) : ok(normalised);
    }
    case 'float': {
      const number =
        typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN;
      return Number.isFinite(number) ? ok(number) : fail(`"${value}" is not a number`);
    }
    case 'boolean': {
      if (typeof text === 'boolean') return ok(text);
      const word = String(text).toLowerCase();
      if (trueWords.has(word)) return ok(true);
      if (falseWords.has(word)) return ok(false);
      return fail(`"${value}" is not a boolean (TRUE or FALSE)`);
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz': {
      if (typeof text === 'boolean') return fail(`${value} is not a ${type.name}`);
      const canonical =
        type.kind === 'date' ? canonicalDate(text) : canonicalTimestamp(text, type.kind === 'timestamptz');
      return canonical === undefined ? fail(`"${value}" is not a ${type.name}`) : ok(canonical);
    }
    case 'json': {
      if (typeof text !== 'string') return ok(text);
      try {
        return ok(JSON.parse(text) as CellValue);
      } catch {
        return fail(`"${value}" is not valid JSON`);
      }
    }
    case 'uuid': {
      const candidate = String(text);
      return uuidPattern.test(candidate) ? ok(formatUuid(candidate)) : fail(`"${value}" is not a UUID`);
    }
    case 'text': {
      const string =
        typeof value === 'string'
          ? value
          : typeof value === 'number'
            ? decimalText(value)
            : value
              ? 'TRUE'
              : 'FALSE';
      if (type.maxLength !== undefined && [...string].length > type.maxLength) {
        return fail(`"${string}" is longer than ${type.maxLength} characters (${type.name})`);
      }
      return ok(string);
    }
  }
}

function arrayFromSheet(value: SheetValue, type: ColumnType): Coerced {
  if (typeof value !== 'string') return fail(`"${value}" is not an array (write ["a","b"] or {a,b})`);
  const text = value.trim();
  let items: unknown;
  if (text.startsWith('{') && type.array === 1) items = parseArrayLiteral(text);
  else {
    try {
      items = JSON.parse(text);
    } catch {
      items = undefined;
    }
  }
  if (!Array.isArray(items)) return fail(`"${value}" is not an array (write ["a","b"] or {a,b})`);
  const inner = { ...type, array: type.array - 1 };
  return mapAll(items as CellValue[], (item) =>
    inner.array > 0
      ? Array.isArray(item)
        ? fromSheet(JSON.stringify(item), inner)
        : fail('expected a nested array')
      : item !== null && typeof item === 'object'
        ? inner.kind === 'json'
          ? ok(item)
          : fail(`expected a scalar element for ${type.name}`)
        : fromSheet(item, inner),
  );
}

/** A one-dimensional PostgreSQL array literal: `{a,"b c",NULL}`. */
function parseArrayLiteral(text: string): (string | null)[] | undefined {
  if (!text.endsWith('}')) return undefined;
  const body = text.slice(1, -1);
  if (body.trim() === '') return [];
  const items: (string | null)[] = [];
  const pattern = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,"]*?))\s*(?:,|$)/gy;
  while (pattern.lastIndex < body.length) {
    const match = pattern.exec(body);
    if (!match || match[0] === '') return undefined;
    if (match[1] !== undefined) items.push(match[1].replace(/\\(.)/g, '$1'));
    else items.push(/^null$/i.test(match[2]!) ? null : match[2]!);
  }
  return items;
}

function mapAll(items: CellValue[], each: (item: CellValue) => Coerced): Coerced {
  const values: CellValue[] = [];
  for (const [i, item] of items.entries()) {
    const result = each(item);
    if (!result.ok) return fail(`element ${i + 1}: ${result.message}`);
    values.push(result.value);
  }
  return ok(values);
}

/** A finite number as plain decimal text (no exponent). */
/** A number as plain decimal text (no exponent). */
export function decimalText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return Math.abs(value) >= 1 ? BigInt(Math.round(value)).toString() : value.toFixed(20);
}

/** Decimal text without a plus sign, leading or trailing zeros; undefined when not decimal. */
export function normaliseDecimal(text: string): string | undefined {
  const match = decimalPattern.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const whole = (match[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const sign = match[1] === '-' && (whole !== '0' || fraction !== '') ? '-' : '';
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

function formatUuid(text: string): string {
  const hex = text.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
