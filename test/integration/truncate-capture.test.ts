/**
 * TRUNCATE capture (sql/install.sql, sheetsync.capture_truncate) against a real PostgreSQL: what
 * it records in sheetsync.outbox, that watch/unwatch install and remove its trigger, and that the
 * install script upgrades an install from before TRUNCATE was captured.
 */
import type postgres from 'postgres';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimOutboxRows } from '../../functions/src/adapters/postgres-outbox.ts';
import { installSchema, unwatchTable, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { outboxRowToChanges } from '../../functions/src/relay/outbox-messages.ts';
import { useTestDatabase } from '../support/postgres.ts';

describe('TRUNCATE capture', () => {
  const db = useTestDatabase();
  const triggers = async (table: string) =>
    (
      await db.sql<{ tgname: string }[]>`
        select tgname from pg_trigger where tgrelid = ${table}::regclass and tgname like 'sheetsync_%' order by tgname`
    ).map((r) => r.tgname);
  const outbox = () =>
    db.sql<
      { link: string; table_name: string; op: string; origin: string; body: string; change_count: number }[]
    >`
      select link, table_name, op, origin, body, change_count from sheetsync.outbox order by id`;

  beforeAll(async () => {
    await installSchema(db.sql);
    await db.sql`create table parents (id int primary key, name text)`;
    await db.sql`create table children (id int primary key, parent int references parents (id))`;
    await db.sql`create table other (a text, b int, primary key (b, a))`;
    await watchTable(db.sql, 'parents', 'p');
    await watchTable(db.sql, 'children', 'c');
    await watchTable(db.sql, 'other', 'o');
  });
  beforeEach(async () => {
    await db.sql`delete from children`;
    await db.sql`delete from parents`;
    await db.sql`delete from other`;
    await db.sql`delete from sheetsync.outbox`;
  });

  it('watch installs the truncate trigger next to the others, unwatch removes it', async () => {
    expect(await triggers('parents')).toEqual([
      'sheetsync_capture_delete',
      'sheetsync_capture_insert',
      'sheetsync_capture_truncate',
      'sheetsync_capture_update',
    ]);
    await db.sql`create table gone (id int primary key)`;
    await watchTable(db.sql, 'gone');
    await watchTable(db.sql, 'gone'); // idempotent
    expect(await triggers('gone')).toContain('sheetsync_capture_truncate');
    await unwatchTable(db.sql, 'gone');
    expect(await triggers('gone')).toEqual([]);
    await db.sql`insert into gone values (1)`;
    await db.sql`truncate gone`;
    expect(await outbox()).toEqual([]);
  });

  it('records one change with an empty key, the key columns, origin and link; the relay reads it', async () => {
    await db.sql`insert into other values ('x', 1), ('y', 2)`;
    await db.sql`delete from sheetsync.outbox`;
    await db.sql`truncate other`;
    expect(await outbox()).toEqual([
      {
        link: 'o',
        table_name: 'public.other',
        op: 'TRUNCATE',
        origin: 'db',
        body: '[{"k":{}}]',
        change_count: 1,
      },
    ]);
    const changes = await db.sql.begin(async (tx) =>
      (await claimOutboxRows(tx as unknown as postgres.Sql, 1000)).flatMap(outboxRowToChanges),
    );
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      op: 'TRUNCATE',
      link: 'o',
      keyColumns: ['b', 'a'],
      key: {},
      cells: {},
    });
  });

  it('records TRUNCATE of several tables, and of the tables CASCADE adds, once per table', async () => {
    await db.sql`insert into parents values (1, 'a')`;
    await db.sql`insert into children values (10, 1)`;
    await db.sql`delete from sheetsync.outbox`;
    await db.sql`truncate parents, other`.catch(() => {}); // refused: children references parents
    expect(await outbox()).toEqual([]);
    await db.sql`truncate parents, other cascade`;
    const rows = await outbox();
    expect(rows.map((r) => [r.link, r.op]).sort()).toEqual([
      ['c', 'TRUNCATE'],
      ['o', 'TRUNCATE'],
      ['p', 'TRUNCATE'],
    ]);
  });

  it('keeps the order of a transaction: rows inserted after the truncate come after it', async () => {
    await db.sql`insert into parents values (1, 'a'), (2, 'b')`;
    await db.sql.begin(async (tx) => {
      await tx`set local sheetsync.origin = 'sheet'`;
      await tx`truncate children, parents`;
      await tx`insert into parents values (1, 'again')`;
    });
    const rows = await outbox();
    expect(rows.map((r) => [r.link, r.op, r.origin])).toEqual([
      ['p', 'INSERT', 'db'],
      ['c', 'TRUNCATE', 'sheet'],
      ['p', 'TRUNCATE', 'sheet'],
      ['p', 'INSERT', 'sheet'],
    ]);
  });
});

describe('upgrading an install from before TRUNCATE was captured', () => {
  const db = useTestDatabase();

  it('adds TRUNCATE to the outbox ops and the trigger to watched tables, idempotently', async () => {
    await installSchema(db.sql);
    await db.sql`create table leads (id int primary key)`;
    await watchTable(db.sql, 'leads');
    // What the earlier install left: the old op check, and no truncate trigger.
    await db.sql`drop trigger sheetsync_capture_truncate on leads`;
    await db.sql`alter table sheetsync.outbox drop constraint outbox_op_check`;
    await db.sql`alter table sheetsync.outbox add constraint outbox_op_check check (op in ('INSERT', 'UPDATE', 'DELETE'))`;
    await db.sql`create table unwatched (id int primary key)`;

    await installSchema(db.sql);
    await installSchema(db.sql);
    const [trigger] =
      await db.sql`select count(*)::int as n from pg_trigger where tgname = 'sheetsync_capture_truncate'`;
    expect(trigger?.n).toBe(1);
    await db.sql`insert into leads values (1)`;
    await db.sql`truncate leads, unwatched`;
    const ops = await db.sql`select op from sheetsync.outbox order by id`;
    expect(ops.map((r) => r.op)).toEqual(['INSERT', 'TRUNCATE']);
    const [check] = await db.sql`
      select count(*)::int as n from pg_constraint where conrelid = 'sheetsync.outbox'::regclass and conname = 'outbox_op_check'`;
    expect(check?.n).toBe(1);
  });
});
