/**
 * A poison row among good ones (issue 17, item 5): a row whose own data the database refuses
 * with an error outside classes 22/23 (an identity or generated column typed into, a value too
 * large for a btree index, a column privilege, NaN cast to int in a CHECK, an ASSERT in a
 * trigger, two rows of one paste with the same typed key) is that row's problem: the rest of the
 * flush commits, across rows and links, the row is reported once and the delivery is acked.
 * Transient errors (here a trigger raising 40001) still fail the whole flush, which commits
 * nothing and applies once when redelivered. Real PostgreSQL; the last test runs the flush
 * behind a subscription of Google's Pub/Sub emulator.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { createPostgresTable } from '../../functions/src/adapters/table/postgres-table.ts';
import {
  createApplyToDb,
  type RowProblem,
  type SheetDelivery,
} from '../../functions/src/handlers/apply-to-db.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { startSubscriber } from '../../functions/src/runtime/subscriber.ts';
import { parseSheetChanges, type SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

describe('chaos: a poison row among good ones', () => {
  const db = useTestDatabase();
  /** A role that may write every column of items but `secret` (a column privilege, 42501). */
  const writer = `sheetsync_writer_${randomBytes(4).toString('hex')}`;
  let writerSql: postgres.Sql;

  beforeAll(async () => {
    await installSchema(db.sql);
    await db.sql.unsafe(`
      create table public.items (
        id bigint generated always as identity primary key,
        name text not null,
        code text,
        secret text,
        ratio numeric check (ratio::int4 > -1000),
        note text
      );
      create index items_code on public.items (code);
      create function public.items_assert() returns trigger language plpgsql as $$
      begin
        assert new.note is distinct from 'forbidden', 'note may not be forbidden';
        if new.note = 'transient' and (select transient from public.flags) then
          raise exception 'a serialization failure, as under load' using errcode = 'serialization_failure';
        end if;
        return new;
      end $$;
      create trigger items_assert before insert or update on public.items
        for each row execute function public.items_assert();
      create table public.flags (transient boolean not null);
      insert into public.flags values (false);
      create table public.tags (tag text primary key, label text);
    `);
    await watchTable(db.sql, 'public.items', 'items');
    await watchTable(db.sql, 'public.tags', 'tags');
    await db.sql.unsafe(`
      create role ${writer} login password '${writer}';
      grant usage on schema sheetsync to ${writer};
      grant select on all tables in schema sheetsync to ${writer};
      grant insert on sheetsync.outbox to ${writer};
      grant insert, update, delete on sheetsync.row_ids to ${writer};
      grant usage on all sequences in schema sheetsync to ${writer};
      grant select on public.items, public.flags to ${writer};
      grant insert (name, code, ratio, note), update (name, code, ratio, note) on public.items to ${writer};
      grant select, insert, update, delete on public.tags to ${writer};
    `);
    const url = new URL(db.url);
    url.username = writer;
    // A password: the embedded server (no DATABASE_URL) asks for one; a trusting one ignores it.
    url.password = writer;
    writerSql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  });
  afterAll(async () => {
    await writerSql?.end({ timeout: 5 });
    await db.sql.unsafe(`drop owned by ${writer}; drop role if exists ${writer}`).catch(() => {});
  });

  function applier(problems: RowProblem[]) {
    return createApplyToDb({
      table: createPostgresTable(writerSql),
      store: new MemoryVersionStore(),
      links: new Map([
        ['items', { table: 'public.items', policy: { default: 'last-writer-wins' } }],
        ['tags', { table: 'public.tags', policy: { default: 'last-writer-wins' } }],
      ]),
      logger: silentLogger,
      reportProblems: async (p) => {
        problems.push(...p);
      },
    });
  }

  let clock = Date.now();
  function newRow(link: string, cells: SheetChangeMessage['cells']): SheetChangeMessage {
    clock += 10;
    return {
      v: 1,
      link,
      rowId: randomUUID(),
      op: 'upsert',
      cells,
      isNew: true,
      eventId: randomUUID(),
      time: clock,
    };
  }
  const deliver = (changes: SheetChangeMessage[], attempt = 1): SheetDelivery => ({
    message: changes,
    attempt,
  });

  it('commits the good rows of a flush, across links, and reports each poison row once', async () => {
    const problems: RowProblem[] = [];
    const apply = applier(problems);
    // Random base64 does not compress: a btree index entry of it passes the ~2,700-byte limit.
    const longCode = randomBytes(3_000).toString('base64');
    const poison = {
      identity: newRow('items', { id: '77', name: 'typed id' }),
      indexLimit: newRow('items', { name: 'long code', code: longCode }),
      privilege: newRow('items', { name: 'secret', secret: 'classified' }),
      nanCast: newRow('items', { name: 'nan', ratio: 'NaN' }),
      assertion: newRow('items', { name: 'asserted', note: 'forbidden' }),
    };
    const good = [1, 2, 3].map((i) => newRow('items', { name: `good ${i}`, code: `c${i}`, ratio: i }));
    // Two rows of one paste with the same typed key: together 21000 (ON CONFLICT DO UPDATE
    // cannot affect a row twice); one after the other, as from two flushes, both apply.
    const sameKey = [
      newRow('tags', { tag: 'dup', label: 'first' }),
      newRow('tags', { tag: 'dup', label: 'second' }),
    ];
    const otherTag = newRow('tags', { tag: 'solo', label: 'fine' });

    const outcomes = await apply.flush([
      deliver([good[0]!, poison.identity, poison.indexLimit]),
      deliver([poison.privilege, good[1]!, poison.nanCast]),
      deliver([poison.assertion, good[2]!]),
      deliver([...sameKey, otherTag]),
    ]);

    expect(outcomes).toEqual(['ack', 'ack', 'ack', 'ack']);
    const items = await db.sql<{ name: string }[]>`select name from public.items order by name`;
    expect(items.map((r) => r.name)).toEqual(['good 1', 'good 2', 'good 3']);
    const tags = await db.sql`select tag, label from public.tags order by tag`;
    expect(tags).toEqual([
      { tag: 'dup', label: 'second' },
      { tag: 'solo', label: 'fine' },
    ]);
    const reported = Object.fromEntries(
      Object.entries(poison).map(([kind, change]) => [
        kind,
        problems
          .filter((p) => p.rowId === change.rowId)
          .map((p) => [p.code, /\(([0-9A-Z]{5})\)/.exec(p.message)?.[1]]),
      ]),
    );
    expect(reported).toEqual({
      identity: [['SHEETSYNC_E413', '428C9']],
      indexLimit: [['SHEETSYNC_E414', '54000']],
      privilege: [['SHEETSYNC_E413', '42501']],
      nanCast: [['SHEETSYNC_E414', '0A000']],
      assertion: [['SHEETSYNC_E409', 'P0004']],
    });
    expect(problems).toHaveLength(5);
    for (const p of problems) expect(p.message).not.toContain(longCode.slice(0, 40));

    // Redelivered (a lost ack): acked again, the good row not written twice.
    const again = await apply.flush([deliver([poison.indexLimit, good[0]!], 2)]);
    expect(again).toEqual(['ack']);
    expect(await db.sql`select count(*)::int as n from public.items where name = 'good 1'`).toEqual([
      { n: 1 },
    ]);
  });

  it('fails the whole flush on a transient error, commits none of it, and applies it once when redelivered', async () => {
    const problems: RowProblem[] = [];
    const apply = applier(problems);
    await db.sql`update public.flags set transient = true`;
    const changes = [
      newRow('items', { name: 'before transient' }),
      newRow('items', { name: 'transient', note: 'transient' }),
      newRow('tags', { tag: 'other link', label: 'x' }),
    ];
    await expect(
      apply.flush([deliver(changes.slice(0, 2)), deliver(changes.slice(2))]),
    ).rejects.toMatchObject({
      code: '40001',
    });
    expect(
      await db.sql`select name from public.items where name in ('before transient', 'transient')`,
    ).toEqual([]);
    expect(problems).toEqual([]);

    await db.sql`update public.flags set transient = false`;
    const outcomes = await apply.flush([deliver(changes.slice(0, 2), 2), deliver(changes.slice(2), 2)]);
    expect(outcomes).toEqual(['ack', 'ack']);
    const rows = await db.sql`select name, count(*)::int as n from public.items
      where name in ('before transient', 'transient') group by name order by name`;
    expect(rows).toEqual([
      { name: 'before transient', n: 1 },
      { name: 'transient', n: 1 },
    ]);
    expect(await db.sql`select label from public.tags where tag = 'other link'`).toEqual([{ label: 'x' }]);
    expect(problems).toEqual([]);
  });

  it('behind a Pub/Sub subscription, acks the poison delivery: the good rows land, nothing is redelivered', async () => {
    const bus = createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: inject('pubsubEmulatorHost') });
    const topic = uniqueName('poison-sheet-changes');
    const problems: RowProblem[] = [];
    const apply = applier(problems);
    let flushes = 0;
    await bus.ensureTopic(topic);
    await bus.ensureSubscription(`${topic}-sub`, { topic, ackDeadlineSeconds: 10 });
    const subscription = startSubscriber({
      bus,
      subscription: `${topic}-sub`,
      parse: parseSheetChanges,
      flush: (deliveries, release) => {
        flushes++;
        return apply.flush(deliveries, release);
      },
      windowMs: 10,
      logger: silentLogger,
    });
    try {
      const changes = [
        newRow('items', { name: 'bus good 1' }),
        newRow('items', { id: '99', name: 'bus typed id' }),
        newRow('items', { name: 'bus good 2' }),
      ];
      await bus.publish(topic, [{ data: Buffer.from(JSON.stringify({ changes })), orderingKey: 'items/b0' }]);
      await waitFor('the good rows in the table', async () => {
        const [row] = await db.sql`select count(*)::int as n from public.items where name like 'bus good %'`;
        return row?.n === 2;
      });
      // An unacked delivery comes back at once (nack) or after the 10 s ack deadline.
      await new Promise((r) => setTimeout(r, 12_000));
      expect(flushes).toBe(1);
      expect(problems.map((p) => [p.rowId, p.code])).toEqual([[changes[1]!.rowId, 'SHEETSYNC_E413']]);
    } finally {
      await subscription.close();
      await bus.close();
    }
  });
});
