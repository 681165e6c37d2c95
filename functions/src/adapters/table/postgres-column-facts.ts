/**
 * What the PostgreSQL catalog says about a table's columns beyond their types, for typed
 * columns on the sheet (core/column-formats.ts): an enum's labels, the list of a single-column
 * `CHECK (col IN (...))`, and whether the database writes the column itself (identity, a serial's
 * `nextval` default, generated). Schema and table names are parameters, never SQL text.
 */
import type postgres from 'postgres';
import type { ColumnFacts } from '../../core/column-formats.ts';
import type { TableSchema } from './table-schema.ts';

export async function readColumnFacts(
  sql: postgres.Sql | postgres.TransactionSql,
  table: TableSchema,
): Promise<ColumnFacts[]> {
  const rows = await sql<
    Array<{ name: string; owned_by: ColumnFacts['ownedBy'] | null; enum_labels: string[] | null }>
  >`
    select a.attname as name,
           case when a.attidentity <> '' then 'identity'
                when a.attgenerated <> '' then 'generated'
                when pg_get_expr(d.adbin, d.adrelid) like 'nextval(%' then 'serial'
           end as owned_by,
           case when t.typtype = 'e' then
             (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid)
           end as enum_labels
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_type t on t.oid = a.atttypid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname = ${table.schema} and c.relname = ${table.name}
      and a.attnum > 0 and not a.attisdropped`;
  const checks = await sql<Array<{ name: string; definition: string }>>`
    select a.attname as name, pg_get_constraintdef(k.oid) as definition
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
    where k.contype = 'c' and cardinality(k.conkey) = 1
      and n.nspname = ${table.schema} and c.relname = ${table.name}
    order by k.conname`;
  const lists = new Map<string, string[]>();
  for (const check of checks) {
    const list = inListOf(check.definition);
    if (list && !lists.has(check.name)) lists.set(check.name, list);
  }
  const byName = new Map(rows.map((row) => [row.name, row]));
  return table.columns.map((column) => {
    const facts = byName.get(column.name);
    const allowed = facts?.enum_labels ?? lists.get(column.name);
    return {
      name: column.name,
      type: column.type,
      isArray: column.isArray,
      ...(allowed ? { allowed } : {}),
      ...(facts?.owned_by ? { ownedBy: facts.owned_by } : {}),
    };
  });
}

const literal = /^'((?:[^']|'')*)'(?:::[a-z ]+)?$|^(-?\d+(?:\.\d+)?)(?:::[a-z ]+)?$/i;

/**
 * The values of a CHECK that is exactly `col IN (...)`, as pg_get_constraintdef prints it:
 * `CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text])))`, or with casts for varchar
 * columns. Anything else (AND, OR, IS NULL, functions) gives undefined: no dropdown is better
 * than a wrong one.
 */
export function inListOf(definition: string): string[] | undefined {
  const match = /^CHECK \(+(.+?) = ANY \(+ARRAY\[(.*?)\](?:\)::[a-z ]+\[\])?\)+$/i.exec(definition.trim());
  if (!match) return undefined;
  const [, left = '', items = ''] = match;
  if (!/^\(?"?[^"()\s]+"?\)?(?:::[a-z ]+)?$/i.test(left)) return undefined;
  const values: string[] = [];
  for (const item of items.split(/,\s*(?=(?:[^']*'[^']*')*[^']*$)/)) {
    const parsed = literal.exec(item.trim());
    if (!parsed) return undefined;
    values.push(parsed[1] !== undefined ? parsed[1].replaceAll("''", "'") : (parsed[2] ?? ''));
  }
  return values.length > 0 ? values : undefined;
}
