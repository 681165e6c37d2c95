/**
 * Coercion between sheet values, MySQL values (as mysql2 returns them under connectMysql's
 * options) and statement parameters, through the canonical forms of mysql-column-type.ts.
 * What PostgreSQL checks itself on a cast, this checks per cell first (integer ranges, DECIMAL
 * digits, ENUM and SET members, BIT widths), so a bad cell is reported alone (SHEETSYNC_E407)
 * instead of the database refusing the row. Kinds MySQL shares with PostgreSQL (dates, JSON,
 * floats, text) go through core/coercion.ts.
 */
import type { CellValue } from '../../core/cell-value.ts';
import {
  type Coerced,
  decimalText,
  fromSheet,
  normaliseDecimal,
  type SheetValue,
} from '../../core/coercion.ts';
import { canonicalDate, canonicalTimestamp } from '../../core/temporal.ts';
import type { MysqlColumnType } from './mysql-column-type.ts';
import type { MysqlParam } from './mysql-connection.ts';

const ok = (value: CellValue): Coerced => ({ ok: true, value });
const fail = (message: string): Coerced => ({ ok: false, message });

/** A sheet cell's value as the column's canonical value, or why it does not fit. */
export function fromSheetToMysql(value: SheetValue, type: MysqlColumnType): Coerced {
  if (value === null || value === '') return ok(null);
  switch (type.family) {
    case 'integer':
    case 'bit':
      return integerFromSheet(value, type);
    case 'decimal': {
      const result = fromSheet(value, type.core);
      if (!result.ok || result.value === 'NaN')
        return result.ok ? fail(`"${value}" is not a number`) : result;
      const whole = String(result.value).replace(/^-/, '').split('.')[0]!.replace(/^0+/, '');
      return whole.length > type.precision! - type.scale!
        ? fail(`${String(result.value)} is out of range for ${type.name}`)
        : result;
    }
    case 'enum': {
      const member = findMember(String(value).trim(), type.members!);
      return member === undefined
        ? fail(`"${value}" is not one of ${type.members!.map((m) => `"${m}"`).join(', ')}`)
        : ok(member);
    }
    case 'set':
      return setFromText(String(value), type);
    default:
      return fromSheet(value, type.core);
  }
}

/** A value mysql2 returned for the column as its canonical value. */
export function fromMysql(raw: unknown, type: MysqlColumnType): Coerced {
  if (raw === null || raw === undefined) return ok(null);
  switch (type.family) {
    case 'boolean':
      // MySQL's truth: any non-zero TINYINT(1) is TRUE (it holds -128…127).
      return ok(Number(raw) !== 0);
    case 'integer':
      return ok(type.core.kind === 'int8' ? String(raw) : Number(raw));
    case 'bit': {
      const bits = Buffer.isBuffer(raw) ? BigInt(`0x${raw.toString('hex') || '0'}`) : BigInt(String(raw));
      return ok(type.core.kind === 'int8' ? bits.toString() : Number(bits));
    }
    case 'decimal': {
      const text = normaliseDecimal(String(raw));
      return text === undefined ? fail(`"${String(raw)}" is not a decimal`) : ok(text);
    }
    case 'float':
      return ok(Number(raw));
    case 'date':
      return temporal(String(raw), canonicalDate(String(raw)));
    case 'datetime':
      return temporal(String(raw), canonicalTimestamp(String(raw), false));
    case 'timestamp':
      // The session is in UTC (connectMysql), so the text is UTC without an offset.
      return temporal(String(raw), canonicalTimestamp(String(raw), true));
    case 'json':
      if (typeof raw !== 'string') return ok(raw as CellValue);
      try {
        return ok(JSON.parse(raw) as CellValue);
      } catch {
        return fail(`the database holds invalid JSON in ${type.name}`);
      }
    case 'uuid':
      return ok(String(raw).toLowerCase());
    default:
      return ok(Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw));
  }
}

/** A canonical value as a statement parameter for the column (see `placeholder`). */
export function toMysqlParam(value: CellValue, type: MysqlColumnType): MysqlParam {
  if (value === null) return null;
  switch (type.family) {
    case 'boolean':
      return typeof value === 'boolean' ? Number(value) : String(value);
    case 'json':
      return JSON.stringify(value);
    case 'datetime':
    case 'timestamp':
      // MySQL's literal has a space and no zone; the session zone is UTC.
      return String(value).replace('T', ' ').replace(/Z$/, '');
    default:
      return typeof value === 'object' ? JSON.stringify(value) : value;
  }
}

/**
 * The SQL for one parameter of the column's type. BIGINT, DECIMAL and BIT travel as text (no
 * JavaScript number holds them) and are cast, because MySQL compares an integer column with text
 * as doubles (https://dev.mysql.com/doc/refman/8.0/en/type-conversion.html), and reads text into
 * a BIT column as bytes.
 */
export function placeholder(type: MysqlColumnType): string {
  if (type.family === 'bit') return 'cast(? as unsigned)';
  if (type.family === 'integer' && type.core.kind === 'int8')
    return type.min! < 0n ? 'cast(? as signed)' : 'cast(? as unsigned)';
  if (type.family === 'decimal') return `cast(? as decimal(${type.precision},${type.scale}))`;
  return '?';
}

function integerFromSheet(value: string | number | boolean, type: MysqlColumnType): Coerced {
  if (typeof value === 'boolean' && type.family === 'bit') return checkRange(value ? 1n : 0n, type);
  const text = typeof value === 'string' ? value.trim().replace(/^\+/, '') : value;
  // A number's shortest decimal text, as core/coercion.ts reads it: toSheet shows a BIGINT as a
  // number when that text is the value, even beyond 2^53 (1599755357034732500).
  if (typeof text === 'number' && Number.isInteger(text)) return checkRange(BigInt(decimalText(text)), type);
  if (typeof text === 'string' && /^-?\d+$/.test(text)) return checkRange(BigInt(text), type);
  return fail(`"${value}" is not a whole number`);
}

function checkRange(value: bigint, type: MysqlColumnType): Coerced {
  if (value < type.min! || value > type.max!) return fail(`${value} is out of range for ${type.name}`);
  return ok(type.core.kind === 'int8' ? value.toString() : Number(value));
}

/** MySQL matches ENUM and SET members case-insensitively (in the usual collations). */
function findMember(text: string, members: readonly string[]): string | undefined {
  return members.find((m) => m === text) ?? members.find((m) => m.toLowerCase() === text.toLowerCase());
}

function setFromText(text: string, type: MysqlColumnType): Coerced {
  const chosen = new Set<string>();
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const member = findMember(item, type.members!);
    if (member === undefined) return fail(`"${item}" is not a member of ${type.name}`);
    chosen.add(member);
  }
  return ok(type.members!.filter((m) => chosen.has(m)).join(','));
}

function temporal(raw: string, canonical: string | undefined): Coerced {
  // MySQL's zero date '0000-00-00' (allowed outside NO_ZERO_DATE) has no canonical form: keep it.
  return ok(canonical ?? raw);
}
