-- sheetsync install, part 1 of 6: the schema, the outbox and the list of watched tables, with
-- their in-place upgrades, and the sync-id map. Runs first: everything after refers to them.

select pg_advisory_xact_lock(hashtext('sheetsync.install'));

create schema if not exists sheetsync;

-- One row per chunk of changes made by one statement on one watched table.
create table if not exists sheetsync.outbox (
  id bigint generated always as identity primary key,
  link text not null,
  table_name text not null,               -- schema-qualified, quoted as needed
  op text not null check (op in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'SCHEMA')),
  origin text not null,                   -- current_setting('sheetsync.origin'), default 'db'
  dot text,                               -- current_setting('sheetsync.dot'): the writer's dot
  txid xid8 not null default pg_current_xact_id(),
  changed_at timestamptz not null default clock_timestamp(),
  key_columns text[] not null,            -- primary key columns, in key order
  column_types jsonb not null,            -- column -> format_type(), for rendering values
  -- Rows written by earlier versions: a json array of {"k": key, "c": cells, "o": old row,
  -- "pk": previous key}. New rows leave it NULL and use body.
  changes json,
  -- The JSON text of the chunk's changes, an array whose elements are either the objects above,
  -- or, for an UPDATE that kept the row's key, [key, "column", value, "column", value, ...] with
  -- the changed columns. text, not json: json input validation (a parse of every chunk) was
  -- about 6% of the trigger; the relay parses it anyway.
  body text,
  change_count integer not null check (change_count > 0)
);

-- Upgrade from the format with changes json only (before body): old rows keep their changes
-- and the relay reads both. A relay of the earlier version cannot read body (it fails the batch
-- and retries, losing nothing) until it is upgraded too.
alter table sheetsync.outbox add column if not exists body text;
alter table sheetsync.outbox alter column changes drop not null;

do $$
begin
  -- At most 1000 changes per row: a change's id is outbox id x 1000 + its index in the row.
  if not exists (select 1 from pg_constraint where conrelid = 'sheetsync.outbox'::regclass and conname = 'outbox_change_count_max') then
    alter table sheetsync.outbox add constraint outbox_change_count_max check (change_count <= 1000);
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'sheetsync.outbox'::regclass and conname = 'outbox_one_body') then
    alter table sheetsync.outbox add constraint outbox_one_body check (num_nonnulls(changes, body) = 1);
  end if;
  -- Upgrade: TRUNCATE became an op (one change with an empty key, see capture_truncate), then
  -- SCHEMA (a watched table's columns renamed, dropped or retyped, see note_schema).
  if exists (select 1 from pg_constraint where conrelid = 'sheetsync.outbox'::regclass and conname = 'outbox_op_check'
                and pg_get_constraintdef(oid) not like '%SCHEMA%') then
    alter table sheetsync.outbox drop constraint outbox_op_check;
    alter table sheetsync.outbox add constraint outbox_op_check check (op in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'SCHEMA'));
  end if;
end
$$;

-- lz4 compresses the chunks several times faster than the default pglz (pglz_compress was about
-- 10% of the trigger). A server built without lz4 keeps pglz.
do $$
begin
  alter table sheetsync.outbox alter column body set compression lz4;
exception when feature_not_supported or syntax_error or invalid_parameter_value then
  null;
end
$$;

-- Watched tables and the link each one feeds.
create table if not exists sheetsync.watched (
  table_oid oid primary key,
  table_name text not null,
  link text not null,
  watched_at timestamptz not null default now()
);
-- The capture trigger function watch generated for the table (sheetsync.generate_capture).
alter table sheetsync.watched add column if not exists capture_function text;
-- The table's columns as sheetsync last saw them, {"attnum": [name, type]}, and the
-- capture_fingerprint they were taken at (sheetsync.note_schema). By attnum, so that a renamed
-- column is told from one dropped and another added.
alter table sheetsync.watched add column if not exists columns jsonb;
alter table sheetsync.watched add column if not exists fingerprint text;

-- Sync id → primary key of each row applyToDb inserted from the sheet, written in the inserting
-- transaction. The row's Firestore document records the same mapping, but only after PostgreSQL
-- committed; if that store commit fails, the redelivered change finds the row here and updates it
-- instead of inserting it a second time (a table with a serial key has nothing else to find it
-- by). applyToDb consults it for rows the sheet marks new, instead of reading their documents.
create table if not exists sheetsync.row_ids (
  link text not null,
  row_id uuid not null,
  key jsonb not null,
  inserted_at timestamptz not null default now(),
  primary key (link, row_id)
);
