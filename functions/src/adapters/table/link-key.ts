/**
 * A link's `key` (wire/config.ts): the columns that identify a row to people, when the table's
 * primary key is not the one to use (say a serial id the sheet does not show, and `email`). It
 * must be a key in fact: every column NOT NULL, and a unique index (or the primary key) on exactly
 * those columns, so "the row with this key" is always one row or none. Checked at start-up, and
 * by applyToDb before it matches new rows on it.
 */
import type postgres from 'postgres';
import { SheetsyncError } from '../../errors.ts';
import type { TableSchema } from './table-schema.ts';

/** What is wrong with `key` as a key of `table`, or undefined when it is one. */
export async function linkKeyProblem(
  sql: postgres.Sql | postgres.TransactionSql,
  table: TableSchema,
  key: readonly string[],
): Promise<string | undefined> {
  const missing = key.filter((k) => !table.columns.some((c) => c.name === k));
  if (missing.length > 0) return `has no column ${missing.map((m) => `"${m}"`).join(', ')}`;
  const nullable = key.filter((k) => table.columns.find((c) => c.name === k)?.nullable);
  if (nullable.length > 0)
    return `column ${nullable.map((n) => `"${n}"`).join(', ')} may be NULL; a key must be NOT NULL (alter table ${table.qualified} alter column … set not null)`;
  const indexes = await sql<Array<{ columns: string[] }>>`
    select array_agg(a.attname::text order by a.attname) as columns
    from pg_index i
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
    where i.indrelid = ${table.qualified}::regclass and i.indisunique and i.indpred is null
      and i.indexprs is null
    group by i.indexrelid`;
  const wanted = [...key].sort().join('\u0000');
  if (indexes.some((i) => [...i.columns].sort().join('\u0000') === wanted)) return undefined;
  return `is not unique: no unique index is on exactly (${key.join(', ')}); create one (create unique index on ${table.qualified} (${key.join(', ')}))`;
}

/** The table with the link's `key` as its match key, or SHEETSYNC_E111 when `key` is no key. */
export async function withLinkKey(
  sql: postgres.Sql | postgres.TransactionSql,
  table: TableSchema,
  link: { name: string; key?: readonly string[] | undefined },
): Promise<TableSchema> {
  if (!link.key) return table;
  const problem = await linkKeyProblem(sql, table, link.key);
  if (problem) throw new SheetsyncError('SHEETSYNC_E111', `link ${link.name}: "key" ${problem}`);
  return { ...table, matchKey: [...link.key] };
}
