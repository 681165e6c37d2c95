/**
 * The Table port (ports/table.ts) on PostgreSQL through postgres.js: the catalog read
 * (table-schema.ts, link-key.ts), set-based writes (table-writer.ts), and sheetsync's own
 * functions and tables of sql/install.sql (sheetsync.row_ids, sheetsync.restore, sheetsync.reshow).
 */
import type postgres from 'postgres';
import type { Cells } from '../../core/cell-value.ts';
import type { SheetTransaction, Table } from '../../ports/table.ts';
import { isRowRefusal, isTableChanged } from '../postgres-errors.ts';
import { withLinkKey } from './link-key.ts';
import { readRowsForUpdate } from './table-reader.ts';
import { describeTable } from './table-schema.ts';
import { ident, inSheetTransaction, writeRows } from './table-writer.ts';

export function createPostgresTable(sql: postgres.Sql): Table {
  return {
    describe: async (name, link) => withLinkKey(sql, await describeTable(sql, name), link),
    inSheetTransaction: (fn, options) =>
      inSheetTransaction(sql, async (tx) => {
        if (options?.immediate) await tx`set constraints all immediate`;
        return fn(sheetTransaction(tx));
      }),
    isRowRefusal,
    isTableChanged,
    async addColumns(table, columns) {
      if (columns.length === 0) return;
      // Identifiers quoted (ident), types from the fixed map: no text from the sheet is SQL.
      const adds = columns.map((c) => `add column if not exists ${ident(c.name)} ${ADDED_TYPES[c.type]}`);
      await sql.unsafe(`alter table ${table.qualified} ${adds.join(', ')}`);
    },
  };
}

/** The SQL type of each type a sheet header's column may be given. */
const ADDED_TYPES = { text: 'text', numeric: 'numeric', boolean: 'boolean' } as const;

/** A sheet transaction's operations on `tx`. */
export function sheetTransaction(tx: postgres.TransactionSql): SheetTransaction {
  return {
    readForUpdate: (table, keys) => readRowsForUpdate(tx, table, keys),
    write: (table, upserts, deletes) => writeRows(tx, table, upserts, deletes),
    async insertedKeys(link, rowIds) {
      const inserted = new Map<string, Cells>();
      if (rowIds.length === 0) return inserted;
      const found = await tx<Array<{ row_id: string; key: Cells }>>`
        select row_id::text as row_id, key from sheetsync.row_ids
        where link = ${link} and row_id = any(${[...rowIds]}::uuid[])`;
      for (const r of found) inserted.set(r.row_id, r.key);
      return inserted;
    },
    async recordRowIds(link, rows) {
      if (rows.length === 0) return;
      const json = JSON.stringify(rows.map((r) => ({ row_id: r.rowId, key: r.key })));
      await tx`
        insert into sheetsync.row_ids (link, row_id, key)
        select ${link}, r.row_id::uuid, r.key
        from jsonb_to_recordset(${json}::text::jsonb) as r(row_id text, key jsonb)
        on conflict (link, row_id) do update set key = excluded.key`;
    },
    async forgetRowIds(link, rowIds) {
      if (rowIds.length === 0) return;
      await tx`
        delete from sheetsync.row_ids
        where link = ${link} and row_id = any(${[...rowIds]}::uuid[])`;
    },
    async restore(table, keys) {
      if (keys.length === 0) return;
      await tx`select sheetsync.restore(${table.qualified}::regclass, ${JSON.stringify(keys)}::text::jsonb)`;
    },
    async reshow(table, keys, columns) {
      await tx`select sheetsync.reshow(${table.qualified}::regclass, ${JSON.stringify(keys)}::text::jsonb, ${[...columns]}::text[])`;
    },
  };
}
