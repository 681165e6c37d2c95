/**
 * Capture (sql/install.sql through functions/src/adapters/postgres-schema.ts): what the
 * statement-level triggers record in sheetsync.outbox, against a real PostgreSQL.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readOutboxRows } from '../../functions/src/adapters/postgres-outbox.ts';
import { installSchema, unwatchTable, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import {
  outboxRowToChanges,
  type StoredChange,
  type StoredRowChange,
  storedChangeParts,
} from '../../functions/src/relay/outbox-messages.ts';
import { useTestDatabase } from '../support/postgres.ts';

interface Row {
  id: string;
  link: string;
  op: string;
  origin: string;
  dot: string | null;
  change_count: number;
  /** As stored (body), and with UPDATE's compact form expanded (changes). */
  stored: StoredChange[];
  changes: StoredRowChange[];
  key_columns: string[];
  column_types: Record<string, string>;
}

describe('capture triggers', () => {
  const db = useTestDatabase();
  const outbox = async () =>
    (
      await db.sql<
        Omit<Row, 'changes'>[]
      >`select id::text, link, op, origin, dot, change_count, body::json as stored, key_columns, column_types from sheetsync.outbox order by outbox.id`
    ).map((row): Row => ({ ...row, changes: row.stored.map(storedChangeParts) }));

  beforeAll(async () => {
    await installSchema(db.sql);
    await installSchema(db.sql); // idempotent
    await db.sql`create table items (id int primary key, name text, qty int, price numeric(12,2), tags text[])`;
    await watchTable(db.sql, 'items', 'stock');
    await watchTable(db.sql, 'public.items', 'stock'); // idempotent
  });
  beforeEach(async () => {
    await db.sql`delete from items`;
    await db.sql`delete from sheetsync.outbox`;
  });

  it('records an INSERT with all its cells, the key and the link, origin db by default', async () => {
    await db.sql`insert into items values (1, 'bolt', 5, 0.25, '{a,b}'), (2, 'nut', null, null, null)`;
    const rows = await outbox();
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      link: 'stock',
      op: 'INSERT',
      origin: 'db',
      dot: null,
      change_count: 2,
      key_columns: ['id'],
    });
    expect(row!.column_types).toMatchObject({ id: 'integer', price: 'numeric(12,2)', tags: 'text[]' });
    expect(row!.changes).toEqual([
      { k: { id: 1 }, c: { id: 1, name: 'bolt', qty: 5, price: '0.25', tags: ['a', 'b'] } },
      { k: { id: 2 }, c: { id: 2, name: 'nut', qty: null, price: null, tags: null } },
    ]);
  });

  it('records only the changed columns of an UPDATE, and nothing for a no-op UPDATE', async () => {
    await db.sql`insert into items values (1, 'bolt', 5, 0.25, null), (2, 'nut', 7, 1, null)`;
    await db.sql`delete from sheetsync.outbox`;
    await db.sql`update items set qty = qty`; // no-op
    await db.sql`update items set name = name, qty = 6 where id = 1`;
    await db.sql`update items set price = null, tags = '{x}' where id = 2`;
    const rows = await outbox();
    expect(rows.map((r) => r.changes)).toEqual([
      [{ k: { id: 1 }, c: { qty: 6 } }],
      [{ k: { id: 2 }, c: { price: null, tags: ['x'] } }],
    ]);
    // Stored compactly: the key, then each changed column's name and value.
    expect(rows.map((r) => r.stored)).toEqual([
      [[{ id: 1 }, 'qty', 6]],
      [[{ id: 2 }, 'price', null, 'tags', ['x']]],
    ]);
  });

  it('captures UPDATEs of a table that has only key columns: nothing for a no-op, a key change for a new key', async () => {
    await db.sql`create table pairs (a int, b text, primary key (a, b))`;
    await watchTable(db.sql, 'pairs');
    await db.sql`insert into pairs values (1, 'x'), (2, 'y')`;
    await db.sql`delete from sheetsync.outbox`;
    await db.sql`update pairs set a = a, b = b`; // no-op
    expect(await outbox()).toEqual([]);
    await db.sql`update pairs set b = 'z' where a = 2`;
    const all = (await outbox()).flatMap((r) => r.changes);
    expect(all).toEqual([
      { k: { a: 2, b: 'z' }, pk: { a: 2, b: 'y' }, c: { a: 2, b: 'z' }, o: { a: 2, b: 'y' } },
    ]);
  });

  it('records a DELETE with its key and old row', async () => {
    await db.sql`insert into items values (3, 'washer', 1, 2.5, null)`;
    await db.sql`delete from items where id = 3`;
    const [, row] = await outbox();
    expect(row).toMatchObject({ op: 'DELETE', change_count: 1 });
    expect(row!.changes).toEqual([
      { k: { id: 3 }, o: { id: 3, name: 'washer', qty: 1, price: '2.50', tags: null } },
    ]);
  });

  it('records a primary-key UPDATE with the previous key, pairing each row with its own old row', async () => {
    await db.sql`insert into items select g, 'n' || g, g from generate_series(1, 3) g`;
    await db.sql`delete from sheetsync.outbox`;
    await db.sql`update items set id = id + 10 where id < 3`; // 1→11, 2→12
    await db.sql`update items set id = 30, qty = 99 where id = 3`;
    const all = (await outbox()).flatMap((r) => r.changes);
    const byKey = new Map(all.map((c) => [c.k.id, c]));
    expect(all).toHaveLength(3);
    expect(byKey.get(11)).toMatchObject({
      k: { id: 11 },
      pk: { id: 1 },
      c: { id: 11, name: 'n1', qty: 1 },
      o: { id: 1 },
    });
    expect(byKey.get(12)).toMatchObject({
      k: { id: 12 },
      pk: { id: 2 },
      c: { id: 12, name: 'n2', qty: 2 },
      o: { id: 2 },
    });
    expect(byKey.get(30)).toMatchObject({
      k: { id: 30 },
      pk: { id: 3 },
      c: { id: 30, qty: 99 },
      o: { id: 3, qty: 3 },
    });
  });

  it('pairs overlapping key changes by key where it can, the rest as key changes', async () => {
    await db.sql`create table shifted (id int primary key deferrable initially deferred, name text)`;
    await watchTable(db.sql, 'shifted');
    await db.sql`insert into shifted select g, 'n' || g from generate_series(1, 3) g`;
    await db.sql`delete from sheetsync.outbox`;
    await db.sql`update shifted set id = id + 1`; // 1→2, 2→3, 3→4
    const all = (await outbox()).flatMap((r) => r.changes);
    const byKey = new Map(all.map((c) => [c.k.id, c]));
    // Keys 2 and 3 exist before and after: their cells changed under the same key. Key 1 became 4.
    expect(byKey.get(2)).toEqual({ k: { id: 2 }, c: { name: 'n1' } });
    expect(byKey.get(3)).toEqual({ k: { id: 3 }, c: { name: 'n2' } });
    expect(byKey.get(4)).toMatchObject({ k: { id: 4 }, pk: { id: 1 }, c: { id: 4, name: 'n3' } });
    expect(all).toHaveLength(3);
  });

  it('records origin and dot from SET LOCAL, and keeps recording sheet-origin writes', async () => {
    await db.sql.begin(async (tx) => {
      await tx`select set_config('sheetsync.origin', 'sheet', true), set_config('sheetsync.dot', 'sheet:42', true)`;
      await tx`insert into items values (5, 'from sheet', 1, 1, null)`;
    });
    await db.sql`update items set qty = 2 where id = 5`;
    const rows = await outbox();
    expect(rows.map((r) => [r.op, r.origin, r.dot])).toEqual([
      ['INSERT', 'sheet', 'sheet:42'],
      ['UPDATE', 'db', null],
    ]);
  });

  it('splits a large statement into chunks and captures all of them', async () => {
    // Dense integer keys: chunked by 512-wide key range (key >> 9).
    await db.sql`insert into items select g, 'n', g from generate_series(1, 2500) g`;
    const rows = await outbox();
    // Chunks of one statement hold distinct keys, so their order among themselves is free.
    expect(rows.map((r) => r.change_count).sort()).toEqual([453, 511, 512, 512, 512]);
    const ids = new Set(rows.flatMap((r) => r.changes.map((c) => c.k.id)));
    expect(ids.size).toBe(2500);
  });

  it('keeps every chunk at 1000 changes or fewer, whatever the keys look like', async () => {
    // [table, columns, rows, chunks per statement, largest chunk]
    const cases: Array<[string, string, string, number, number]> = [
      // dense integer keys, chunked by key range (no window), also negative ones
      ['dense_neg', 'id int primary key, v int', 'select g, g from generate_series(-1500, 999) g', 5, 512],
      // sparse keys: chunked by position instead (by key, each change would get its own row)
      [
        'sparse',
        'id bigint primary key, v int',
        'select g * 100000, g from generate_series(1, 2500) g',
        3,
        1000,
      ],
      // text keys and composite keys: by position
      ['texty', 'id text primary key, v int', "select 'k' || g, g from generate_series(1, 2500) g", 3, 1000],
      [
        'pair',
        'a int, b int, v int, primary key (a, b)',
        'select g % 7, g, g from generate_series(1, 2500) g',
        3,
        1000,
      ],
      // a deferrable key may hold duplicates until commit: by position
      [
        'deferred',
        'id int primary key deferrable initially deferred, v int',
        'select g, g from generate_series(1, 2500) g',
        3,
        1000,
      ],
    ];
    for (const [name, columns, rows, chunks, largest] of cases) {
      await db.sql.unsafe(`create table ${name} (${columns})`);
      await watchTable(db.sql, name);
      await db.sql.unsafe(`insert into ${name} ${rows}`);
      await db.sql.unsafe(`update ${name} set v = v + 1`);
      await db.sql.unsafe(`delete from ${name}`);
      const counts = await db.sql<{ op: string; rows: number; changes: number; largest: number }[]>`
        select op, count(*)::int as rows, sum(change_count)::int as changes, max(change_count) as largest
          from sheetsync.outbox where link = ${name} group by op order by op`;
      expect(counts, name).toEqual(
        ['DELETE', 'INSERT', 'UPDATE'].map((op) => ({ op, rows: chunks, changes: 2500, largest })),
      );
    }
  });

  it('rebuilds its SQL in a session that already captured, after the table changed', async () => {
    await db.sql`create table evolving (id int primary key, qty int)`;
    await watchTable(db.sql, 'evolving');
    const conn = await db.sql.reserve(); // one session: its cached SQL must notice the changes
    try {
      await conn`insert into evolving values (1, 1)`;
      await conn`update evolving set qty = 2`;
      await conn`alter table evolving add column note text`;
      await conn`update evolving set note = 'added'`;
      await conn`alter table evolving rename column qty to amount`;
      await conn`update evolving set amount = 3`;
      await conn`alter table evolving alter column amount type bigint`;
      await conn`update evolving set amount = 4`;
      await conn`alter table evolving drop column note`;
      await conn`delete from evolving`;
    } finally {
      conn.release();
    }
    const rows = (await outbox()).filter((r) => r.link === 'evolving');
    // A column renamed, retyped or dropped is recorded as a SCHEMA change before the first
    // change made with the new columns (a column added needs none); a rename also records the
    // renamed column's values of every row again (sheetsync.note_schema, issue 19).
    const schema = (c: object) => ({ k: {}, c: { renamed: {}, dropped: [], retyped: {}, ...c } });
    expect(rows.map((r) => [r.op, r.changes])).toEqual([
      ['INSERT', [{ k: { id: 1 }, c: { id: 1, qty: 1 } }]],
      ['UPDATE', [{ k: { id: 1 }, c: { qty: 2 } }]],
      ['UPDATE', [{ k: { id: 1 }, c: { note: 'added' } }]],
      ['SCHEMA', [schema({ renamed: { qty: 'amount' } })]],
      // Recorded by the capture of the statement after the rename, which had set it already.
      ['UPDATE', [{ k: { id: 1 }, c: { amount: 3 } }]],
      ['UPDATE', [{ k: { id: 1 }, c: { amount: 3 } }]],
      ['SCHEMA', [schema({ retyped: { amount: 'bigint' } })]],
      ['UPDATE', [{ k: { id: 1 }, c: { amount: '4' } }]],
      ['SCHEMA', [schema({ dropped: ['note'] })]],
      ['DELETE', [{ k: { id: 1 }, o: { id: 1, amount: '4' } }]],
    ]);
    expect(rows.at(-1)!.column_types).toEqual({ id: 'integer', amount: 'bigint' });
    // Until then the generated function ran sheetsync.capture()'s body; watch builds it afresh.
    await watchTable(db.sql, 'evolving');
    const [generated] = await db.sql`select p.prosrc from sheetsync.watched w
      join pg_proc p on p.proname = w.capture_function where w.table_oid = 'evolving'::regclass`;
    expect(generated?.prosrc).toContain('"amount"');
    expect(generated?.prosrc).not.toContain('"note"');
    await db.sql`insert into evolving values (2, 5)`;
    expect((await outbox()).filter((r) => r.link === 'evolving').at(-1)?.changes).toEqual([
      { k: { id: 2 }, c: { id: 2, amount: '5' } },
    ]);
  });

  it('runs a capture function generated for the table, which records what the generic one does', async () => {
    // Two identical tables: `fast` as watch leaves it, `generic` with sheetsync.capture() itself.
    for (const name of ['fast', 'generic']) {
      await db.sql.unsafe(
        `create table ${name} (id bigint primary key, name text, qty int, price numeric(12,2), tags text[], doc jsonb, seen timestamptz)`,
      );
      await watchTable(db.sql, name, 'same');
    }
    for (const [event, tables] of [
      ['insert', 'new table as sheetsync_new'],
      ['update', 'old table as sheetsync_old new table as sheetsync_new'],
      ['delete', 'old table as sheetsync_old'],
    ] as const) {
      await db.sql.unsafe(`drop trigger sheetsync_capture_${event} on generic;
        create trigger sheetsync_capture_${event} after ${event} on generic referencing ${tables}
        for each statement execute function sheetsync.capture('same')`);
    }
    const [fast] = await db.sql`select tgfoid::regproc::text as fn, 'fast'::regclass::oid::int as oid
      from pg_trigger where tgrelid = 'fast'::regclass and tgname = 'sheetsync_capture_update'`;
    expect(fast?.fn).toBe(`sheetsync.capture_${fast?.oid}`);
    const statements = [
      // Dense keys (chunked by key range), then sparse ones (chunked by position).
      `insert into T select g, 'n' || g, g % 7, g * 0.5, array['a', 'b'], jsonb_build_object('g', g), timestamptz '2026-11-26 10:00:00+00' + g * interval '1 second' from generate_series(1, 1500) g`,
      `insert into T select g * 100000, null, null, null, null, null, null from generate_series(1, 30) g`,
      `update T set qty = qty + 1 where id <= 1200`,
      `update T set name = name where id <= 10`,
      `update T set price = null, doc = '{"x": [1, "y"]}' where id % 3 = 0`,
      `update T set id = id + 10000000 where id > 100000`,
      `delete from T where id between 100 and 1400`,
    ];
    for (const statement of statements) {
      for (const table of ['fast', 'generic']) await db.sql.unsafe(statement.replaceAll('T', table));
    }
    const recorded = async (table: string) =>
      (
        await db.sql`select op, origin, change_count, key_columns, column_types, body
          from sheetsync.outbox where table_name = ${`public.${table}`} order by id`
      ).map((row) => ({ ...row }));
    const generated = await recorded('fast');
    expect(generated.length).toBeGreaterThan(statements.length);
    expect(generated).toEqual(await recorded('generic'));
  });

  it('drops the generated function on unwatch; installing again regenerates the others', async () => {
    await db.sql`create table passing (id int primary key, v text)`;
    await watchTable(db.sql, 'passing');
    const functions = async () =>
      (
        await db.sql`select proname::text from pg_proc where pronamespace = 'sheetsync'::regnamespace
          and proname::text in (select capture_function from sheetsync.watched) order by 1`
      ).map((r) => r.proname as string);
    const named = async (table: string) =>
      (await db.sql`select capture_function from sheetsync.watched where table_oid = ${table}::regclass`)[0]
        ?.capture_function as string;
    const passing = await named('passing');
    expect(await functions()).toContain(passing);
    const before =
      await db.sql`select oid::int, xmin::text from pg_proc where proname = ${await named('items')}`;
    await installSchema(db.sql);
    const after =
      await db.sql`select oid::int, xmin::text from pg_proc where proname = ${await named('items')}`;
    expect(after).toHaveLength(1);
    expect(after[0]!.xmin).not.toBe(before[0]!.xmin);
    await unwatchTable(db.sql, 'passing');
    const [left] = await db.sql`select count(*)::int as n from pg_proc where proname = ${passing}`;
    expect(left?.n).toBe(0);
    await db.sql`insert into passing values (1, 'not captured')`;
    const [captured] =
      await db.sql`select count(*)::int as n from sheetsync.outbox where table_name = 'public.passing'`;
    expect(captured?.n).toBe(0);
  });

  it('keeps a generated function that another table s triggers call when its own table is unwatched', async () => {
    // After a dump and restore a table may carry another's OID, and so the name of the function
    // the restored triggers of the first one call.
    await db.sql`create table first_owner (id int primary key, v text)`;
    await db.sql`create table restored (id int primary key, v text)`;
    await watchTable(db.sql, 'first_owner');
    const [{ fn } = { fn: '' }] =
      await db.sql`select capture_function as fn from sheetsync.watched where table_oid = 'first_owner'::regclass`;
    await db.sql.unsafe(`create trigger sheetsync_capture_insert after insert on restored
      referencing new table as sheetsync_new for each statement execute function sheetsync.${fn}('restored')`);
    await unwatchTable(db.sql, 'first_owner');
    await db.sql`insert into restored values (1, 'still captured')`;
    const rows =
      await db.sql`select link, change_count from sheetsync.outbox where table_name = 'public.restored'`;
    expect(rows).toEqual([{ link: 'restored', change_count: 1 }]);
  });

  it('sends one NOTIFY per capturing statement', async () => {
    const seen: string[] = [];
    const listener = await db.sql.listen('sheetsync_outbox', (payload) => seen.push(payload));
    await db.sql`insert into items select g from generate_series(1, 1500) g`;
    await db.sql`update items set qty = 1`;
    await new Promise((r) => setTimeout(r, 300));
    await listener.unlisten();
    expect(seen).toEqual(['', '']);
  });

  it('refuses to watch a table without a primary key, saying so and how to fix it', async () => {
    await db.sql`create table keyless (a int, b text)`;
    const attempt = watchTable(db.sql, 'keyless');
    await expect(attempt).rejects.toBeInstanceOf(SheetsyncError);
    await expect(attempt).rejects.toMatchObject({ code: 'SHEETSYNC_E201' });
    await expect(attempt).rejects.toThrow(/keyless has no primary key.*ADD PRIMARY KEY/s);
    const [triggers] =
      await db.sql`select count(*)::int as n from pg_trigger where tgrelid = 'keyless'::regclass`;
    expect(triggers?.n).toBe(0);
  });

  it('refuses a view, and stops capturing after unwatch', async () => {
    await db.sql`create view items_view as select * from items`;
    await expect(watchTable(db.sql, 'items_view')).rejects.toMatchObject({ code: 'SHEETSYNC_E202' });
    await db.sql`create table scratch (id int primary key, v text)`;
    await watchTable(db.sql, 'scratch');
    await db.sql`insert into scratch values (1, 'a')`;
    await unwatchTable(db.sql, 'scratch');
    await db.sql`insert into scratch values (2, 'b')`;
    const rows =
      await db.sql`select link, change_count from sheetsync.outbox where table_name = 'public.scratch'`;
    expect(rows).toEqual([{ link: 'scratch', change_count: 1 }]);
    const [watched] = await db.sql`select count(*)::int as n from sheetsync.watched where link = 'scratch'`;
    expect(watched?.n).toBe(0);
  });
});

describe('installing again as a role that does not own a watched table', () => {
  const db = useTestDatabase();
  const suffix = Math.random().toString(16).slice(2, 10);
  const installer = `sheetsync_installer_${suffix}`;
  const owner = `sheetsync_owner_${suffix}`;

  afterAll(async () => {
    await db.sql.unsafe(`drop owned by ${installer}, ${owner} cascade`).catch(() => {});
    await db.sql.unsafe(`drop role if exists ${installer}`);
    await db.sql.unsafe(`drop role if exists ${owner}`);
  });

  it('warns, finishes the install, and capture goes on', async () => {
    // The installer owns the sheetsync schema and may add triggers to the table (TRIGGER
    // privilege), but only the table's owner may drop them, as watch does to regenerate.
    await db.sql.unsafe(`create role ${installer}; create role ${owner};
      grant create on database ${db.url.split('/').pop()} to ${installer};
      grant create on schema public to ${owner}`);
    const warnings: string[] = [];
    const sql = postgres(db.url, { max: 1, onnotice: (n) => warnings.push(String(n.message)) });
    try {
      await sql.unsafe(`set role ${installer}`);
      await installSchema(sql);
      // The table's writers need to reach the outbox, as any writer of a watched table does.
      await sql.unsafe(`grant usage on schema sheetsync to ${owner};
        grant insert on sheetsync.outbox to ${owner}`);
      await sql.unsafe(`set role ${owner}`);
      await sql.unsafe(`create table guarded (id int primary key, v text);
        grant trigger on guarded to ${installer}`);
      await sql.unsafe(`set role ${installer}`);
      await watchTable(sql, 'guarded');
      await installSchema(sql);
      expect(warnings.join('\n')).toMatch(/could not regenerate capture for guarded/);
      await sql.unsafe(`set role ${owner}`);
      await sql.unsafe(`insert into guarded values (1, 'still captured')`);
    } finally {
      await sql.end();
    }
    const rows = await db.sql`select change_count from sheetsync.outbox where table_name = 'public.guarded'`;
    expect(rows).toEqual([{ change_count: 1 }]);
  });
});

describe('upgrading the outbox from its earlier format (changes json only)', () => {
  const db = useTestDatabase();

  it('keeps rows of the earlier format, which the relay still reads, and stores new ones in body', async () => {
    // The outbox as the earlier install script created it, with a change waiting.
    await db.sql.unsafe(`
      create schema sheetsync;
      create table sheetsync.outbox (
        id bigint generated always as identity primary key, link text not null, table_name text not null,
        op text not null check (op in ('INSERT', 'UPDATE', 'DELETE')), origin text not null, dot text,
        txid xid8 not null default pg_current_xact_id(), changed_at timestamptz not null default clock_timestamp(),
        key_columns text[] not null, column_types jsonb not null, changes json not null,
        change_count integer not null check (change_count > 0));
      insert into sheetsync.outbox (link, table_name, op, origin, key_columns, column_types, changes, change_count)
        values ('items', 'public.items', 'UPDATE', 'db', '{id}', '{"id": "integer", "qty": "integer"}',
                '[{"k": {"id": 1}, "c": {"qty": 5}}]', 1);`);
    await installSchema(db.sql);
    await installSchema(db.sql);
    await db.sql`create table items (id int primary key, qty int)`;
    await db.sql`insert into items values (1, 5)`;
    await watchTable(db.sql, 'items');
    await db.sql`update items set qty = 6`;

    const heads = await db.sql<{ id: string }[]>`select id::text as id from sheetsync.outbox order by id`;
    const changes = (
      await readOutboxRows(
        db.sql,
        heads.map((h) => h.id),
      )
    ).flatMap(outboxRowToChanges);
    expect(changes.map((c) => [c.key, c.cells])).toEqual([
      [{ id: 1 }, { qty: 5 }],
      [{ id: 1 }, { qty: 6 }],
    ]);
    const stored =
      await db.sql`select changes is null as legacy_empty, body is null as body_empty from sheetsync.outbox order by id`;
    expect(stored).toEqual([
      { legacy_empty: false, body_empty: true },
      { legacy_empty: true, body_empty: false },
    ]);
  });
});
