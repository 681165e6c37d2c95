/**
 * Change capture on MySQL/MariaDB by row triggers into an outbox (sql/mysql/install.sql; why
 * triggers and not the binlog: docs/design/mysql.md). Each watched table gets three AFTER
 * triggers generated from its catalog description. Their SQL holds quoted catalog identifiers
 * and one number, the table's `watched` id: no link name or other configuration text. MySQL
 * cannot create triggers from a stored procedure (CREATE TRIGGER is not preparable), so they
 * are generated here.
 *
 * A trigger writes one outbox row per row change: origin and dot from the writer's session
 * (@sheetsync_origin, @sheetsync_dot, set by inMysqlSheetTransaction), and a JSON array
 * [changed, key…, values…] (install.sql describes it). Values whose JSON number would round in
 * JavaScript travel as text; TIMESTAMP as its Unix time, since the writer's session zone,
 * not UTC, would otherwise apply.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MysqlColumnType } from './mysql-column-type.ts';
import type { MysqlPool } from './mysql-connection.ts';
import { type MysqlTableSchema, mysqlIdent } from './mysql-schema.ts';

const INSTALL_SQL = new URL('../../../../sql/mysql/install.sql', import.meta.url);

/** Runs sql/mysql/install.sql with its objects in `database` (default `sheetsync`); idempotent. */
export async function installMysqlCapture(pool: MysqlPool, database = 'sheetsync'): Promise<void> {
  const script = readFileSync(INSTALL_SQL, 'utf8')
    // Comments go first (they hold semicolons); the script has no `--` inside a string.
    .replace(/--.*$/gm, '')
    .replaceAll('database if not exists sheetsync', `database if not exists ${mysqlIdent(database)}`)
    .replaceAll('sheetsync.', `${mysqlIdent(database)}.`);
  for (const statement of script.split(';').map((s) => s.trim())) {
    if (statement !== '') await pool.query(statement);
  }
}

/** A trigger lives in its table's database; its name holds only the watched id. */
function triggerName(table: MysqlTableSchema, watchedId: number, event: string): string {
  return `${mysqlIdent(table.schema)}.${mysqlIdent(`sheetsync_capture_${watchedId}_${event}`)}`;
}

/** The SQL that renders a NEW/OLD column value into the outbox body. */
export function valueExpr(ref: string, type: MysqlColumnType): string {
  switch (type.family) {
    case 'bit':
      return `cast(${ref} + 0 as char)`;
    case 'timestamp':
      return `cast(unix_timestamp(${ref}) as char)`;
    case 'decimal':
    case 'json':
      return `cast(${ref} as char)`;
    case 'integer':
      return type.core.kind === 'int8' ? `cast(${ref} as char)` : ref;
    default:
      return ref;
  }
}

/** The three triggers' CREATE statements for `table`, whose watched id is `watchedId`. */
export function captureTriggers(
  table: MysqlTableSchema,
  watchedId: number,
  outboxDatabase: string,
  replace: boolean,
): Record<'insert' | 'update' | 'delete', string> {
  const columns = table.columns;
  const keys = table.primaryKey.map((k) => columns.find((c) => c.name === k)!);
  const outbox = `${mysqlIdent(outboxDatabase)}.${mysqlIdent('outbox')}`;
  const same = (c: (typeof columns)[number]) => `OLD.${mysqlIdent(c.name)} <=> NEW.${mysqlIdent(c.name)}`;
  const insertRow = (op: string, body: string) =>
    `insert into ${outbox} (watched_id, op, origin, dot, body) values (${watchedId}, '${op}', ` +
    `coalesce(@sheetsync_origin, 'db'), @sheetsync_dot, ${body})`;
  const all = `'${'1'.repeat(columns.length)}'`;
  const keyValues = (alias: string) =>
    keys.map((c) => valueExpr(`${alias}.${mysqlIdent(c.name)}`, c.mysqlType));
  const rowValues = (alias: string) =>
    columns.map((c) => valueExpr(`${alias}.${mysqlIdent(c.name)}`, c.mysqlType));
  const create = (name: string, event: string, body: string) =>
    `create ${replace ? 'or replace ' : ''}trigger ${triggerName(table, watchedId, name)} ` +
    `after ${event} on ${table.qualified} for each row ${body}`;
  const changed = `concat(${columns.map((c) => `if(${same(c)}, '0', '1')`).join(', ')})`;
  const changedValues = columns.map(
    (c) => `if(${same(c)}, null, ${valueExpr(`NEW.${mysqlIdent(c.name)}`, c.mysqlType)})`,
  );
  return {
    insert: create(
      'ins',
      'insert',
      insertRow('INSERT', `json_array(${[all, ...keyValues('NEW'), ...rowValues('NEW')].join(', ')})`),
    ),
    update: create(
      'upd',
      'update',
      `if not (${columns.map(same).join(' and ')}) then ` +
        `${insertRow('UPDATE', `json_array(${[changed, ...keyValues('OLD'), ...changedValues].join(', ')})`)}; end if`,
    ),
    delete: create(
      'del',
      'delete',
      insertRow('DELETE', `json_array(${[all, ...keyValues('OLD')].join(', ')})`),
    ),
  };
}

/**
 * Captures `table`'s changes for `link`. Watching again is a no-op while the table's columns
 * and key are unchanged, and regenerates the triggers (in place) after an ALTER TABLE.
 */
export async function watchMysqlTable(
  pool: MysqlPool,
  table: MysqlTableSchema,
  link: string,
  outboxDatabase = 'sheetsync',
): Promise<number> {
  const watched = `${mysqlIdent(outboxDatabase)}.${mysqlIdent('watched')}`;
  const names = JSON.stringify(table.columns.map((c) => c.name));
  const keys = JSON.stringify(table.primaryKey);
  await pool.execute(
    `insert into ${watched} (table_schema, table_name, link, column_names, key_columns, fingerprint)
     values (?, ?, ?, ?, ?, '') on duplicate key update link = values(link)`,
    [table.schema, table.name, link, names, keys],
  );
  const [[row]] = (await pool.execute(
    `select id, fingerprint from ${watched} where table_schema = ? and table_name = ?`,
    [table.schema, table.name],
  )) as unknown as [[{ id: number; fingerprint: string }]];
  const [[{ version }]] = (await pool.query('select version() as version')) as unknown as [
    [{ version: string }],
  ];
  const mariadb = /mariadb/i.test(version);
  const triggers = captureTriggers(table, row.id, outboxDatabase, mariadb);
  const fingerprint = createHash('sha256').update(JSON.stringify(triggers)).digest('hex');
  if (fingerprint === row.fingerprint) return row.id;
  if (mariadb) {
    // CREATE OR REPLACE TRIGGER swaps a trigger atomically: no change is missed meanwhile.
    for (const statement of Object.values(triggers)) await pool.query(statement);
  } else {
    // MySQL has no CREATE OR REPLACE TRIGGER: drop and create under a write lock on the table,
    // so no row changes between the two.
    const connection = await pool.getConnection();
    try {
      await connection.query(`lock tables ${table.qualified} write`);
      for (const name of ['ins', 'upd', 'del'])
        await connection.query(`drop trigger if exists ${triggerName(table, row.id, name)}`);
      for (const statement of Object.values(triggers)) await connection.query(statement);
    } finally {
      await connection.query('unlock tables').catch(() => {});
      connection.release();
    }
  }
  await pool.execute(
    `update ${watched} set column_names = ?, key_columns = ?, fingerprint = ? where id = ?`,
    [names, keys, fingerprint, row.id],
  );
  return row.id;
}
