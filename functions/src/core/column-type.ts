/**
 * PostgreSQL column types as the outbox names them (`format_type`: "integer", "numeric(12,2)",
 * "character varying(40)", "timestamp with time zone", "bigint[]") reduced to the kinds the
 * coercion knows. Unknown types are treated as text: PostgreSQL parses the text on write and
 * reports a bad value itself.
 */

export type ScalarKind =
  | 'int4'
  | 'int8'
  | 'numeric'
  | 'float'
  | 'text'
  | 'boolean'
  | 'date'
  | 'timestamptz'
  | 'timestamp'
  | 'json'
  | 'uuid';

export interface ColumnType {
  kind: ScalarKind;
  /** Array dimensions (`integer[]` is 1); arrays travel as JSON arrays. */
  array: number;
  /** `character varying(n)` / `character(n)`: the length limit. */
  maxLength?: number;
  /** The name as given, for messages. */
  name: string;
}

const kinds: Record<string, ScalarKind> = {
  smallint: 'int4',
  integer: 'int4',
  int: 'int4',
  int2: 'int4',
  int4: 'int4',
  serial: 'int4',
  bigint: 'int8',
  int8: 'int8',
  bigserial: 'int8',
  numeric: 'numeric',
  decimal: 'numeric',
  money: 'numeric',
  real: 'float',
  'double precision': 'float',
  float4: 'float',
  float8: 'float',
  text: 'text',
  'character varying': 'text',
  varchar: 'text',
  character: 'text',
  char: 'text',
  citext: 'text',
  name: 'text',
  boolean: 'boolean',
  bool: 'boolean',
  date: 'date',
  'timestamp with time zone': 'timestamptz',
  timestamptz: 'timestamptz',
  'timestamp without time zone': 'timestamp',
  timestamp: 'timestamp',
  json: 'json',
  jsonb: 'json',
  uuid: 'uuid',
};

export function parseColumnType(name: string): ColumnType {
  let base = name.trim().toLowerCase();
  let array = 0;
  while (base.endsWith('[]')) {
    base = base.slice(0, -2).trim();
    array += 1;
  }
  const modifier = /\(([^)]*)\)/.exec(base)?.[1];
  // "timestamp(3) with time zone" → "timestamp with time zone"
  base = base.replace(/\s*\([^)]*\)/, '').replace(/\s+/g, ' ');
  const kind = kinds[base] ?? 'text';
  const limit = kind === 'text' && modifier && /^\d+$/.test(modifier) ? Number(modifier) : undefined;
  return limit === undefined ? { kind, array, name } : { kind, array, name, maxLength: limit };
}
