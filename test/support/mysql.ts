/**
 * A MariaDB/MySQL database of its own for each test file, dropped afterwards, so files run in
 * parallel and a re-run on a dirty machine starts clean. The server is the machine's MariaDB
 * (`MYSQL_URL`, default root over 127.0.0.1:3306, which .ci/run prepares). There is no embedded
 * fallback: when the server cannot be reached the file fails, it never skips.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll } from 'vitest';
import { connectMysql, type MysqlPool } from '../../functions/src/adapters/mysql/mysql-connection.ts';

/** The server the MySQL tests use; `MYSQL_URL` overrides it. */
export const mysqlAdminUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

export interface TestMysqlDatabase {
  /** The database's name (the tables' schema). */
  name: string;
  /** Connection URL of the file's own database. */
  url: string;
  /** A sheetsync pool on it (connectMysql: UTC session, strict mode, exact numbers). */
  pool: MysqlPool;
}

async function admin(): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({ uri: mysqlAdminUrl, connectTimeout: 5_000 });
  } catch (error) {
    const where = new URL(mysqlAdminUrl).host;
    throw new Error(
      `MariaDB/MySQL is not reachable at ${where} (${(error as Error).message}); start it, ` +
        "or point MYSQL_URL at a server (.ci/run prepares the machine's MariaDB)",
      { cause: error },
    );
  }
}

/** Registers beforeAll/afterAll hooks that create and drop a fresh database for this file. */
export function useMysqlDatabase(prefix = 'sheetsync_test'): TestMysqlDatabase {
  const handle = {} as TestMysqlDatabase;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  beforeAll(async () => {
    const connection = await admin();
    try {
      await connection.query(`create database \`${name}\` character set utf8mb4`);
    } finally {
      await connection.end();
    }
    const url = new URL(mysqlAdminUrl);
    url.pathname = `/${name}`;
    handle.name = name;
    handle.url = url.toString();
    handle.pool = connectMysql(handle.url, { connectionLimit: 5 });
  });
  afterAll(async () => {
    await handle.pool?.end();
    const connection = await admin();
    try {
      await connection.query(`drop database if exists \`${name}\``);
    } finally {
      await connection.end();
    }
  });
  return handle;
}
