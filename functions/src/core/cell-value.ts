/**
 * The value of one cell as the core sees it: the canonical, JSON-representable form of a
 * PostgreSQL value (see coercion.ts). Both sides are compared in this form, so `1` typed in the
 * sheet and `1` stored in an integer column are the same value.
 */

/** A canonical cell value. `null` is SQL NULL and an empty sheet cell. */
export type CellValue = null | string | number | boolean | CellValue[] | { [key: string]: CellValue };

/** The cells of one row change or one row: column name → value. */
export type Cells = Record<string, CellValue>;

/** Structural equality of canonical values (object key order does not matter). */
export function sameValue(a: CellValue | undefined, b: CellValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]));
}

/**
 * The same value, or the same number in another type's canonical form (20 and "20.00"): how a
 * column's value reads after ALTER TABLE … TYPE re-rendered it, which is no change of the value.
 */
export function sameValueOrRetyped(a: CellValue | undefined, b: CellValue | undefined): boolean {
  if (sameValue(a, b)) return true;
  const [n, s] = typeof a === 'number' ? [a, b] : [b, a];
  return typeof n === 'number' && typeof s === 'string' && DECIMAL.test(s) && Number(s) === n;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A stable text form (sorted object keys), for ids and map keys. */
export function stableText(value: CellValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableText).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableText(value[k]!)}`).join(',')}}`;
}
