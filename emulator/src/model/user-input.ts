/**
 * The one parser for what a person types (valueInputOption USER_ENTERED, user edits, pastes).
 * https://developers.google.com/sheets/api/reference/rest/v4/ValueInputOption: "The values will
 * be parsed as if the user typed them into the UI. Numbers will stay as numbers, but strings may
 * be converted to numbers, dates, etc. following the same rules that are applied when entering
 * text into a cell via the Google Sheets UI."
 *
 * Recognised (en_US): numbers with optional thousands separators and exponent, percentages,
 * dollar amounts, TRUE/FALSE in any case, ISO and M/D/YYYY dates, dates with times, times,
 * a leading apostrophe (forces text, the apostrophe is not stored), and `=` formulas.
 * Anything else stays text. A JSON number or boolean is taken as is.
 */
import type { Cell, CellFormat, CellValue } from './cell.ts';
import { invalidArgument } from './errors.ts';
import { serialFromUtc } from './number-format.ts';

/**
 * "Cells can contain up to 50,000 characters" (Google Sheets' limits): a longer entry, text or
 * formula, fails the whole request with 400 INVALID_ARGUMENT and this message, as Google's does.
 */
export const MAX_CELL_CHARACTERS = 50_000;

export function checkCellLength(input: string): void {
  if (input.length > MAX_CELL_CHARACTERS) {
    throw invalidArgument(
      `Your input contains more than the maximum of ${MAX_CELL_CHARACTERS} characters in a single cell.`,
    );
  }
}

/** The cell a user entry produces, or undefined for an empty entry (which clears the cell). */
export function parseUserEntered(input: CellValue): Cell | undefined {
  if (typeof input !== 'string') return { value: input };
  if (input === '') return undefined;
  checkCellLength(input);
  if (input.startsWith("'")) return { value: input.slice(1) };
  if (input.startsWith('=') && input.length > 1) return { formula: input };
  const text = input.trim();
  const upper = text.toUpperCase();
  if (upper === 'TRUE' || upper === 'FALSE') return { value: upper === 'TRUE' };
  return parseNumber(text) ?? parseDateTime(text) ?? { value: input };
}

/** The cell a RAW entry produces: "The values the user has entered will not be parsed." */
export function parseRaw(input: CellValue): Cell | undefined {
  if (input === '') return undefined;
  if (typeof input === 'string') checkCellLength(input);
  return { value: input };
}

const plainNumber = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const groupedNumber = /^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/;

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

function withFormat(value: number, numberFormat: CellFormat['numberFormat']): Cell {
  return { value, format: { numberFormat } };
}

function parseNumber(text: string): Cell | undefined {
  if (plainNumber.test(text)) {
    const value = Number(text);
    if (/[eE]/.test(text)) return withFormat(value, { type: 'SCIENTIFIC', pattern: '0.00E+00' });
    return { value };
  }
  if (groupedNumber.test(text)) {
    const digits = text.replaceAll(',', '');
    const decimals = decimalsOf(digits);
    return withFormat(Number(digits), {
      type: 'NUMBER',
      pattern: decimals ? `#,##0.${'0'.repeat(decimals)}` : '#,##0',
    });
  }
  if (text.endsWith('%')) {
    const body = text.slice(0, -1).trim();
    if (plainNumber.test(body) && !/[eE]/.test(body)) {
      const decimals = decimalsOf(body);
      return withFormat(Number(body) / 100, {
        type: 'PERCENT',
        pattern: decimals ? `0.${'0'.repeat(decimals)}%` : '0%',
      });
    }
  }
  const currency = /^(-?)\$\s?(.+)$/.exec(text);
  if (currency) {
    const body = (currency[2] ?? '').replaceAll(',', '');
    if (/^\d+(\.\d*)?$|^\.\d+$/.test(body)) {
      const value = Number(body) * (currency[1] ? -1 : 1);
      return withFormat(value, { type: 'CURRENCY', pattern: '"$"#,##0.00' });
    }
  }
  return undefined;
}

function validDate(year: number, month: number, day: number): number | undefined {
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  return ms;
}

function parseTime(text: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(text);
  if (!match) return undefined;
  let hours = Number(match[1]);
  const minutes = Number(match[2]);
  const seconds = Number(match[3] ?? 0);
  const meridiem = match[4]?.toLowerCase();
  if (meridiem) {
    if (hours < 1 || hours > 12) return undefined;
    hours = (hours % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  return ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

function parseDateTime(text: string): Cell | undefined {
  const [datePart = '', ...rest] = text.split(/\s+|T/);
  const timePart = rest.join(' ');
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(datePart);
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(datePart);
  let ms: number | undefined;
  let datePattern: string;
  if (iso) {
    ms = validDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
    datePattern = 'yyyy-mm-dd';
  } else if (us) {
    ms = validDate(Number(us[3]), Number(us[1]), Number(us[2]));
    datePattern = 'M/d/yyyy';
  } else {
    const time = parseTime(text);
    if (time === undefined) return undefined;
    const pattern = /am|pm/i.test(text) ? 'h:mm:ss am/pm' : 'H:mm:ss';
    return withFormat(serialFromUtc(time) - 25_569, { type: 'TIME', pattern });
  }
  if (ms === undefined) return undefined;
  if (timePart === '') return withFormat(serialFromUtc(ms), { type: 'DATE', pattern: datePattern });
  const time = parseTime(timePart);
  if (time === undefined) return undefined;
  return withFormat(serialFromUtc(ms + time), { type: 'DATE_TIME', pattern: `${datePattern} H:mm:ss` });
}
