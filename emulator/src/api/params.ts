/** Query and body parameters, checked as Google checks them, with its error wording. */
import { invalidArgument } from '../model/errors.ts';

/** Google's message for a bad enum value, e.g. `Invalid value at 'value_render_option' (...), "X"`. */
export function enumParam<T extends string>(
  value: unknown,
  name: string,
  typeName: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const snake = name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
  throw invalidArgument(
    `Invalid value at '${snake}' (type.googleapis.com/google.apps.sheets.v4.${typeName}), ${JSON.stringify(value)}`,
  );
}

export function boolParam(value: unknown): boolean {
  return value === true || value === 'true';
}

export function requireObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('Invalid JSON payload received. Expected an object.');
  }
  return body as Record<string, unknown>;
}

export const valueRenderOptions = ['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA'] as const;
export const dateTimeRenderOptions = ['SERIAL_NUMBER', 'FORMATTED_STRING'] as const;
export const dimensions = ['ROWS', 'COLUMNS'] as const;
export const valueInputOptions = ['RAW', 'USER_ENTERED'] as const;
export const insertDataOptions = ['OVERWRITE', 'INSERT_ROWS'] as const;

export function renderParams(source: (name: string) => unknown, prefix = '') {
  const name = (base: string) => (prefix ? `${prefix}${base[0]?.toUpperCase()}${base.slice(1)}` : base);
  return {
    valueRenderOption: enumParam(
      source(name('valueRenderOption')),
      name('valueRenderOption'),
      'ValueRenderOption',
      valueRenderOptions,
    ),
    dateTimeRenderOption: enumParam(
      source(name('dateTimeRenderOption')),
      name('dateTimeRenderOption'),
      'DateTimeRenderOption',
      dateTimeRenderOptions,
    ),
  };
}

/** "valueInputOption is required" for every values write. */
export function requireValueInputOption(value: unknown): 'RAW' | 'USER_ENTERED' {
  const option = enumParam(value, 'valueInputOption', 'ValueInputOption', valueInputOptions);
  if (!option) throw invalidArgument("'valueInputOption' is required but not specified");
  return option;
}

/** A ValueRange's `values`: rows of JSON scalars (null skips a cell). */
export function valuesOf(value: unknown, where: string): (string | number | boolean | null)[][] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw invalidArgument(`Invalid value at '${where}' (type.googleapis.com/google.protobuf.ListValue)`);
  return value.map((line, i) => {
    if (!Array.isArray(line)) {
      throw invalidArgument(
        `Invalid value at '${where}[${i}]' (type.googleapis.com/google.protobuf.ListValue)`,
      );
    }
    return line.map((cell, j) => {
      if (cell === null || typeof cell === 'string' || typeof cell === 'number' || typeof cell === 'boolean')
        return cell;
      throw invalidArgument(
        `Invalid value at '${where}[${i}][${j}]' (type.googleapis.com/google.protobuf.Value)`,
      );
    });
  });
}

/**
 * Google parses bodies against the proto and refuses unknown members:
 * `Invalid JSON payload received. Unknown name "valuess": Cannot find field.` (with
 * ` at 'data[0]'` for nested objects).
 */
export function rejectUnknownFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
  at?: string,
): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw invalidArgument(
        `Invalid JSON payload received. Unknown name "${key}"${at ? ` at '${at}'` : ''}: Cannot find field.`,
      );
    }
  }
}

export const valueRangeFields = ['range', 'majorDimension', 'values'] as const;
