/**
 * The demo of `sheetsync start` on MySQL/MariaDB (`DATABASE_URL=mysql://…/test`): the table
 * `leads` in the URL's database (created if missing), shaped as PostgreSQL's demo table, with an
 * AUTO_INCREMENT key, linked to the same spreadsheet and tab (demo.ts).
 */
import mysql from 'mysql2/promise';
import type { Emulator } from '../../emulator/src/server.ts';
import type { MysqlPool } from '../../functions/src/adapters/mysql/mysql-connection.ts';
import { mysqlUrlParts } from '../../functions/src/adapters/mysql/mysql-database.ts';
import { mysqlIdent } from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import { createDemoSheet, DEMO_CONFIG, DEMO_SPREADSHEET, DEMO_TAB } from './demo.ts';

export const MYSQL_DEMO_CONFIG = { links: [{ ...DEMO_CONFIG.links[0]!, table: 'leads' }] };

/** Checks the server answers, and creates the URL's database if it does not exist. */
export async function prepareMysqlServer(databaseUrl: string): Promise<void> {
  const url = new URL(mysqlUrlParts(databaseUrl).url);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/';
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({ uri: url.toString(), connectTimeout: 5_000 });
  } catch (error) {
    throw new SheetsyncError(
      'SHEETSYNC_E765',
      `MySQL/MariaDB did not answer at ${url.host} (${(error as Error).message}); start it, or fix DATABASE_URL`,
      'retry',
      { cause: error },
    );
  }
  try {
    await connection.query(`create database if not exists ${mysqlIdent(database)} character set utf8mb4`);
  } finally {
    await connection.end();
  }
}

/** A clean demo table and tab (a first start). */
export async function createMysqlDemo(pool: MysqlPool, emulator: Emulator): Promise<void> {
  await pool.query('drop table if exists leads');
  await pool.query(`create table leads (
    id bigint not null auto_increment primary key,
    name varchar(200) not null default '',
    email varchar(200),
    company varchar(200),
    status varchar(40) default 'new',
    score int
  )`);
  createDemoSheet(emulator);
}

/** The demo rows, once capture is on, so they reach the sheet through the pipeline. */
export async function fillMysqlDemo(pool: MysqlPool, emulator: Emulator): Promise<void> {
  await pool.query(`insert into leads (name, email, company, status, score) values
    ('Ada Lovelace', 'ada@example.com', 'Analytical Engines', 'won', 92),
    ('Grace Hopper', 'grace@example.com', 'Compilers Inc', 'qualified', 88),
    ('Katherine Johnson', 'katherine@example.com', 'Orbital Mechanics', 'new', 75),
    ('Alan Turing', 'alan@example.com', 'Bletchley Park', 'contacted', 81)`);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const sheet = emulator.model.get(DEMO_SPREADSHEET).sheetByTitle(DEMO_TAB);
    if ((sheet?.rows.length ?? 0) >= 5) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}
