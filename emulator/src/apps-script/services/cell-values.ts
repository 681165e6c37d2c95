/**
 * Cell values between the model and a script. Range.getValues gives numbers, booleans, strings
 * ('' for empty) and Date objects for date cells; Range.setValues takes the same, and a string is
 * parsed as if a person typed it (a number-like string becomes a number, `=…` a formula).
 */
import type { CellValue, WritableCellValue } from '../protocol.ts';
import { isDate } from '../script-realm.ts';
import { serialToEpochMs } from '../time-zone.ts';

export function toScriptValue(value: CellValue, timeZone: string): unknown {
  if (typeof value === 'object' && value !== null) return new Date(serialToEpochMs(value.date, timeZone));
  return value;
}

/** A script value as the host stores it; Dates keep their instant and are resolved in the sheet's zone. */
export function fromScriptValue(value: unknown): WritableCellValue {
  if (value === null || value === undefined) return '';
  if (isDate(value)) return { epochMs: value.getTime() };
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  return String(value);
}
