/**
 * What sheetsync needs to know about a synced table, read from the catalog: its columns with
 * their types, and its primary key. Identifiers in SQL come only from here (the catalog), never
 * from sheet text; header names are matched against these columns and unknown ones are ignored.
 */
import type postgres from 'postgres';
import { SheetsyncError } from '../../errors.ts';
import type { TableSchema } from '../../ports/table.ts';

export type { TableColumn, TableSchema } from '../../ports/table.ts';

export class TableNotFoundError extends SheetsyncError {
  override name = 'TableNotFoundError';
}

/** Splits `schema.table` (or `table`, in schema public). */
export function splitTableName(table: string): { schema: string; name: string } {
  const dot = table.indexOf('.');
  return dot < 0
    ? { schema: 'public', name: table }
    : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

export async function describeTable(
  sql: postgres.Sql | postgres.TransactionSql,
  table: string,
): Promise<TableSchema> {
  const { schema, name } = splitTableName(table);
  const columns = await sql<
    Array<{
      name: string;
      type: string;
      base_type: string;
      is_array: boolean;
      nullable: boolean;
      has_default: boolean;
      generated: boolean;
      key_position: number | null;
    }>
  >`
    select a.attname as name,
           format_type(a.atttypid, a.atttypmod) as type,
           coalesce(elem.typname, t.typname) as base_type,
           t.typcategory = 'A' as is_array,
           not a.attnotnull as nullable,
           (a.atthasdef or a.attidentity <> '') as has_default,
           a.attgenerated <> '' as generated,
           array_position(i.indkey::int2[], a.attnum) as key_position
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_type t on t.oid = a.atttypid
    left join pg_type elem on elem.oid = t.typelem and t.typcategory = 'A'
    left join pg_index i on i.indrelid = c.oid and i.indisprimary
    where n.nspname = ${schema} and c.relname = ${name} and c.relkind in ('r', 'p')
      and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  if (columns.length === 0) {
    throw new TableNotFoundError(
      'SHEETSYNC_E250',
      `table ${schema}.${name} does not exist (or has no columns); check the link's "table" and the search path`,
    );
  }
  const primaryKey = columns
    .filter((c) => c.key_position !== null)
    .sort((a, b) => a.key_position! - b.key_position!)
    .map((c) => c.name);
  if (primaryKey.length === 0) {
    throw new TableNotFoundError(
      'SHEETSYNC_E201',
      `table ${schema}.${name} has no primary key; sheetsync needs one to identify rows (add one, e.g. ` +
        `"alter table ${schema}.${name} add column id bigint generated always as identity primary key")`,
    );
  }
  return {
    schema,
    name,
    qualified: `"${schema.replaceAll('"', '""')}"."${name.replaceAll('"', '""')}"`,
    columns: columns.map((c) => ({
      name: c.name,
      type: c.type,
      baseType: c.base_type,
      isArray: c.is_array,
      nullable: c.nullable,
      hasDefault: c.has_default,
      generated: c.generated,
    })),
    primaryKey,
  };
}

export { type HeaderMatch, looseColumnName, matchHeaders } from '../../core/header-match.ts';
