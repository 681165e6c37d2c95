/**
 * The databases a suite runs on: PostgreSQL (the file's own database, test/support/postgres.ts)
 * and MariaDB (the machine's, test/support/mysql.ts), behind one small interface so one suite
 * body runs on both (`describe.each(engines)`). MariaDB has no fallback: when it cannot be
 * reached the suite fails, it never skips (useMysqlDatabase).
 *
 * SQL given to `exec`/`rows` is the suite's own fixed text (portable between the engines:
 * `boolean`, `varchar`, `decimal`, `date`); `?` marks parameters on both.
 */
import type postgres from 'postgres';
import { beforeAll } from 'vitest';
import { installMysqlCapture } from '../../functions/src/adapters/mysql/mysql-capture.ts';
import { notOnMysql } from '../../functions/src/adapters/mysql/mysql-database.ts';
import { mysqlSyncDatabase } from '../../functions/src/adapters/mysql/mysql-sync-database.ts';
import { postgresSyncDatabase } from '../../functions/src/adapters/table/postgres-sync-database.ts';
import type { SyncDatabase } from '../../functions/src/ports/sync-database.ts';
import { useMysqlDatabase } from './mysql.ts';
import { useTestDatabase } from './postgres.ts';

export type Engine = 'postgres' | 'mysql';
export const engines: Engine[] = ['postgres', 'mysql'];

export interface EngineDatabase {
  engine: Engine;
  /** The DATABASE_URL a pipeline takes (MySQL: sheetsync's own tables in the file's database). */
  readonly url: string;
  /** Changes waiting in sheetsync's outbox. */
  outboxChanges(): Promise<number>;
  /** Runs a statement of the suite's own. */
  exec(sql: string, params?: unknown[]): Promise<void>;
  /** Runs a query of the suite's own; its rows. */
  rows(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** What attach and reconcile take (SyncDeps' `sql` and `database`). */
  deps(): { sql: postgres.Sql; database: SyncDatabase };
}

/** Registers the hooks that create and drop a database of `engine` for this file. */
export function useEngineDatabase(engine: Engine): EngineDatabase {
  if (engine === 'postgres') {
    const db = useTestDatabase();
    const numbered = (sql: string) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    return {
      engine,
      get url() {
        return db.url;
      },
      outboxChanges: async () => {
        const [row] = await db.sql`select count(*)::int as n from sheetsync.outbox`;
        return Number(row?.n ?? 0);
      },
      exec: async (sql, params = []) => {
        await db.sql.unsafe(numbered(sql), params as never[]);
      },
      rows: async (sql, params = []) => [...(await db.sql.unsafe(numbered(sql), params as never[]))],
      deps: () => ({ sql: db.sql, database: postgresSyncDatabase(db.sql) }),
    };
  }
  const db = useMysqlDatabase();
  // sheetsync's own tables (row_ids) in the file's database, as the MySQL sync test places them.
  beforeAll(async () => installMysqlCapture(db.pool, db.name));
  return {
    engine,
    get url() {
      const url = new URL(db.url);
      url.searchParams.set('sheetsyncDatabase', db.name);
      return url.toString();
    },
    outboxChanges: async () => {
      const [rows] = (await db.pool.query(`select count(*) as n from \`${db.name}\`.outbox`)) as unknown as [
        Array<{ n: number | string }>,
      ];
      return Number(rows[0]?.n ?? 0);
    },
    exec: async (sql, params = []) => {
      await db.pool.query(sql, params);
    },
    rows: async (sql, params = []) => {
      const [rows] = (await db.pool.query(sql, params)) as unknown as [Array<Record<string, unknown>>];
      return rows;
    },
    deps: () => ({
      sql: notOnMysql<postgres.Sql>('a PostgreSQL client'),
      database: mysqlSyncDatabase(db.pool, { outboxDatabase: db.name }),
    }),
  };
}
