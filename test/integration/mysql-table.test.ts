import { beforeAll, describe, expect, it } from 'vitest';
import { fromSheetToMysql } from '../../functions/src/adapters/mysql/mysql-coercion.ts';
import {
  connectMysql,
  inMysqlSheetTransaction,
} from '../../functions/src/adapters/mysql/mysql-connection.ts';
import { isMysqlRowRefusal } from '../../functions/src/adapters/mysql/mysql-errors.ts';
import { readMysqlRowsForUpdate } from '../../functions/src/adapters/mysql/mysql-reader.ts';
import {
  describeMysqlTable,
  type MysqlTableSchema,
} from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { writeMysqlRows } from '../../functions/src/adapters/mysql/mysql-writer.ts';
import type { RowDelete, RowUpsert } from '../../functions/src/adapters/table/table-writer.ts';
import type { Cells } from '../../functions/src/core/cell-value.ts';
import type { SheetValue } from '../../functions/src/core/coercion.ts';
import { keyId } from '../../functions/src/core/key-id.ts';
import { useMysqlDatabase } from '../support/mysql.ts';

/** Sheet values coerced as the pipeline will: every cell must fit its column. */
function fromSheet(table: MysqlTableSchema, values: Record<string, SheetValue>): Cells {
  const cells: Cells = {};
  for (const [name, value] of Object.entries(values)) {
    const column = table.columns.find((c) => c.name === name)!;
    const coerced = fromSheetToMysql(value, column.mysqlType);
    if (!coerced.ok) throw new Error(`${name}: ${coerced.message}`);
    cells[name] = coerced.value;
  }
  return cells;
}

const upsert = (rowId: string, key: Cells | undefined, cells: Cells, dot = 'sheet:1'): RowUpsert => ({
  rowId,
  dot,
  key,
  cells,
});

describe('MySQL table adapter (real MariaDB)', () => {
  const db = useMysqlDatabase();
  const write = (table: MysqlTableSchema, upserts: RowUpsert[], deletes: RowDelete[] = []) =>
    inMysqlSheetTransaction(db.pool, (c) => writeMysqlRows(c, table, upserts, deletes));
  const read = (table: MysqlTableSchema, keys: Cells[]) =>
    inMysqlSheetTransaction(db.pool, (c) => readMysqlRowsForUpdate(c, table, keys));

  beforeAll(async () => {
    for (const statement of [
      `create table kinds (
         id bigint unsigned not null primary key,
         flag tinyint(1), small smallint, whole int unsigned, big bigint,
         price decimal(30,10), ratio double, label varchar(5), body text,
         color enum('red','green','it''s'), perms set('read','write','admin'), mask bit(64),
         born date, seen datetime(6), stamped timestamp(3) null default null, doc json,
         doubled bigint as (whole * 2) stored,
         created timestamp not null default current_timestamp
       )`,
      `create table people (
         id int not null auto_increment primary key,
         email varchar(80) not null unique,
         name varchar(40) not null,
         age int check (age >= 0),
         code char(3) unique,
         twice int as (age * 2) virtual
       )`,
      'create table parent (id int primary key)',
      'create table child (id int primary key, parent_id int not null, foreign key (parent_id) references parent (id))',
      'create table nokey (a int)',
      'create table bykey (email varchar(80) not null, n int, unique key by_email (email))',
      'create view people_view as select id, name from people',
    ]) {
      await db.pool.query(statement);
    }
  });

  it('describes types, keys, defaults, generated and AUTO_INCREMENT columns from the catalog', async () => {
    const kinds = await describeMysqlTable(db.pool, 'kinds');
    expect(kinds.schema).toBe(db.name);
    expect(kinds.qualified).toBe(`\`${db.name}\`.\`kinds\``);
    expect(kinds.primaryKey).toEqual(['id']);
    expect(Object.fromEntries(kinds.columns.map((c) => [c.name, c.mysqlType.family]))).toEqual({
      id: 'integer',
      flag: 'boolean',
      small: 'integer',
      whole: 'integer',
      big: 'integer',
      price: 'decimal',
      ratio: 'float',
      label: 'text',
      body: 'text',
      color: 'enum',
      perms: 'set',
      mask: 'bit',
      born: 'date',
      seen: 'datetime',
      stamped: 'timestamp',
      doc: 'json',
      doubled: 'integer',
      created: 'timestamp',
    });
    const column = (name: string) => kinds.columns.find((c) => c.name === name)!;
    expect(column('color').mysqlType.members).toEqual(['red', 'green', "it's"]);
    expect(column('label').mysqlType.core.maxLength).toBe(5);
    expect(column('id').mysqlType.max).toBe(2n ** 64n - 1n);
    expect([column('doubled').generated, column('created').hasDefault, column('big').hasDefault]).toEqual([
      true,
      true,
      false,
    ]);
    const people = await describeMysqlTable(db.pool, `${db.name}.people`);
    expect(people.autoIncrement).toBe('id');
    expect([...people.uniqueKeys.keys()].sort()).toEqual(['PRIMARY', 'email']);
    expect(people.uniqueIndexCount).toBe(3);
  });

  it('refuses what it cannot sync with codes: no table, a view, no key, a key that is not one', async () => {
    await expect(describeMysqlTable(db.pool, 'nope')).rejects.toMatchObject({ code: 'SHEETSYNC_E250' });
    await expect(describeMysqlTable(db.pool, 'people_view')).rejects.toMatchObject({
      code: 'SHEETSYNC_E202',
    });
    await expect(describeMysqlTable(db.pool, 'nokey')).rejects.toMatchObject({ code: 'SHEETSYNC_E201' });
    await expect(describeMysqlTable(db.pool, 'people', ['name'])).rejects.toMatchObject({
      code: 'SHEETSYNC_E111',
    });
    // code is unique but nullable: not a key.
    await expect(describeMysqlTable(db.pool, 'people', ['code'])).rejects.toMatchObject({
      code: 'SHEETSYNC_E111',
    });
    const bykey = await describeMysqlTable(db.pool, 'bykey', ['email']);
    expect([bykey.primaryKey, bykey.matchKey]).toEqual([['email'], undefined]);
    const people = await describeMysqlTable(db.pool, 'people', ['email']);
    expect([people.primaryKey, people.matchKey]).toEqual([['id'], ['email']]);
  });

  it('writes every MySQL type from sheet values and reads the same canonical values back', async () => {
    const table = await describeMysqlTable(db.pool, 'kinds');
    const sheet: Record<string, SheetValue> = {
      id: '18446744073709551615',
      flag: true,
      small: -32768,
      whole: 4294967295,
      big: '-9223372036854775808',
      price: '12345678901234567890.0123456789',
      ratio: 0.1,
      label: 'héllo',
      body: 'x'.repeat(1000),
      color: "IT'S",
      perms: 'admin, read',
      mask: '18446744073709551615',
      born: '2024-02-29',
      seen: '2024-03-01 12:34:56.123456',
      stamped: '2024-03-01T12:34:56.789+02:00',
      doc: '{"b": [1, 2.5, null], "a": "x"}',
    };
    const cells = fromSheet(table, sheet);
    const result = await write(table, [upsert('r1', undefined, cells)]);
    expect(result.errors).toEqual([]);
    expect(result.keys.get('r1')).toEqual({ id: '18446744073709551615' });
    const rows = await read(table, [{ id: '18446744073709551615' }]);
    const row = rows.get(keyId({ id: '18446744073709551615' }))!;
    expect(row).toMatchObject({
      id: '18446744073709551615',
      flag: true,
      small: -32768,
      whole: 4294967295,
      big: '-9223372036854775808',
      price: '12345678901234567890.0123456789',
      ratio: 0.1,
      label: 'héllo',
      color: "it's",
      perms: 'read,admin',
      mask: '18446744073709551615',
      born: '2024-02-29',
      seen: '2024-03-01T12:34:56.123456',
      stamped: '2024-03-01T10:34:56.789Z',
      doc: { a: 'x', b: [1, 2.5, null] },
      doubled: '8589934590',
    });
    expect(row).toEqual({ ...cells, color: "it's", doubled: '8589934590', created: row.created });
    expect(row.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses cells that do not fit, per cell, before the database sees them', async () => {
    const table = await describeMysqlTable(db.pool, 'kinds');
    const type = (name: string) => table.columns.find((c) => c.name === name)!.mysqlType;
    const refused: Array<[string, SheetValue]> = [
      ['id', -1],
      ['id', '18446744073709551616'],
      ['small', 32768],
      ['whole', 1.5],
      ['price', '123456789012345678901'],
      ['color', 'blue'],
      ['perms', 'read,delete'],
      ['label', 'toolong'],
      ['born', '2023-02-29'],
      ['doc', '{nope'],
      ['flag', 'maybe'],
    ];
    for (const [name, value] of refused) {
      expect(fromSheetToMysql(value, type(name)), `${name} ${value}`).toMatchObject({ ok: false });
    }
  });

  it('updates only the changed columns, changes keys, and recreates a row deleted meanwhile', async () => {
    const table = await describeMysqlTable(db.pool, 'kinds');
    // 2^53 + 1 beside 2^53: compared as doubles (text against an integer column), both would match.
    await db.pool.query(
      "insert into kinds (id, small, label, big) values (9007199254740993, 1, 'a', 5), (9007199254740992, 0, 'n', 0), (2, 2, 'b', 6)",
    );
    // A concurrent database-side edit of another column survives the sheet's write.
    await db.pool.query('update kinds set big = 50 where id = 9007199254740993');
    const result = await write(table, [
      upsert('big', { id: '9007199254740993' }, { label: 'A' }),
      upsert('gone', { id: '77' }, { label: 'back' }),
      upsert('moved', { id: '2' }, { id: '3', label: 'B' }, 'sheet:2'),
    ]);
    expect(result.errors).toEqual([]);
    expect(Object.fromEntries(result.keys)).toEqual({
      big: { id: '9007199254740993' },
      gone: { id: '77' },
      moved: { id: '3' },
    });
    const [rows] = (await db.pool.query(
      'select cast(id as char) as id, label, big from kinds where id in (9007199254740993, 9007199254740992, 77, 2, 3) order by id',
    )) as unknown as [Array<{ id: string; label: string; big: string | null }>];
    expect(rows).toEqual([
      { id: '3', label: 'B', big: '6' },
      { id: '77', label: 'back', big: null },
      { id: '9007199254740992', label: 'n', big: '0' },
      { id: '9007199254740993', label: 'A', big: '50' },
    ]);
  });

  it('inserts keyless rows and returns their AUTO_INCREMENT keys in order', async () => {
    const table = await describeMysqlTable(db.pool, 'people');
    const rows = Array.from({ length: 5 }, (_, i) =>
      upsert(`n${i}`, undefined, { email: `p${i}@x`, name: `P${i}`, id: null }),
    );
    const result = await write(table, rows);
    expect(result.errors).toEqual([]);
    const [stored] = (await db.pool.query('select id, email from people order by id')) as unknown as [
      Array<{ id: number; email: string }>,
    ];
    expect(rows.map((r) => result.keys.get(r.rowId))).toEqual(
      rows.map((r) => ({ id: stored.find((s) => s.email === r.cells.email)!.id })),
    );
  });

  it("matches new rows on the link's key, and refuses a duplicate of another unique key", async () => {
    const table = await describeMysqlTable(db.pool, 'people', ['email']);
    await db.pool.query(
      "insert into people (email, name, code) values ('m@x', 'M', 'AAA'), ('o@x', 'O', 'BBB')",
    );
    const [[m]] = (await db.pool.query("select id from people where email = 'm@x'")) as unknown as [
      [{ id: number }],
    ];
    const result = await write(table, [
      upsert('m', undefined, { email: 'm@x', name: 'M2' }),
      upsert('q', undefined, { email: 'q@x', name: 'Q', code: 'BBB' }),
      upsert('r', undefined, { email: 'r@x', name: 'R' }),
    ]);
    expect(result.keys.get('m')).toEqual({ id: m.id });
    expect(result.errors).toMatchObject([{ rowId: 'q', op: 'upsert', errno: 1062, code: 'SHEETSYNC_E409' }]);
    const [names] = (await db.pool.query(
      "select email, name, code from people where email in ('m@x', 'o@x', 'q@x', 'r@x') order by email",
    )) as unknown as [unknown[]];
    expect(names).toEqual([
      { email: 'm@x', name: 'M2', code: 'AAA' },
      { email: 'o@x', name: 'O', code: 'BBB' },
      { email: 'r@x', name: 'R', code: null },
    ]);
    // A key given in another form than the canonical one (text for an INT) is the same key.
    const again = await write(table, [upsert('m', { id: String(m.id) }, { name: 'M3' })]);
    expect([again.errors, again.keys.get('m')]).toEqual([[], { id: m.id }]);
    const [[renamed]] = (await db.pool.query('select name from people where id = ?', [m.id])) as unknown as [
      [{ name: string }],
    ];
    expect(renamed.name).toBe('M3');
  });

  it('upserts rows that give their key with ON DUPLICATE KEY UPDATE of the changed columns', async () => {
    const table = await describeMysqlTable(db.pool, 'kinds');
    await db.pool.query("insert into kinds (id, label, small) values (500, 'old', 7)");
    const result = await write(table, [
      upsert('a', undefined, { id: '500', label: 'new' }),
      upsert('b', undefined, { id: '501', label: 'fresh' }),
    ]);
    expect(result.errors).toEqual([]);
    const [rows] = (await db.pool.query(
      'select id, label, small from kinds where id in (500, 501) order by id',
    )) as unknown as [unknown[]];
    expect(rows).toEqual([
      { id: '500', label: 'new', small: 7 },
      { id: '501', label: 'fresh', small: null },
    ]);
  });

  it('refuses the rows the database refuses, alone, with the codes PostgreSQL refusals get', async () => {
    const table = await describeMysqlTable(db.pool, 'people');
    const rows = [
      upsert('ok1', undefined, { email: 'ok1@x', name: 'A' }),
      upsert('nullname', undefined, { email: 'n@x', name: null }),
      upsert('negative', undefined, { email: 'neg@x', name: 'N', age: -1 }),
      upsert('dup', undefined, { email: 'ok1@x', name: 'D' }),
      upsert('ok2', undefined, { email: 'ok2@x', name: 'B' }),
    ];
    const result = await write(table, rows);
    expect(result.errors.map((e) => [e.rowId, e.errno, e.code]).sort()).toEqual([
      ['dup', 1062, 'SHEETSYNC_E409'],
      ['negative', 4025, 'SHEETSYNC_E409'],
      ['nullname', 1048, 'SHEETSYNC_E409'],
    ]);
    expect([...result.keys.keys()].sort()).toEqual(['ok1', 'ok2']);
    const generated = await write(table, [upsert('gen', undefined, { email: 'g@x', name: 'G', twice: 4 })]);
    expect(generated.errors).toMatchObject([{ rowId: 'gen', errno: 1906, code: 'SHEETSYNC_E413' }]);
  });

  it('deletes by key, refusing alone a row another table refers to', async () => {
    await db.pool.query('insert into parent values (1), (2), (3)');
    await db.pool.query('insert into child values (10, 2)');
    const table = await describeMysqlTable(db.pool, 'parent');
    const result = await write(
      table,
      [],
      [1, 2, 3].map((id) => ({ rowId: `p${id}`, dot: 'sheet:3', key: { id } })),
    );
    expect(result.errors).toMatchObject([{ rowId: 'p2', op: 'delete', errno: 1451, code: 'SHEETSYNC_E409' }]);
    expect([...result.deleted].sort()).toEqual(['p1', 'p3']);
    const [left] = (await db.pool.query('select id from parent')) as unknown as [unknown[]];
    expect(left).toEqual([{ id: 2 }]);
  });

  it('quotes identifiers from the catalog, backticks and quotes in them included', async () => {
    await db.pool.query(
      'create table `odd``tab\'le` (`k"ey` int primary key, `we``ird; drop table parent; --` text)',
    );
    const table = await describeMysqlTable(db.pool, "odd`tab'le");
    const odd = 'we`ird; drop table parent; --';
    const result = await write(table, [upsert('o', undefined, { 'k"ey': 1, [odd]: "it's `x`" })]);
    expect(result.errors).toEqual([]);
    await write(table, [upsert('o', { 'k"ey': 1 }, { [odd]: 'y' })]);
    const rows = await read(table, [{ 'k"ey': 1 }]);
    expect([...rows.values()]).toEqual([{ 'k"ey': 1, [odd]: 'y' }]);
    const [parent] = (await db.pool.query("show tables like 'parent'")) as unknown as [unknown[]];
    expect(parent).toHaveLength(1);
  });

  it('fails the whole write on a lock wait timeout, a transient error', async () => {
    const table = await describeMysqlTable(db.pool, 'parent');
    const holder = connectMysql(db.url, { connectionLimit: 1 });
    const blocker = await holder.getConnection();
    try {
      await blocker.query('start transaction');
      await blocker.query('select * from parent where id = 2 for update');
      const attempt = inMysqlSheetTransaction(db.pool, async (c) => {
        await c.query('set innodb_lock_wait_timeout = 1');
        return writeMysqlRows(c, table, [upsert('p2', { id: 2 }, { id: 20 })], []);
      });
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ errno: 1205 });
      expect(isMysqlRowRefusal(error)).toBe(false);
    } finally {
      await blocker.query('rollback');
      blocker.release();
      await holder.end();
    }
  });
});
