-- sheetsync install, part 2 of 6: the generator of the capture trigger's SQL, built from the
-- catalog for each watched table (docs/design/capture-per-table.md, outbox-chunks.md).

-- The capture trigger builds each change's JSON text with one concat() per row, from dynamic SQL
-- made for the table's columns: the expressions below are built once per statement and
-- evaluated per row. Per-row function calls are what a large statement pays for
-- (docs/design/outbox-chunks.md), so a value is rendered with the cheapest expression that gives
-- the JSON that to_json gives, with int8/numeric/money as strings.

-- The type a domain is ultimately based on (the type itself otherwise).
create or replace function sheetsync.base_type(typ oid)
returns oid language sql stable as $$
  with recursive d(oid, base, depth) as (
    select t.oid, t.typbasetype, 0 from pg_type t where t.oid = typ
    union all
    select t.oid, t.typbasetype, d.depth + 1 from d join pg_type t on t.oid = d.base
     where d.base <> 0 and d.depth < 32
  )
  select oid from d order by depth desc limit 1
$$;

-- An SQL expression of type text: the JSON of column `col` (type `typ`) of row `alias`; 'null'
-- when NULL, never SQL NULL. int8, numeric and money (and arrays of them) become JSON strings,
-- because JSON numbers are IEEE doubles in JavaScript; int2, int4 and bool are their text form
-- (which is their JSON); everything else is to_json's.
create or replace function sheetsync.json_value_expr(alias text, col name, typ oid, not_null boolean)
returns text language sql stable as $$
  with t as (
    select b.oid as base, b.typcategory = 'A' as is_array,
           (select sheetsync.base_type(b.typelem) where b.typcategory = 'A') as elem
      from pg_type b where b.oid = sheetsync.base_type(typ)
  ), e as (
    select case
      when base in ('int2'::regtype, 'int4'::regtype, 'bool'::regtype) then format('%s.%I::text', alias, col)
      when base in ('int8'::regtype, 'numeric'::regtype) then format('''"'' || %s.%I::text || ''"''', alias, col)
      when base = 'money'::regtype then format('to_json(%s.%I::text)::text', alias, col)
      when is_array and elem in ('int8'::regtype, 'numeric'::regtype, 'money'::regtype)
        then format('to_json(%s.%I::text[])::text', alias, col)
      else format('to_json(%s.%I)::text', alias, col)
    end as expr from t
  )
  select case when not_null then expr else format('coalesce(%s, ''null'')', expr) end from e
$$;

-- The same JSON as json_value_expr, as concat() parts: a NOT NULL int2/int4 column is passed to
-- concat() as it is, an int8/numeric one between two quote literals, so that concat() calls the
-- type's output function directly (no cast to text, no || per value).
create or replace function sheetsync.json_value_parts(alias text, col name, typ oid, not_null boolean)
returns text[] language sql stable as $$
  select case
    when not not_null then array[sheetsync.json_value_expr(alias, col, typ, false)]
    when t.base in ('int2'::regtype, 'int4'::regtype) then array[format('%s.%I', alias, col)]
    when t.base in ('int8'::regtype, 'numeric'::regtype) then array['''"''', format('%s.%I', alias, col), '''"''']
    else array[sheetsync.json_value_expr(alias, col, typ, true)]
  end
  from (select sheetsync.base_type(typ) as base) t
$$;

-- Whether values of a type can be compared with IS DISTINCT FROM (json, xml and some geometric
-- types have no equality operator; those are compared by their text form).
create or replace function sheetsync.has_equality(typ oid)
returns boolean language sql stable as $$
  select exists (
    select 1 from pg_opclass c join pg_am a on a.oid = c.opcmethod
    where a.amname in ('btree', 'hash') and c.opcdefault
      and (c.opcintype = typ
           or c.opcintype = (select case when t.typtype = 'd' then t.typbasetype end from pg_type t where t.oid = typ)
           or (c.opcintype = 'anyarray'::regtype
               and (select t.typcategory = 'A' and sheetsync.has_equality(t.typelem) from pg_type t where t.oid = typ)))
  )
$$;

-- Helpers of earlier versions of this script.
drop function if exists sheetsync.value_expr(text, name, oid);
drop function if exists sheetsync.object_expr(text[]);
drop function if exists sheetsync.row_expr(oid, text, boolean);
drop function if exists sheetsync.changed_cells_expr(oid);

-- concat(parts...) as one expression, adjacent string literals merged into one. A function
-- takes at most 100 arguments, so more parts are concatenated in groups of 99, and the groups
-- again.
create or replace function sheetsync.concat_expr(parts text[])
returns text language plpgsql immutable as $$
declare
  literal constant text := '^''([^'']|'''')*''$';
  level text[] := '{}';
  part text;
  last text;
begin
  foreach part in array coalesce(parts, '{}') loop
    last := level[cardinality(level)];
    if part ~ literal and last ~ literal then
      level[cardinality(level)] := quote_literal(replace(substr(last, 2, length(last) - 2), '''''', '''')
                                                 || replace(substr(part, 2, length(part) - 2), '''''', ''''));
    else
      level := level || part;
    end if;
  end loop;
  if cardinality(level) = 0 then
    return '''''';
  end if;
  loop
    if cardinality(level) <= 99 then
      return format('concat(%s)', array_to_string(level, ', '));
    end if;
    select array_agg(format('concat(%s)', chunk) order by g) into level
      from (select (i - 1) / 99 as g, string_agg(p, ', ' order by i) as chunk
              from unnest(level) with ordinality as u(p, i) group by 1) c;
  end loop;
end
$$;

-- The concat() parts that build the JSON object text {"column": value, ...} of row `alias` of
-- table `rel`, without its closing brace: all its columns, or its primary key columns only (in
-- key order).
create or replace function sheetsync.object_parts(rel oid, alias text, key_only boolean)
returns text[] language sql stable as $$
  select array_agg(v.part order by c.ord, v.sub, v.i)
    from (
      select row_number() over (order by coalesce(array_position(i.indkey::int2[], a.attnum), 0), a.attnum) as ord,
             a.attname, a.atttypid, a.attnotnull
        from pg_attribute a
        left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
       where a.attrelid = rel and a.attnum > 0 and not a.attisdropped
         and (not key_only or a.attnum = any (i.indkey::int2[]))
    ) c,
    lateral (
      select 1 as sub, 1::bigint as i,
             quote_literal(case when c.ord = 1 then '{' else ',' end || to_json(c.attname::text)::text || ':') as part
      union all
      select 2, p.i, p.part
        from unnest(sheetsync.json_value_parts(alias, c.attname, c.atttypid, c.attnotnull)) with ordinality as p(part, i)
    ) v
$$;

-- The expression testing whether column `col` (type `typ`) differs between rows n and o.
-- Columns without an equality operator are compared by their text form.
create or replace function sheetsync.distinct_expr(col name, typ oid)
returns text language sql stable as $$
  select case when sheetsync.has_equality(typ) then format('n.%1$I is distinct from o.%1$I', col)
              else format('n.%1$I::text is distinct from o.%1$I::text', col) end
$$;

-- The concat() parts of `,"column",value` for each column that differs between rows n and o,
-- in column order (all NULL when no column differs). Primary key columns are left out: the
-- UPDATE query pairs n and o by key equality, so they never differ there (a key that changed
-- goes to the rekey query, which records whole rows).
create or replace function sheetsync.changed_cells_parts(rel oid)
returns text[] language sql stable as $$
  select array_agg(format('case when %s then %L || %s end',
           sheetsync.distinct_expr(a.attname, a.atttypid),
           ',' || to_json(a.attname::text)::text || ',',
           sheetsync.json_value_expr('n', a.attname, a.atttypid, a.attnotnull)) order by a.attnum)
    from pg_attribute a
   where a.attrelid = rel and a.attnum > 0 and not a.attisdropped
     and not exists (select 1 from pg_index i where i.indrelid = rel and i.indisprimary and a.attnum = any (i.indkey::int2[]))
$$;

-- Whether any column other than the primary key differs between rows n and o ('false' when the
-- table has no other column). The tests run cheapest first (by-value types, then other
-- fixed-length ones, then variable-length ones), since OR stops at the first column that
-- differs; an unchanged row pays for all of them.
create or replace function sheetsync.any_changed_expr(rel oid)
returns text language sql stable as $$
  select coalesce(string_agg(sheetsync.distinct_expr(a.attname, a.atttypid), ' or '
                             order by case when t.typbyval then 0 when t.typlen > 0 then 1 else 2 end, a.attnum), 'false')
    from pg_attribute a join pg_type t on t.oid = a.atttypid
   where a.attrelid = rel and a.attnum > 0 and not a.attisdropped
     and not exists (select 1 from pg_index i where i.indrelid = rel and i.indisprimary and a.attnum = any (i.indkey::int2[]))
$$;

-- `lhs.col = rhs.col and ...` over the primary key columns.
create or replace function sheetsync.key_join(rel oid, lhs text, rhs text)
returns text language sql stable as $$
  select string_agg(format('%1$s.%3$I = %2$s.%3$I', lhs, rhs, a.attname), ' and ' order by a.attnum)
    from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
   where i.indrelid = rel and i.indisprimary
$$;

-- What the capture trigger needs to know about table `rel` for statements of kind `op`
-- (INSERT, UPDATE, DELETE), built from the catalog: the primary key columns ("keys"; absent
-- when there is none), the column types ("types"), the key column that may chunk by key range
-- ("dense": a single, non-deferrable integer key), and the SQL that stores a statement's changes
-- ("main"; an UPDATE's "rekey" for rows whose key changed), where the chunk expression is left
-- as a marker (chr(1) || 'grp' || chr(1)) to fill in per statement. `args` are the expressions
-- the SQL stores as the outbox row's link, table_name, op, origin, dot, key_columns and
-- column_types: parameters for EXECUTE ... USING, or a generated function's variables.
-- (A version of this script that was never released took `args` in capture_plan itself.)
drop function if exists sheetsync.capture_plan(oid, text, text);
create or replace function sheetsync.capture_plan_for(rel oid, op text, args text)
returns jsonb language plpgsql stable as $fn$
declare
  chunk constant int := 1000;
  marker constant text := chr(1) || 'grp' || chr(1);
  -- Stores the changes of the query %s, which yields (grp, c): c is a change's JSON text, grp
  -- its chunk (NULL: not stored). A chunk holds at most `chunk` changes.
  v_insert constant text := 'insert into sheetsync.outbox (link, table_name, op, origin, dot, key_columns, column_types, body, change_count) '
    'select ' || replace(args, '%', '%%') || ', ''['' || string_agg(c, '','') || '']'', count(*) '
    'from (%s) x where grp is not null group by grp';
  v_keys text[];
  v_key_type oid;
  v_deferrable boolean;
  v_plan jsonb;
begin
  select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum)),
         min(sheetsync.base_type(a.atttypid)),
         bool_or(coalesce((select c.condeferrable from pg_constraint c where c.conindid = i.indexrelid and c.contype = 'p'), true))
    into v_keys, v_key_type, v_deferrable
    from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
   where i.indrelid = rel and i.indisprimary;
  if v_keys is null then
    return '{}';
  end if;
  v_plan := jsonb_build_object(
    'keys', to_jsonb(v_keys),
    'types', (select jsonb_object_agg(a.attname, format_type(a.atttypid, a.atttypmod))
                from pg_attribute a where a.attrelid = rel and a.attnum > 0 and not a.attisdropped),
    'dense', case when cardinality(v_keys) = 1 and v_key_type in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                   and not v_deferrable then v_keys[1] end);
  if op = 'INSERT' then
    return v_plan || jsonb_build_object('main', format(v_insert, format('select %s as grp, %s as c from sheetsync_new n', marker,
      sheetsync.concat_expr(array['''{"k":'''] || sheetsync.object_parts(rel, 'n', true)
        || array['''},"c":'''] || sheetsync.object_parts(rel, 'n', false) || array['''}}''']))));
  elsif op = 'DELETE' then
    return v_plan || jsonb_build_object('main', format(v_insert, format('select %s as grp, %s as c from sheetsync_old o', marker,
      sheetsync.concat_expr(array['''{"k":'''] || sheetsync.object_parts(rel, 'o', true)
        || array['''},"o":'''] || sheetsync.object_parts(rel, 'o', false) || array['''}}''']))));
  end if;
  -- UPDATE. Rows whose key did not change pair up by primary key; a change is the key and the
  -- columns whose value is distinct, [key, "column", value, ...], and a no-op UPDATE records
  -- nothing. The same pass counts the new rows without a partner (their key changed): they go to
  -- the NULL group, which is not stored.
  -- Rows whose key changed ("rekey") have no partner by key. The old and new transition tables
  -- list the rows of one UPDATE in the same order (both are appended per updated row), so the
  -- unpaired ones pair up by their position among the unpaired. Such a change carries the
  -- previous key ("pk"), the whole new row ("c") and the whole old row ("o").
  return v_plan || jsonb_build_object(
    'main', format(
      'with g as (select grp, count(*) as n, ''['' || string_agg(c, '','') || '']'' as s from ('
      '  select case when o.%1$I is null then null else %2$s end as grp,'
      '         case when o.%1$I is not null then %3$s end as c'
      '    from sheetsync_new n left join sheetsync_old o on %4$s'
      '   where o.%1$I is null or %5$s) x group by grp),'
      ' ins as (insert into sheetsync.outbox (link, table_name, op, origin, dot, key_columns, column_types, body, change_count)'
      '   select ' || replace(args, '%', '%%') || ', s, n from g where grp is not null)'
      ' select coalesce(sum(n) filter (where grp is null), 0) from g',
      v_keys[1],
      marker,
      sheetsync.concat_expr(array['''['''] || sheetsync.object_parts(rel, 'n', true) || array['''}''']
        || sheetsync.changed_cells_parts(rel) || array[''']''']),
      sheetsync.key_join(rel, 'n', 'o'),
      sheetsync.any_changed_expr(rel)),
    'rekey', format(v_insert, format(
      'select (row_number() over () - 1) / %s as grp, %s as c from '
      '(select row_number() over (order by sheetsync_pos) as sheetsync_ord, a.* from (select row_number() over () as sheetsync_pos, n.* from sheetsync_new n) a '
      ' where not exists (select 1 from sheetsync_old o where %s)) nn '
      'join (select row_number() over (order by sheetsync_pos) as sheetsync_ord, a.* from (select row_number() over () as sheetsync_pos, o.* from sheetsync_old o) a '
      ' where not exists (select 1 from sheetsync_new n where %s)) oo using (sheetsync_ord)',
      chunk,
      sheetsync.concat_expr(array['''{"k":'''] || sheetsync.object_parts(rel, 'nn', true)
        || array['''},"pk":'''] || sheetsync.object_parts(rel, 'oo', true)
        || array['''},"c":'''] || sheetsync.object_parts(rel, 'nn', false)
        || array['''},"o":'''] || sheetsync.object_parts(rel, 'oo', false) || array['''}}''']),
      sheetsync.key_join(rel, 'a', 'o'), sheetsync.key_join(rel, 'a', 'n'))));
end
$fn$;

-- capture_plan_for with the statement's values as EXECUTE parameters: $1 link, $2 table, $3
-- origin, $4 dot, $5 key columns, $6 column types, $7 op. Its signature is the one earlier
-- versions had, so running an earlier install script over this one replaces it and adds no
-- overload.
create or replace function sheetsync.capture_plan(rel oid, op text)
returns jsonb language sql stable as $$
  select sheetsync.capture_plan_for(rel, op, '$1, $2, $7, $3, $4, $5, $6')
$$;

-- What the capture SQL of table `rel` was built from: its columns, its primary key (the
-- constraint's columns and deferrability, found through the index on conrelid), and this
-- install of capture_plan_for (running the install script again replaces it). PL/pgSQL, not SQL:
-- it keeps the query's plan for the session (a SQL function is planned on every call, which cost
-- a one-row statement more than the rest of its capture).
create or replace function sheetsync.capture_fingerprint(rel oid)
returns text language plpgsql stable as $$
begin
  return (select md5(string_agg(concat_ws(':', a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attisdropped), ',' order by a.attnum)
             || '|' || coalesce((select concat_ws(':', c.conkey::text, c.condeferrable) from pg_constraint c
                                  where c.conrelid = rel and c.contype = 'p'), '-')
             || '|' || (select p.xmin::text from pg_proc p where p.oid = 'sheetsync.capture_plan_for(oid, text, text)'::regprocedure))
    from pg_attribute a where a.attrelid = rel and a.attnum > 0);
end
$$;
