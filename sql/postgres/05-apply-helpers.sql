-- sheetsync install, part 5 of 6: what applyToDb calls in its transaction to show a kept or
-- restored row on the sheet again.

-- Records the current values of columns `cols` of the rows of `tbl` whose primary keys are in
-- `keys` (a JSON array of key objects, as the outbox encodes them) as one more DB change of each
-- row (origin 'db', operation `p_op`, 'UPDATE' or 'INSERT'), in the form the capture trigger stores
-- an UPDATE that kept the key. Nothing for a table that is not watched. Returns the number of
-- changes recorded. Used by reshow and restore.
create or replace function sheetsync.record_rows(tbl regclass, keys jsonb, cols text[], p_op text)
returns integer language plpgsql as $fn$
declare
  chunk constant int := 1000;
  -- The key columns and column types as capture records them (capture_plan: rare, so not cached).
  v_plan jsonb := sheetsync.capture_plan(tbl, 'DELETE');
  v_link text;
  v_keys text[];
  v_cells text[];
  v_count integer;
begin
  if p_op is null or p_op not in ('UPDATE', 'INSERT') then
    raise exception 'sheetsync.record_rows records UPDATE or INSERT changes, not %', p_op;
  end if;
  select w.link into v_link from sheetsync.watched w where w.table_oid = tbl;
  if v_link is null or coalesce(jsonb_array_length(keys), 0) = 0 or v_plan->'keys' is null then
    return 0;
  end if;
  v_keys := array(select jsonb_array_elements_text(v_plan->'keys'));
  select array_agg(format('%L || %s', ',' || to_json(a.attname::text)::text || ',',
                          sheetsync.json_value_expr('n', a.attname, a.atttypid, a.attnotnull)) order by a.attnum)
    into v_cells
    from pg_attribute a
   where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped and a.attname::text = any (cols);
  if v_cells is null then
    return 0;
  end if;
  execute format(
    'with c as (select (row_number() over () - 1) / %s as grp, %s as c from %s n'
    '  where (%s) in (select %s from jsonb_populate_recordset(null::%s, $1) k)),'
    ' ins as (insert into sheetsync.outbox (link, table_name, op, origin, dot, key_columns, column_types, body, change_count)'
    '   select $2, $3, $6, ''db'', null, $4, $5, ''['' || string_agg(c, '','') || '']'', count(*) from c group by grp'
    '   returning change_count)'
    ' select coalesce(sum(change_count), 0)::int from ins',
    chunk,
    sheetsync.concat_expr(array['''['''] || sheetsync.object_parts(tbl, 'n', true) || array['''}'''] || v_cells || array[''']''']),
    tbl,
    (select string_agg(format('n.%I', k), ', ') from unnest(v_keys) k),
    (select string_agg(format('k.%I', k), ', ') from unnest(v_keys) k),
    tbl)
    into v_count
    using keys, v_link,
          (select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = tbl),
          v_keys, v_plan->'types', p_op;
  if v_count > 0 then
    perform pg_notify('sheetsync_outbox', '');
  end if;
  return v_count;
end
$fn$;

-- applyToDb calls it, in its transaction and holding the rows' locks, for a DB value it kept
-- without having seen it while the sheet may show an edit instead (the deferral cap,
-- docs/design/sync-core.md): applyToSheet then shows the kept value on the sheet again.
create or replace function sheetsync.reshow(tbl regclass, keys jsonb, cols text[])
returns integer language sql as $fn$
  select sheetsync.record_rows(tbl, keys, cols, 'UPDATE')
$fn$;

-- Records every column of the rows of `tbl` whose keys are in `keys` as an INSERT: applyToDb
-- calls it for rows deleted on the sheet that the database refused to delete (a foreign key
-- refers to them), and applyToSheet puts such a row on the sheet again, with its sync id.
create or replace function sheetsync.restore(tbl regclass, keys jsonb)
returns integer language sql as $fn$
  select sheetsync.record_rows(tbl, keys,
    array(select a.attname::text from pg_attribute a
           where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped order by a.attnum),
    'INSERT')
$fn$;
