/**
 * Reads table rows by key inside the writing transaction (`FOR UPDATE`: no other writer changes
 * them until the group commit ends), in the core's canonical form (mysql-coercion.ts).
 */
import type { Cells } from '../../core/cell-value.ts';
import { keyId } from '../../core/key-id.ts';
import type { MysqlConnection } from './mysql-connection.ts';
import { type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';
import { canonicalCells, chunks, keyIn } from './mysql-statements.ts';

/** The rows whose keys are given, locked FOR UPDATE: keyId → canonical cells. */
export async function readMysqlRowsForUpdate(
  connection: MysqlConnection,
  table: MysqlTableSchema,
  keys: readonly Cells[],
): Promise<Map<string, Cells>> {
  const found = new Map<string, Cells>();
  const names = table.columns.map((c) => c.name);
  const list = names.map(mysqlIdent).join(', ');
  for (const part of chunks(keys, table.primaryKey.length)) {
    const where = keyIn(table, table.primaryKey, part);
    const [rows] = (await connection.execute(
      `select ${list} from ${table.qualified} where ${where.sql} for update`,
      where.params,
    )) as unknown as [Array<Record<string, unknown>>];
    for (const row of rows) {
      const cells = canonicalCells(table, row, names);
      found.set(keyId(Object.fromEntries(table.primaryKey.map((k) => [k, cells[k] ?? null]))), cells);
    }
  }
  return found;
}
