-- sheetsync install, part 3 of 6: a watched table's columns renamed, dropped or retyped,
-- recorded as SCHEMA outbox rows (docs/design/schema-changes.md).

-- A table's columns by attnum, {"attnum": [name, type]}, as sheetsync.watched keeps them.
create or replace function sheetsync.column_snapshot(rel oid)
returns jsonb language sql stable as $$
  select coalesce(jsonb_object_agg(a.attnum::text, jsonb_build_array(a.attname::text, format_type(a.atttypid, a.atttypmod))), '{}')
    from pg_attribute a where a.attrelid = rel and a.attnum > 0 and not a.attisdropped
$$;

-- Records a change of the columns of watched table `rel` since note_schema last looked: one
-- SCHEMA outbox row {"k": {}, "c": {"renamed": {old: new}, "dropped": [name], "retyped": {name:
-- type}}} when a column was renamed, dropped or given another type (columns only added need no
-- row: their values name them, and applyToSheet adds headers for them). Returns the renamed
-- columns ({} when none) when it recorded one, else NULL.
-- Called (through note_schema) by capture before it stores a statement's changes, when the
-- table's fingerprint is not the one its function was generated for (after an ALTER TABLE), so
-- a SCHEMA row precedes, in outbox id order, every change stored with the new columns; and by
-- the relay when it is idle (postgres-outbox.ts noteSchemaChanges), for an ALTER no write follows.
-- One row per change: the FOR UPDATE of the watched row makes a second caller wait and then see
-- (READ COMMITTED re-reads the locked row) the columns the first one stored. The lock is taken
-- only while the stored fingerprint differs (the unlocked check first), so after the first
-- statement following an ALTER, capture does not wait on it. Known limit: two transactions that
-- both write the table right after an ALTER, and each lock rows the other then needs, may
-- deadlock (PostgreSQL aborts one, 40P01).
-- SECURITY DEFINER: a table's writers need only INSERT on sheetsync.outbox (README, Deploy), not
-- access to sheetsync.watched; it reads no user table, only the catalog.
create or replace function sheetsync.note_schema_row(rel oid, known_fingerprint text)
returns jsonb language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
declare
  v_fingerprint constant text := coalesce(known_fingerprint, sheetsync.capture_fingerprint(rel));
  v_was jsonb;
  v_now jsonb;
  v_link text;
  v_renamed jsonb := '{}';
  v_dropped jsonb := '[]';
  v_retyped jsonb := '{}';
  r record;
begin
  if exists (select 1 from sheetsync.watched w where w.table_oid = rel and w.fingerprint = v_fingerprint) then
    return null;
  end if;
  select w.columns, w.link into v_was, v_link from sheetsync.watched w where w.table_oid = rel for update;
  if not found then
    return null;
  end if;
  v_now := sheetsync.column_snapshot(rel);
  update sheetsync.watched w set columns = v_now, fingerprint = v_fingerprint where w.table_oid = rel;
  if v_was is null or v_was = v_now then
    return null;
  end if;
  for r in select e.key, e.value from jsonb_each(v_was) e order by e.key::int loop
    if not v_now ? r.key then
      v_dropped := v_dropped || jsonb_build_array(r.value->>0);
    else
      if v_now->r.key->>0 <> r.value->>0 then
        v_renamed := v_renamed || jsonb_build_object(r.value->>0, v_now->r.key->>0);
      end if;
      if v_now->r.key->>1 <> r.value->>1 then
        v_retyped := v_retyped || jsonb_build_object(v_now->r.key->>0, v_now->r.key->>1);
      end if;
    end if;
  end loop;
  if v_renamed = '{}' and v_dropped = '[]' and v_retyped = '{}' then
    return null;
  end if;
  insert into sheetsync.outbox (link, table_name, op, origin, dot, key_columns, column_types, body, change_count)
  select v_link, format('%I.%I', n.nspname, c.relname), 'SCHEMA', 'db', null,
         coalesce((select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum))
                     from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
                    where i.indrelid = rel and i.indisprimary), '{}'),
         (select coalesce(jsonb_object_agg(e.value->>0, e.value->>1), '{}') from jsonb_each(v_now) e),
         jsonb_build_array(jsonb_build_object('k', '{}'::jsonb, 'c',
           jsonb_build_object('renamed', v_renamed, 'dropped', v_dropped, 'retyped', v_retyped)))::text,
         1
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = rel;
  perform pg_notify('sheetsync_outbox', '');
  return v_renamed;
end
$fn$;

-- note_schema_row, then the renamed columns' values of every row, recorded as DB changes after
-- the SCHEMA row: the rows' documents know each value by its column's old name, so applyToDb
-- would take a sheet edit under the new name for one over a DB value it never saw; applyToSheet
-- records them under the new name (writing nothing where the sheet shows them). Rare (a rename),
-- and it costs what an UPDATE of those columns of every row costs. Run as the caller, who may
-- not read the table or sheetsync.watched (a writer that may only insert): then the values are
-- not recorded (a warning), and a sheet edit of a renamed column in a row the database has not
-- written since is kept out as a conflict until that row's next DB change.
-- Returns 1 when a SCHEMA row was recorded, else 0.
create or replace function sheetsync.note_schema(rel oid, known_fingerprint text default null)
returns integer language plpgsql as $fn$
declare
  v_renamed constant jsonb := sheetsync.note_schema_row(rel, known_fingerprint);
  v_keys text[];
  v_all jsonb;
begin
  if v_renamed is null then
    return 0;
  end if;
  if v_renamed <> '{}' then
    select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum)) into v_keys
      from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
     where i.indrelid = rel and i.indisprimary;
    begin
      execute format('select jsonb_agg(jsonb_build_object(%s)) from %s',
                     (select string_agg(format('%L, %I', k, k), ', ') from unnest(v_keys) k), rel::regclass)
        into v_all;
      perform sheetsync.record_rows(rel::regclass, v_all, array(select e.value from jsonb_each_text(v_renamed) e), 'UPDATE');
    exception when insufficient_privilege then
      raise warning 'sheetsync: the renamed columns of % were not recorded again: %', rel::regclass, sqlerrm
        using hint = 'Grant the role SELECT on the table and on sheetsync.watched, or write to the renamed columns of its rows.';
    end;
  end if;
  return 1;
end
$fn$;

-- note_schema for every watched table (the relay calls it when idle). Returns the number of
-- SCHEMA rows recorded. A table dropped since it was watched is skipped.
create or replace function sheetsync.note_schemas()
returns integer language sql as $$
  select coalesce(sum(sheetsync.note_schema(w.table_oid)), 0)::int
    from sheetsync.watched w where exists (select 1 from pg_class c where c.oid = w.table_oid)
$$;
