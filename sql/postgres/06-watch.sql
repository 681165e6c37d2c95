-- sheetsync install, part 6 of 6: watch and unwatch a table, and the upgrade of every table
-- already watched (runs last: it regenerates capture with everything above).

-- Attaches capture to `tbl` and records the link it feeds (default: the table's name).
create or replace function sheetsync.watch(tbl regclass, link text default null)
returns void language plpgsql as $fn$
declare
  v_kind "char";
  v_link text;
  v_function text;
begin
  select c.relkind into v_kind from pg_class c where c.oid = tbl;
  if v_kind not in ('r', 'p') then
    raise exception using errcode = '42809',
      message = format('SHEETSYNC_E202: %s is not a table, so it cannot be watched', tbl),
      hint = 'Watch the table that the view or foreign table reads from.';
  end if;
  if not exists (select 1 from pg_index i where i.indrelid = tbl and i.indisprimary) then
    raise exception using errcode = '55000',
      message = format('SHEETSYNC_E201: table %s has no primary key, so sheetsync cannot tell its rows apart and refuses to watch it', tbl),
      hint = format('Add a primary key, e.g. ALTER TABLE %1$s ADD PRIMARY KEY (id), or ALTER TABLE %1$s ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY; then call sheetsync.watch again.', tbl);
  end if;
  v_link := coalesce(nullif(link, ''), (select c.relname::text from pg_class c where c.oid = tbl));
  -- A table watched again (every install does it) first records what changed in its columns.
  perform sheetsync.note_schema(tbl);
  perform sheetsync.drop_capture(tbl);
  v_function := sheetsync.generate_capture(tbl);
  insert into sheetsync.watched (table_oid, table_name, link, capture_function, columns, fingerprint)
  values (tbl, tbl::text, v_link, v_function, sheetsync.column_snapshot(tbl), sheetsync.capture_fingerprint(tbl))
    on conflict (table_oid) do update
      set table_name = excluded.table_name, link = excluded.link, capture_function = excluded.capture_function,
          columns = excluded.columns, fingerprint = excluded.fingerprint;
  -- A trigger with transition tables may have only one event, hence three triggers.
  execute format('create trigger sheetsync_capture_insert after insert on %s referencing new table as sheetsync_new '
    'for each statement execute function sheetsync.%I(%L)', tbl, v_function, v_link);
  execute format('create trigger sheetsync_capture_update after update on %s referencing old table as sheetsync_old new table as sheetsync_new '
    'for each statement execute function sheetsync.%I(%L)', tbl, v_function, v_link);
  execute format('create trigger sheetsync_capture_delete after delete on %s referencing old table as sheetsync_old '
    'for each statement execute function sheetsync.%I(%L)', tbl, v_function, v_link);
  execute format('create trigger sheetsync_capture_truncate after truncate on %s '
    'for each statement execute function sheetsync.capture_truncate(%L)', tbl, v_link);
end
$fn$;

create or replace function sheetsync.drop_capture(tbl regclass)
returns void language plpgsql as $fn$
declare
  v_function regprocedure;
begin
  execute format('drop trigger if exists sheetsync_capture_insert on %s', tbl);
  execute format('drop trigger if exists sheetsync_capture_update on %s', tbl);
  execute format('drop trigger if exists sheetsync_capture_delete on %s', tbl);
  execute format('drop trigger if exists sheetsync_capture_truncate on %s', tbl);
  -- The generated function goes too, unless another table's triggers call it (after a dump and
  -- restore, another table may have been given this table's OID, and so its function's name).
  v_function := (select to_regprocedure(format('sheetsync.%I()', w.capture_function))
                   from sheetsync.watched w where w.table_oid = tbl and w.capture_function is not null);
  if v_function is not null and not exists (select 1 from pg_trigger t where t.tgfoid = v_function) then
    execute format('drop function %s', v_function);
  end if;
end
$fn$;

-- Upgrade: every table still watched is watched again, so its generated capture function is
-- built by this install (and its TRUNCATE trigger exists); a table whose capture triggers are
-- gone is left alone. Running this script is how capture is upgraded (README, Deploy).
do $$
declare
  r record;
begin
  for r in
    select w.table_oid::regclass as tbl, w.link from sheetsync.watched w
     where exists (select 1 from pg_trigger t where t.tgrelid = w.table_oid and t.tgname = 'sheetsync_capture_insert')
  loop
    begin
      perform sheetsync.watch(r.tbl, r.link);
    exception when insufficient_privilege then
      -- Capture goes on through the function generated before (it notices the new install and
      -- builds its SQL afresh each statement) until the table's owner runs watch.
      raise warning 'sheetsync: could not regenerate capture for %: %', r.tbl, sqlerrm
        using hint = format('Run select sheetsync.watch(%L, %L) as the owner of the table.', r.tbl::text, r.link);
    end;
  end loop;
end
$$;

-- Detaches capture from `tbl`. Changes already in the outbox are still published.
create or replace function sheetsync.unwatch(tbl regclass)
returns void language plpgsql as $fn$
begin
  perform sheetsync.drop_capture(tbl);
  delete from sheetsync.watched where table_oid = tbl;
end
$fn$;
