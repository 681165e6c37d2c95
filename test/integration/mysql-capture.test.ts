import { beforeAll, describe, expect, it } from 'vitest';
import { installMysqlCapture, watchMysqlTable } from '../../functions/src/adapters/mysql/mysql-capture.ts';
import { inMysqlSheetTransaction } from '../../functions/src/adapters/mysql/mysql-connection.ts';
import { readMysqlOutbox } from '../../functions/src/adapters/mysql/mysql-outbox.ts';
import {
  describeMysqlTable,
  type MysqlTableSchema,
} from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { writeMysqlRows } from '../../functions/src/adapters/mysql/mysql-writer.ts';
import { useMysqlDatabase } from '../support/mysql.ts';

describe('MySQL capture: row triggers into the outbox (real MariaDB)', () => {
  const db = useMysqlDatabase();
  // The outbox lives in the test's own database, so files running at once do not share one.
  const outboxDb = () => db.name;
  let table: MysqlTableSchema;
  let watchedId: number;
  const changes = async () => {
    const found = await readMysqlOutbox(db.pool, new Map([[watchedId, table]]), outboxDb());
    await db.pool.query(`delete from \`${outboxDb()}\`.outbox`);
    return found.map(({ id: _id, watchedId: _w, ...change }) => change);
  };

  beforeAll(async () => {
    await installMysqlCapture(db.pool, outboxDb());
    await installMysqlCapture(db.pool, outboxDb());
    await db.pool.query(`create table leads (
      id bigint unsigned not null auto_increment primary key,
      name varchar(40) not null, score decimal(20,4), active tinyint(1),
      seen timestamp(3) null, meta json, tags set('a','b'))`);
    table = await describeMysqlTable(db.pool, 'leads');
    watchedId = await watchMysqlTable(db.pool, table, 'leads-link', outboxDb());
  });

  it('installs and watches idempotently, keeping one set of triggers', async () => {
    expect(await watchMysqlTable(db.pool, table, 'leads-link', outboxDb())).toBe(watchedId);
    const [triggers] = (await db.pool.query(
      'select trigger_name as name from information_schema.triggers where event_object_schema = ? order by 1',
      [db.name],
    )) as unknown as [Array<{ name: string }>];
    expect(triggers.map((t) => t.name)).toEqual(
      ['del', 'ins', 'upd'].map((e) => `sheetsync_capture_${watchedId}_${e}`),
    );
  });

  it('records database writes with origin db, changed columns only, exact values', async () => {
    await db.pool.query("set time_zone = '+05:00'");
    await db.pool.query(
      `insert into leads (id, name, score, active, seen, meta, tags)
       values (9007199254740993, 'Ann', 12345678901234.5678, 1, '2024-03-01 17:00:00.250', '{"x":[1]}', 'b,a')`,
    );
    await db.pool.query('update leads set score = 1.5, name = name where id = 9007199254740993');
    await db.pool.query("update leads set name = 'Ann' where id = 9007199254740993");
    await db.pool.query('update leads set id = 7 where id = 9007199254740993');
    await db.pool.query('delete from leads where id = 7');
    expect(await changes()).toEqual([
      {
        op: 'INSERT',
        origin: 'db',
        dot: null,
        key: { id: '9007199254740993' },
        cells: {
          id: '9007199254740993',
          name: 'Ann',
          score: '12345678901234.5678',
          active: true,
          // Written at +05:00 in that session: 12:00 UTC.
          seen: '2024-03-01T12:00:00.25Z',
          meta: { x: [1] },
          tags: 'a,b',
        },
      },
      { op: 'UPDATE', origin: 'db', dot: null, key: { id: '9007199254740993' }, cells: { score: '1.5' } },
      {
        op: 'UPDATE',
        origin: 'db',
        dot: null,
        key: { id: '7' },
        previousKey: { id: '9007199254740993' },
        cells: { id: '7' },
      },
      { op: 'DELETE', origin: 'db', dot: null, key: { id: '7' }, cells: {} },
    ]);
  });

  it("records the sheet's writes with origin sheet and each statement's dot, then forgets them", async () => {
    const written = await inMysqlSheetTransaction(db.pool, (c) =>
      writeMysqlRows(
        c,
        table,
        [
          { rowId: 'r1', dot: 'sheet:41', key: undefined, cells: { name: 'Bo' } },
          { rowId: 'r2', dot: 'sheet:42', key: undefined, cells: { name: 'Cy' } },
        ],
        [],
      ),
    );
    expect(written.errors).toEqual([]);
    await db.pool.query("update leads set active = 0 where name = 'Bo'");
    const captured = await changes();
    expect(captured.map((c) => [c.op, c.origin, c.dot, c.cells.name ?? c.cells.active])).toEqual([
      ['INSERT', 'sheet', 'sheet:41', 'Bo'],
      ['INSERT', 'sheet', 'sheet:42', 'Cy'],
      ['UPDATE', 'db', null, false],
    ]);
  });

  it('captures a table whose names hold backticks and quotes', async () => {
    await db.pool.query('create table `odd``tab\'le` (`k"ey` int primary key, `we``ird; --` text)');
    const odd = await describeMysqlTable(db.pool, "odd`tab'le");
    const id = await watchMysqlTable(db.pool, odd, "link'); drop table leads; --", outboxDb());
    await db.pool.query("insert into `odd``tab'le` values (1, 'a'), (2, 'b')");
    await db.pool.query("update `odd``tab'le` set `we``ird; --` = 'c' where `k\"ey` = 2");
    const found = await readMysqlOutbox(db.pool, new Map([[id, odd]]), outboxDb());
    await db.pool.query(`delete from \`${outboxDb()}\`.outbox`);
    expect(found.map((c) => [c.op, c.key, c.cells])).toEqual([
      ['INSERT', { 'k"ey': 1 }, { 'k"ey': 1, 'we`ird; --': 'a' }],
      ['INSERT', { 'k"ey': 2 }, { 'k"ey': 2, 'we`ird; --': 'b' }],
      ['UPDATE', { 'k"ey': 2 }, { 'we`ird; --': 'c' }],
    ]);
  });

  it('regenerates the triggers after an ALTER TABLE', async () => {
    await db.pool.query('alter table leads add column city varchar(20)');
    table = await describeMysqlTable(db.pool, 'leads');
    await watchMysqlTable(db.pool, table, 'leads-link', outboxDb());
    await db.pool.query("update leads set city = 'Oslo' where name = 'Cy'");
    expect((await changes()).map((c) => c.cells)).toEqual([{ city: 'Oslo' }]);
  });
});
