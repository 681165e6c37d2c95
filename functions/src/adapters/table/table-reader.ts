/**
 * Reads table rows by primary key inside the writing transaction (`FOR UPDATE`, so no other
 * writer changes them until the group commit ends), in the core's canonical form: the same
 * JSON encoding the outbox uses (int8, numeric and money as text), then `fromDb`.
 */
import type postgres from 'postgres';
import type { Cells, CellValue } from '../../core/cell-value.ts';
import { fromDb } from '../../core/coercion.ts';
import { parseColumnType } from '../../core/column-type.ts';
import { keyId } from '../../core/key-id.ts';
import type { TableColumn, TableSchema } from './table-schema.ts';
import { ident } from './table-writer.ts';

const EXACT = new Set(['int8', 'numeric', 'money']);

/** A column as JSON that JavaScript parses without rounding. */
export function jsonExpr(column: TableColumn, prefix = 't.'): string {
  const ref = `${prefix}${ident(column.name)}`;
  if (EXACT.has(column.baseType)) return column.isArray ? `to_json(${ref}::text[])` : `to_json(${ref}::text)`;
  return `to_json(${ref})`;
}

/** Canonical cells of a row fetched as JSON. */
export function canonicalRow(table: TableSchema, json: Record<string, unknown>): Cells {
  const cells: Cells = {};
  for (const column of table.columns) {
    const raw = (json[column.name] ?? null) as CellValue;
    const coerced = fromDb(raw, parseColumnType(column.type));
    cells[column.name] = coerced.ok ? coerced.value : raw;
  }
  return cells;
}

/** The rows whose keys are given, locked FOR UPDATE: keyId → canonical cells. */
export async function readRowsForUpdate(
  tx: postgres.TransactionSql,
  table: TableSchema,
  keys: readonly Cells[],
): Promise<Map<string, Cells>> {
  const found = new Map<string, Cells>();
  if (keys.length === 0) return found;
  const object = table.columns.map((c) => `${quoteLiteral(c.name)}, ${jsonExpr(c)}`);
  // json_build_object takes at most 100 arguments: build wide rows 50 columns at a time.
  const parts: string[] = [];
  for (let i = 0; i < object.length; i += 50)
    parts.push(`jsonb_build_object(${object.slice(i, i + 50).join(', ')})`);
  const rows = await tx.unsafe(
    `select ${parts.join(' || ')} as row
       from ${table.qualified} as t
       join jsonb_populate_recordset(null::${table.qualified}, $1::jsonb) as k
         on ${table.primaryKey.map((c) => `t.${ident(c)} = k.${ident(c)}`).join(' and ')}
        for update of t`,
    [keys as never],
  );
  for (const { row } of rows) {
    const cells = canonicalRow(table, row as Record<string, unknown>);
    const key: Cells = Object.fromEntries(table.primaryKey.map((k) => [k, cells[k] ?? null]));
    found.set(keyId(key), cells);
  }
  return found;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
