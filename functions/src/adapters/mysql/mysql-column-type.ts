/**
 * MySQL/MariaDB column types, as information_schema.COLUMNS gives them, reduced to what the
 * coercion needs, and to the core kind their canonical values take (core/column-type.ts), so
 * the merge compares MySQL values exactly as PostgreSQL ones:
 *
 * | MySQL                                  | family    | canonical (core kind)              |
 * | -------------------------------------- | --------- | ---------------------------------- |
 * | TINYINT(1), BOOL                       | boolean   | boolean                            |
 * | TINYINT … INT [UNSIGNED], YEAR         | integer   | number (int4)                      |
 * | BIGINT [UNSIGNED]                      | integer   | decimal string (int8)              |
 * | DECIMAL(p,s)                           | decimal   | normalised decimal string          |
 * | FLOAT, DOUBLE                          | float     | number                             |
 * | CHAR, VARCHAR, TEXT…, TIME, others     | text      | string                             |
 * | ENUM('a',…)                            | enum      | the member as declared             |
 * | SET('a',…)                             | set       | members in declared order, `a,b`   |
 * | BIT(n)                                 | bit       | number (n ≤ 53) or decimal string  |
 * | DATE                                   | date      | `YYYY-MM-DD`                       |
 * | DATETIME(fsp)                          | datetime  | `YYYY-MM-DDTHH:MM:SS[.ffffff]`     |
 * | TIMESTAMP(fsp) (stored in UTC)         | timestamp | UTC `…Z` (timestamptz)             |
 * | JSON (MariaDB: LONGTEXT + json_valid)  | json      | the JSON value                     |
 * | UUID (MariaDB 10.7+)                   | uuid      | lower-case string                  |
 */
import type { ColumnType, ScalarKind } from '../../core/column-type.ts';

export type MysqlFamily =
  | 'boolean'
  | 'integer'
  | 'decimal'
  | 'float'
  | 'text'
  | 'enum'
  | 'set'
  | 'bit'
  | 'date'
  | 'datetime'
  | 'timestamp'
  | 'json'
  | 'uuid';

export interface MysqlColumnType {
  family: MysqlFamily;
  /** The core type of its canonical values (merge, echo and sheet forms). */
  core: ColumnType;
  /** COLUMN_TYPE as the catalog gives it, e.g. `bigint(20) unsigned`, for messages. */
  name: string;
  /** Integers and BIT: the values the column holds. */
  min?: bigint;
  max?: bigint;
  /** DECIMAL(p,s). */
  precision?: number;
  scale?: number;
  /** ENUM and SET members as declared. */
  members?: string[];
}

/** One information_schema.COLUMNS row, as describeMysqlTable reads it. */
export interface MysqlCatalogType {
  dataType: string;
  columnType: string;
  maxLength: number | null;
  precision: number | null;
  scale: number | null;
  /** MariaDB's JSON is LONGTEXT with a `json_valid(col)` check; the describe finds that check. */
  json: boolean;
}

const INTEGER_BITS: Record<string, number> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, bigint: 64 };

const FAMILY_KIND: Record<MysqlFamily, ScalarKind> = {
  boolean: 'boolean',
  integer: 'int4',
  decimal: 'numeric',
  float: 'float',
  text: 'text',
  enum: 'text',
  set: 'text',
  bit: 'int8',
  date: 'date',
  datetime: 'timestamp',
  timestamp: 'timestamptz',
  json: 'json',
  uuid: 'uuid',
};

export function mysqlColumnType(catalog: MysqlCatalogType): MysqlColumnType {
  const dataType = catalog.dataType.toLowerCase();
  const name = catalog.columnType;
  const unsigned = /\bunsigned\b/i.test(name);
  const make = (family: MysqlFamily, extra: Partial<MysqlColumnType> = {}, kind = FAMILY_KIND[family]) => ({
    family,
    name,
    core: { kind, array: 0, name },
    ...extra,
  });
  if (catalog.json || dataType === 'json') return make('json');
  // TINYINT(1) is MySQL's BOOLEAN; 8.0.19+ drops display widths from COLUMN_TYPE except this one.
  if (dataType === 'tinyint' && /^tinyint\(1\)/i.test(name)) return make('boolean');
  const bits = INTEGER_BITS[dataType];
  if (bits !== undefined) {
    const [min, max] = unsigned
      ? [0n, 2n ** BigInt(bits) - 1n]
      : [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n];
    return make('integer', { min, max }, bits > 32 ? 'int8' : 'int4');
  }
  if (dataType === 'year') return make('integer', { min: 0n, max: 2155n });
  if (dataType === 'decimal' || dataType === 'numeric')
    return make('decimal', { precision: catalog.precision ?? 10, scale: catalog.scale ?? 0 });
  if (dataType === 'float' || dataType === 'double' || dataType === 'real') return make('float');
  if (dataType === 'bit') {
    const width = catalog.precision ?? Number(/\((\d+)\)/.exec(name)?.[1] ?? 1);
    return make('bit', { min: 0n, max: 2n ** BigInt(width) - 1n }, width > 53 ? 'int8' : 'int4');
  }
  if (dataType === 'enum' || dataType === 'set') return make(dataType, { members: declaredMembers(name) });
  if (dataType === 'date') return make('date');
  if (dataType === 'datetime') return make('datetime');
  if (dataType === 'timestamp') return make('timestamp');
  if (dataType === 'uuid') return make('uuid');
  const limited = (dataType === 'char' || dataType === 'varchar') && catalog.maxLength !== null;
  return {
    family: 'text',
    name,
    core: limited
      ? { kind: 'text', array: 0, name, maxLength: catalog.maxLength! }
      : { kind: 'text', array: 0, name },
  };
}

/** The members of `enum('a','it''s')` / `set(…)` as declared (quotes doubled inside). */
export function declaredMembers(columnType: string): string[] {
  const body = columnType.slice(columnType.indexOf('(') + 1, columnType.lastIndexOf(')'));
  return [...body.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'"));
}

/**
 * The PostgreSQL type name the core parses (core/column-type.ts parseColumnType) into this
 * column's core type: what the engine-neutral pipeline sees as a column's `type`, and what the
 * relay's messages name, so MySQL values take the same canonical forms as PostgreSQL's.
 */
export function coreTypeName(type: MysqlColumnType): string {
  const { kind, maxLength } = type.core;
  switch (kind) {
    case 'int4':
      return 'integer';
    case 'int8':
      return 'bigint';
    case 'float':
      return 'double precision';
    case 'timestamptz':
      return 'timestamp with time zone';
    case 'timestamp':
      return 'timestamp without time zone';
    case 'text':
      return maxLength === undefined ? 'text' : `character varying(${maxLength})`;
    default:
      return kind;
  }
}
