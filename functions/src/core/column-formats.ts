/**
 * Typed columns (issue 22, item 1): what the sheet should know of each synced column, planned
 * from the table's description as Sheets API batchUpdate requests. Pure: the caller reads the
 * schema and the tab, and sends the requests.
 *
 * | column                              | on the sheet                                          |
 * | ----------------------------------- | ----------------------------------------------------- |
 * | boolean                             | checkbox (BOOLEAN validation, strict)                 |
 * | enum, CHECK (col IN (...))          | dropdown (ONE_OF_LIST, strict, showCustomUi)          |
 * | date                                | `yyyy-mm-dd` (a person's typed date shows so)         |
 * | timestamp, timestamptz              | `yyyy-mm-dd hh:mm:ss`                                 |
 * | integer kinds                       | number format `0`                                     |
 * | numeric(p,s)                        | number format with s decimals                         |
 * | numeric, real, double               | number format `0.###############` (no rounding shown)  |
 * | identity, serial, generated         | protected range, warning only                         |
 *
 * Dates get no DATE_IS_VALID rule while applyToSheet writes them as text (RAW `YYYY-MM-DD`):
 * Google marks text in such a column invalid, so every synced date would show as an error.
 *
 * Each rule covers the column's data rows (row 2 down, every row of the grid); the header row is
 * left alone. Values still arrive through the same coercion: the rules only help people type
 * valid values (sheetsync reads UNFORMATTED_VALUE, so formats never change what syncs).
 * Sheets API: https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request
 * (SetDataValidationRequest, RepeatCellRequest, AddProtectedRangeRequest).
 */
import { parseColumnType } from './column-type.ts';
import { looseColumnName } from './header-match.ts';

export interface ColumnFacts {
  name: string;
  /** The engine's full type (`numeric(10,2)`, `boolean`, `timestamp with time zone`). */
  type: string;
  isArray?: boolean;
  /** An enum's labels, or the list of a single-column CHECK (col IN (...)). */
  allowed?: string[];
  /** Set when the database, not people, writes the column. */
  ownedBy?: 'identity' | 'serial' | 'generated';
}

export interface FormatPlanInput {
  sheetId: number;
  /** The tab's header row, in order (zero-based column = index). */
  headers: readonly string[];
  columns: readonly ColumnFacts[];
  /** Columns (zero-based) a whole-column protected range already covers: not protected again. */
  protectedColumns?: ReadonlySet<number>;
}

/** One Sheets API batchUpdate request (a structural subset of sheets_v4.Schema$Request). */
export type FormatRequest =
  | { setDataValidation: { range: ColumnRange; rule: ValidationRule } }
  | {
      repeatCell: {
        range: ColumnRange;
        cell: { userEnteredFormat: { numberFormat: NumberFormat } };
        fields: string;
      };
    }
  | {
      addProtectedRange: {
        protectedRange: { range: ColumnRange; description: string; warningOnly: true };
      };
    };

interface ColumnRange {
  sheetId: number;
  startRowIndex?: number;
  startColumnIndex: number;
  endColumnIndex: number;
}

interface ValidationRule {
  condition: { type: 'BOOLEAN' | 'ONE_OF_LIST'; values?: { userEnteredValue: string }[] };
  strict: true;
  showCustomUi?: true;
  inputMessage?: string;
}

interface NumberFormat {
  type: 'NUMBER' | 'DATE' | 'DATE_TIME';
  pattern: string;
}

/** The column a header names: exactly first, then loosely (as sheet headers are matched). */
function columnFor(header: string, columns: readonly ColumnFacts[]): ColumnFacts | undefined {
  if (header === '' || header === '_sheetsync_id') return undefined;
  return (
    columns.find((c) => c.name === header) ??
    columns.find((c) => looseColumnName(c.name) === looseColumnName(header))
  );
}

/** The number format of a numeric column, or undefined for other kinds. */
export function numberPattern(type: string): string | undefined {
  const parsed = parseColumnType(type);
  if (parsed.array > 0) return undefined;
  if (parsed.kind === 'int4' || parsed.kind === 'int8') return '0';
  if (parsed.kind === 'float') return '0.###############';
  if (parsed.kind !== 'numeric') return undefined;
  const scale = /\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(type)?.[1];
  if (scale === undefined) return '0.###############';
  return Number(scale) > 0 ? `0.${'0'.repeat(Number(scale))}` : '0';
}

export function planColumnFormats(input: FormatPlanInput): FormatRequest[] {
  const requests: FormatRequest[] = [];
  input.headers.forEach((header, index) => {
    const column = columnFor(header, input.columns);
    if (!column || column.isArray) return;
    const range = (fromRow: number): ColumnRange => ({
      sheetId: input.sheetId,
      ...(fromRow > 0 ? { startRowIndex: fromRow } : {}),
      startColumnIndex: index,
      endColumnIndex: index + 1,
    });
    if (column.ownedBy) {
      if (!input.protectedColumns?.has(index)) {
        requests.push({
          addProtectedRange: {
            protectedRange: {
              range: range(0),
              description: `sheetsync: ${column.name} is set by the database (${column.ownedBy}); edits here do not reach the table`,
              warningOnly: true,
            },
          },
        });
      }
      // The database writes these: no rule refuses what it writes, but numbers still get a format.
      const pattern = numberPattern(column.type);
      if (pattern) requests.push(numberFormat(range(1), 'NUMBER', pattern));
      return;
    }
    const kind = parseColumnType(column.type).kind;
    const allowed = column.allowed;
    // ONE_OF_LIST: "Formulas are not supported in the values"; a label starting with `=` would
    // fail the whole batch, so such a column gets no dropdown.
    if (allowed && allowed.length > 0 && !allowed.some((value) => value.startsWith('='))) {
      requests.push({
        setDataValidation: {
          range: range(1),
          rule: {
            condition: { type: 'ONE_OF_LIST', values: allowed.map((value) => ({ userEnteredValue: value })) },
            strict: true,
            showCustomUi: true,
          },
        },
      });
      return;
    }
    if (kind === 'boolean') {
      requests.push({
        setDataValidation: { range: range(1), rule: { condition: { type: 'BOOLEAN' }, strict: true } },
      });
      return;
    }
    if (kind === 'date' || kind === 'timestamp' || kind === 'timestamptz') {
      const date = kind === 'date';
      requests.push(
        numberFormat(range(1), date ? 'DATE' : 'DATE_TIME', date ? 'yyyy-mm-dd' : 'yyyy-mm-dd hh:mm:ss'),
      );
      return;
    }
    const pattern = numberPattern(column.type);
    if (pattern) requests.push(numberFormat(range(1), 'NUMBER', pattern));
  });
  return requests;
}

function numberFormat(range: ColumnRange, type: NumberFormat['type'], pattern: string): FormatRequest {
  return {
    repeatCell: {
      range,
      cell: { userEnteredFormat: { numberFormat: { type, pattern } } },
      fields: 'userEnteredFormat.numberFormat',
    },
  };
}
