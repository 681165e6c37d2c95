/**
 * Pieces of the adapter's statements: quoted column lists, typed placeholders and their
 * parameters, key tuples. Identifiers come from the described table only; every value is a
 * parameter of the column's type (mysql-coercion.ts `placeholder`).
 */
import type { Cells, CellValue } from '../../core/cell-value.ts';
import { keyId } from '../../core/key-id.ts';
import { fromMysql, placeholder, toMysqlParam } from './mysql-coercion.ts';
import type { MysqlParam } from './mysql-connection.ts';
import { type MysqlTableColumn, type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';

export interface Fragment {
  sql: string;
  params: MysqlParam[];
}

export function column(table: MysqlTableSchema, name: string): MysqlTableColumn {
  const found = table.columns.find((c) => c.name === name);
  if (!found) throw new Error(`${table.qualified} has no column ${JSON.stringify(name)}`);
  return found;
}

/**
 * `(?, cast(? as signed), …)` for one row's values of `columns` (a column may appear twice, as
 * a key's old and new value), with their parameters.
 */
export function rowValues(
  table: MysqlTableSchema,
  columns: readonly string[],
  values: readonly CellValue[],
): Fragment {
  const types = columns.map((c) => column(table, c).mysqlType);
  return {
    sql: `(${types.map(placeholder).join(', ')})`,
    params: types.map((type, i) => toMysqlParam(values[i] ?? null, type)),
  };
}

/** The values of `columns` in `cells`, in that order (missing ones NULL). */
export function valuesOf(cells: Cells, columns: readonly string[]): CellValue[] {
  return columns.map((c) => cells[c] ?? null);
}

/**
 * `(a, b) in ((?, ?), …)`: the rows whose `columns` equal one of `rows`. A one-column key uses
 * the plain form, which every version plans as index lookups.
 */
export function keyIn(
  table: MysqlTableSchema,
  columns: readonly string[],
  rows: readonly Cells[],
  prefix = '',
): Fragment {
  const list = columns.map((c) => `${prefix}${mysqlIdent(c)}`).join(', ');
  const values = rows.map((row) => rowValues(table, columns, valuesOf(row, columns)));
  const lhs = columns.length === 1 ? list : `(${list})`;
  const items = values.map((v) => (columns.length === 1 ? v.sql.slice(1, -1) : v.sql));
  return { sql: `${lhs} in (${items.join(', ')})`, params: values.flatMap((v) => v.params) };
}

/**
 * `select ? as c0, ? as c1 union all select ?, ? …`: rows as a derived table, for multi-row
 * UPDATE … JOIN (MySQL's `VALUES ROW()` and MariaDB's `VALUES` constructors differ; this works
 * on both). Columns are named c0, c1, … in the order of `columns`.
 */
export function derivedRows(
  table: MysqlTableSchema,
  columns: readonly string[],
  rows: readonly CellValue[][],
): Fragment {
  const selects = rows.map((row, r) => {
    const values = rowValues(table, columns, row);
    const placeholders = values.sql.slice(1, -1).split(', ');
    return {
      sql: `select ${placeholders.map((p, i) => (r === 0 ? `${p} as c${i}` : p)).join(', ')}`,
      params: values.params,
    };
  });
  return { sql: selects.map((s) => s.sql).join(' union all '), params: selects.flatMap((s) => s.params) };
}

/** A row mysql2 returned as canonical cells of the named columns. */
export function canonicalCells(
  table: MysqlTableSchema,
  row: Record<string, unknown>,
  columns: readonly string[],
): Cells {
  const cells: Cells = {};
  for (const name of columns) {
    const raw = row[name];
    const coerced = fromMysql(raw, column(table, name).mysqlType);
    cells[name] = coerced.ok ? coerced.value : ((raw ?? null) as CellValue);
  }
  return cells;
}

/**
 * A key's values as the table holds them: the value a statement would send, read back (a BIGINT
 * given as the number 7 and as the text "7" are one key, "7").
 */
export function canonicalKey(table: MysqlTableSchema, cells: Cells, columns: readonly string[]): Cells {
  return Object.fromEntries(
    columns.map((name) => {
      const type = column(table, name).mysqlType;
      const read = fromMysql(toMysqlParam(cells[name] ?? null, type), type);
      return [name, read.ok ? read.value : (cells[name] ?? null)];
    }),
  );
}

/** The keyId of canonicalKey. */
export function canonicalKeyId(table: MysqlTableSchema, cells: Cells, columns: readonly string[]): string {
  return keyId(canonicalKey(table, cells, columns));
}

/** Statements of at most ~20,000 parameters (a prepared statement takes up to 65,535). */
export function chunks<T>(rows: readonly T[], width: number): T[][] {
  const size = Math.max(1, Math.min(1_000, Math.floor(20_000 / Math.max(1, width))));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
