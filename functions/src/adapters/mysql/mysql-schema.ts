/**
 * What sheetsync needs to know about a synced MySQL/MariaDB table, read from information_schema:
 * its columns with their types, defaults, generated and AUTO_INCREMENT columns, and the key rows
 * are identified by (the primary key, or a unique key of NOT NULL columns the link names).
 * Identifiers in SQL come only from here and are quoted with backticks; sheet text never
 * reaches SQL. Every catalog column is aliased: MySQL 8 labels information_schema columns in
 * upper case whatever the query's spelling. The shape is PostgreSQL's TableSchema, so the rest of sheetsync reads it alike.
 */
import { SheetsyncError } from '../../errors.ts';
import { type TableColumn, TableNotFoundError, type TableSchema } from '../table/table-schema.ts';
import { type MysqlColumnType, mysqlColumnType } from './mysql-column-type.ts';
import type { MysqlConnection, MysqlPool } from './mysql-connection.ts';

export interface MysqlTableColumn extends TableColumn {
  mysqlType: MysqlColumnType;
  autoIncrement: boolean;
}

export interface MysqlTableSchema extends TableSchema {
  columns: MysqlTableColumn[];
  /** Every unique key of NOT NULL columns, by index name (`PRIMARY` included). */
  uniqueKeys: Map<string, string[]>;
  /** How many unique indexes the table has, nullable and prefix ones included. */
  uniqueIndexCount: number;
  /** The AUTO_INCREMENT column, if any (MySQL allows one per table, and it must be indexed). */
  autoIncrement?: string;
}

/** A MySQL identifier, quoted (https://dev.mysql.com/doc/refman/8.0/en/identifiers.html). */
export function mysqlIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

interface ColumnRow {
  name: string;
  data_type: string;
  column_type: string;
  nullable: string;
  column_default: string | null;
  extra: string;
  max_length: string | number | null;
  num_precision: string | number | null;
  num_scale: string | number | null;
}

/**
 * Describes `table` (`database.table`, or `table` in the connection's database). `key`: the
 * link's key, used as the row identity when the table has no primary key, and as the match
 * key of new rows otherwise; it must be a unique key of NOT NULL columns.
 */
export async function describeMysqlTable(
  db: MysqlPool | MysqlConnection,
  table: string,
  key?: readonly string[],
): Promise<MysqlTableSchema> {
  const dot = table.indexOf('.');
  const [[{ db_name: current }]] = (await db.query('select database() as db_name')) as unknown as [
    [{ db_name: string | null }],
  ];
  const schema = dot < 0 ? (current ?? '') : table.slice(0, dot);
  const name = dot < 0 ? table : table.slice(dot + 1);
  const [kinds] = (await db.execute(
    'select table_type as table_type from information_schema.tables where table_schema = ? and table_name = ?',
    [schema, name],
  )) as unknown as [Array<{ table_type: string }>];
  if (kinds.length === 0) {
    throw new TableNotFoundError(
      'SHEETSYNC_E250',
      `table ${schema}.${name} does not exist; check the link's "table" (database.table) and the user's privileges`,
    );
  }
  if (kinds[0]!.table_type !== 'BASE TABLE') {
    throw new TableNotFoundError(
      'SHEETSYNC_E202',
      `${schema}.${name} is a ${kinds[0]!.table_type.toLowerCase()}, not a table`,
    );
  }
  const [rows] = (await db.execute(
    `select column_name as name, data_type as data_type, column_type as column_type,
            is_nullable as nullable, column_default as column_default, extra as extra,
            character_maximum_length as max_length,
            numeric_precision as num_precision, numeric_scale as num_scale
       from information_schema.columns
      where table_schema = ? and table_name = ?
      order by ordinal_position`,
    [schema, name],
  )) as unknown as [ColumnRow[]];
  const [[{ version }]] = (await db.query('select version() as version')) as unknown as [
    [{ version: string }],
  ];
  const mariadb = /mariadb/i.test(version);
  const jsonColumns = mariadb ? await mariadbJsonColumns(db, schema, name) : new Set<string>();
  const columns = rows.map((row): MysqlTableColumn => {
    const extra = row.extra.toLowerCase();
    const generated = /(virtual|stored|persistent) generated/.test(extra);
    const autoIncrement = extra.includes('auto_increment');
    const number = (v: string | number | null) => (v === null ? null : Number(v));
    const mysqlType = mysqlColumnType({
      dataType: row.data_type,
      columnType: row.column_type,
      maxLength: number(row.max_length),
      precision: number(row.num_precision),
      scale: number(row.num_scale),
      json: jsonColumns.has(row.name),
    });
    return {
      name: row.name,
      type: row.column_type,
      baseType: row.data_type.toLowerCase(),
      isArray: false,
      nullable: row.nullable === 'YES',
      // MariaDB shows the default NULL of a nullable column as the word NULL (and a text default
      // quoted): that is no default, as in MySQL, which shows SQL NULL.
      hasDefault:
        (row.column_default !== null && !(mariadb && row.column_default === 'NULL')) ||
        autoIncrement ||
        generated,
      generated,
      mysqlType,
      autoIncrement,
    };
  });
  const { keys: uniqueKeys, count: uniqueIndexCount } = await uniqueNotNullKeys(db, schema, name, columns);
  const primaryKey = uniqueKeys.get('PRIMARY') ?? (key ? [...key] : []);
  if (key) checkLinkKey(schema, name, key, uniqueKeys);
  if (primaryKey.length === 0) {
    throw new TableNotFoundError(
      'SHEETSYNC_E201',
      `table ${schema}.${name} has no primary key; sheetsync needs one to identify rows (add one, e.g. ` +
        `"alter table ${schema}.${name} add column id bigint unsigned auto_increment primary key"), or give the link a key`,
    );
  }
  const auto = columns.find((c) => c.autoIncrement)?.name;
  return {
    schema,
    name,
    qualified: `${mysqlIdent(schema)}.${mysqlIdent(name)}`,
    columns,
    primaryKey,
    uniqueKeys,
    uniqueIndexCount,
    ...(key && uniqueKeys.has('PRIMARY') ? { matchKey: [...key] } : {}),
    ...(auto ? { autoIncrement: auto } : {}),
  };
}

/**
 * Unique indexes whose every column is NOT NULL and indexed whole (a prefix index, SUB_PART,
 * is unique on the prefix only), by name, columns in index order.
 */
async function uniqueNotNullKeys(
  db: MysqlPool | MysqlConnection,
  schema: string,
  name: string,
  columns: readonly MysqlTableColumn[],
): Promise<{ keys: Map<string, string[]>; count: number }> {
  const [rows] = (await db.execute(
    `select index_name as index_name, column_name as column_name, sub_part as sub_part
       from information_schema.statistics
      where table_schema = ? and table_name = ? and non_unique = 0
      order by index_name, seq_in_index`,
    [schema, name],
  )) as unknown as [Array<{ index_name: string; column_name: string | null; sub_part: unknown }>];
  const nullable = new Set(columns.filter((c) => c.nullable).map((c) => c.name));
  const keys = new Map<string, string[]>();
  const broken = new Set<string>();
  for (const row of rows) {
    // column_name is NULL for a functional key part (MySQL 8.0.13+).
    if (row.column_name === null || row.sub_part !== null || nullable.has(row.column_name))
      broken.add(row.index_name);
    keys.set(row.index_name, [...(keys.get(row.index_name) ?? []), row.column_name ?? '']);
  }
  const count = keys.size;
  for (const index of broken) keys.delete(index);
  return { keys, count };
}

function checkLinkKey(
  schema: string,
  name: string,
  key: readonly string[],
  keys: Map<string, string[]>,
): void {
  const wanted = [...key].sort().join('\u0000');
  const found = [...keys.values()].some((columns) => [...columns].sort().join('\u0000') === wanted);
  if (!found) {
    throw new SheetsyncError(
      'SHEETSYNC_E111',
      `the link's key (${key.join(', ')}) is not a key of ${schema}.${name}: it needs a unique index on exactly ` +
        'those columns, all NOT NULL',
    );
  }
}

/**
 * MariaDB's JSON type is an alias of LONGTEXT with a column CHECK `json_valid(col)`
 * (https://mariadb.com/kb/en/json-data-type/); MySQL 8 reports `json` itself and its
 * CHECK_CONSTRAINTS view has no TABLE_NAME, so only MariaDB is asked.
 */
async function mariadbJsonColumns(
  db: MysqlPool | MysqlConnection,
  schema: string,
  name: string,
): Promise<Set<string>> {
  const [rows] = (await db.execute(
    `select check_clause as check_clause from information_schema.check_constraints
      where constraint_schema = ? and table_name = ?`,
    [schema, name],
  )) as unknown as [Array<{ check_clause: string }>];
  const columns = new Set<string>();
  for (const { check_clause } of rows) {
    const match = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(check_clause.trim());
    if (match) columns.add(match[1]!.replaceAll('``', '`'));
  }
  return columns;
}
