/**
 * Opening a MySQL database from DATABASE_URL (adapters/mysql/mysql-database.ts) on the
 * machine's MariaDB: the URL's `sheetsyncDatabase`, capture installed and watched idempotently,
 * and a server CA that makes the pool refuse a server without TLS rather than talk in clear.
 */
import { describe, expect, it } from 'vitest';
import { connectMysql } from '../../functions/src/adapters/mysql/mysql-connection.ts';
import {
  isMysqlUrl,
  mysqlUrlParts,
  openMysqlDatabase,
} from '../../functions/src/adapters/mysql/mysql-database.ts';
import { databaseEngine } from '../../functions/src/runtime/compose.ts';
import { useMysqlDatabase } from '../support/mysql.ts';

describe('a MySQL DATABASE_URL', () => {
  const db = useMysqlDatabase();

  it('selects MySQL by its scheme, and names where sheetsync keeps its tables', () => {
    expect(databaseEngine('mysql://root@127.0.0.1:3306/test')).toBe('mysql');
    expect(databaseEngine('mariadb://root@127.0.0.1/test')).toBe('mysql');
    expect(databaseEngine('postgres://postgres@127.0.0.1/postgres')).toBe('postgres');
    expect(isMysqlUrl('postgresql://x@y/z')).toBe(false);
    expect(mysqlUrlParts('mysql://u:p@h:3306/app')).toEqual({
      url: 'mysql://u:p@h:3306/app',
      outboxDatabase: 'sheetsync',
    });
    expect(mysqlUrlParts('mariadb://u@h/app?sheetsyncDatabase=own')).toEqual({
      url: 'mysql://u@h/app',
      outboxDatabase: 'own',
    });
    expect(() => mysqlUrlParts('mysql://u@h:3306/')).toThrow(
      expect.objectContaining({ code: 'SHEETSYNC_E781' }),
    );
  });

  it('installs capture and watches the links’ tables, again without harm', async () => {
    await db.pool.query('create table items (id int primary key, name varchar(20))');
    const url = `${db.url}?sheetsyncDatabase=${db.name}`;
    const links = [{ name: 'items-link', table: 'items' }];
    for (let i = 0; i < 2; i++) {
      const opened = await openMysqlDatabase(url, links);
      await opened.stop();
    }
    const [triggers] = (await db.pool.query(
      'select trigger_name as name from information_schema.triggers where event_object_schema = ? order by 1',
      [db.name],
    )) as unknown as [Array<{ name: string }>];
    expect(triggers).toHaveLength(3);
    await db.pool.query("insert into items values (1, 'a')");
    const [[{ n }]] = (await db.pool.query(`select count(*) as n from \`${db.name}\`.outbox`)) as unknown as [
      [{ n: number }],
    ];
    expect(Number(n)).toBe(1);
  });

  it('with a server CA, refuses a server that offers no TLS', async () => {
    const pool = connectMysql(db.url, {
      ca: '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----',
      connectionLimit: 1,
    });
    try {
      await expect(pool.query('select 1')).rejects.toThrow(/secure connection|SSL|TLS/i);
    } finally {
      await pool.end();
    }
  });
});
