-- sheetsync install script: the change-capture half of the trigger bridge (DESIGN.md §2, Outbox).
-- Idempotent: every object is created "if not exists" or replaced, so running it twice (or on
-- every start) is safe. Concurrent installs serialise on a transaction advisory lock.
--
-- Why changes are stored in chunks: a row-per-change outbox doubles the write volume of a wide
-- UPDATE (one outbox tuple and one index entry per changed row). One outbox row holds a chunk of
-- up to 1000 changes of one statement, as JSON text (body); the relay still publishes each row
-- change with a stable id (outbox id, index in the chunk), and keeps per-key order because a key
-- appears at most once per statement and outbox ids of one key follow its commit order (row
-- locks serialise writers of one key, and a writer takes its outbox id after its row lock).
-- What the trigger costs, and what was done about it, is in docs/design/outbox-chunks.md:
-- about 1.5x a 100k-row UPDATE without capture.
--
-- Invariants the relay relies on:
-- * An outbox row is visible only once its transaction commits; ids are NOT in commit order,
--   so the relay claims unpublished rows with FOR UPDATE SKIP LOCKED in id order instead of
--   remembering the last id it saw.
-- * One NOTIFY per capturing statement, payload empty: it is only a wake-up (NOTIFY payloads
--   are capped at 8000 bytes and lost when nobody listens; the relay also polls).

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

-- The statement-level capture trigger. TG_ARGV[0] is the link name. The transition tables are
-- sheetsync_new (INSERT, UPDATE) and sheetsync_old (UPDATE, DELETE).
-- Its settings: work_mem keeps the join and the chunk aggregation of a large statement in
-- memory; jit is off because the transition tables have no statistics, so the planner's row
-- estimates for the join are huge and JIT compilation (about 200 ms) cost more than the whole
-- query; a hash join pairs old and new rows without sorting both.
-- Building the SQL from the catalog (capture_plan) took about 5 ms, 25 times a one-row UPDATE,
-- so each session keeps it in a setting per table and kind of statement, with a fingerprint of
-- the table's columns and key: a changed definition (ALTER TABLE) builds it afresh.
create or replace function sheetsync.capture() returns trigger
language plpgsql set work_mem = '64MB' set jit = off set enable_mergejoin = off as $fn$
declare
  chunk constant int := 1000;
  v_origin text := coalesce(nullif(current_setting('sheetsync.origin', true), ''), 'db');
  v_dot text := nullif(current_setting('sheetsync.dot', true), '');
  v_table text := format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
  v_rows text := case TG_OP when 'DELETE' then 'sheetsync_old' else 'sheetsync_new' end;
  v_alias text := case TG_OP when 'DELETE' then 'o' else 'n' end;
  v_setting text := format('sheetsync.capture_%s_%s', TG_RELID, lower(TG_OP));
  v_fingerprint text;
  v_plan jsonb;
  v_keys text[];
  v_grp text;
  v_min bigint;
  v_max bigint;
  v_count bigint;
  v_unpaired bigint;
begin
  -- Sessions rebuild their SQL when the table or the install changed.
  v_fingerprint := sheetsync.capture_fingerprint(TG_RELID);
  -- Columns renamed, dropped or retyped since the last look: a SCHEMA row before these changes.
  perform sheetsync.note_schema(TG_RELID, v_fingerprint);
  v_plan := nullif(current_setting(v_setting, true), '')::jsonb;
  if v_plan is null or v_plan->>'fingerprint' is distinct from v_fingerprint then
    v_plan := sheetsync.capture_plan(TG_RELID, TG_OP) || jsonb_build_object('fingerprint', v_fingerprint);
    perform set_config(v_setting, v_plan::text, false);
  end if;
  if v_plan->'keys' is null then
    raise exception using errcode = '55000',
      message = format('SHEETSYNC_E201: table %s has no primary key, so its changes cannot be captured', v_table),
      hint = 'Add a primary key (ALTER TABLE ... ADD PRIMARY KEY (...)), then call sheetsync.watch again.';
  end if;
  v_keys := array(select jsonb_array_elements_text(v_plan->'keys'));

  -- The chunk of a change: its position in the statement divided by `chunk`, which takes a
  -- window function (it buffers every row: about a quarter of the trigger's work on a large
  -- UPDATE). For a single integer key whose values are dense, the key's 512-wide range instead
  -- (key >> 9, a floor division even for negative keys): keys are unique (the key is not
  -- deferrable, so it holds at the end of the statement), so a chunk gets at most 512 changes.
  -- Dense: the first 1000 rows of the statement use at least a quarter of their key range (a
  -- sample, so a statement that is dense at first and sparse later gets small chunks: more
  -- outbox rows, never wrong ones).
  v_grp := format('(row_number() over () - 1) / %s', chunk);
  if v_plan->>'dense' is not null then
    execute format('select min(k), max(k), count(*) from (select %1$I as k from %2$I limit %3$s) s', v_plan->>'dense', v_rows, chunk)
      into v_min, v_max, v_count;
    if v_count > 0 and v_max::numeric - v_min < 4::numeric * v_count then
      v_grp := format('%s.%I >> 9', v_alias, v_plan->>'dense');
    end if;
  end if;

  if TG_OP = 'UPDATE' then
    execute replace(v_plan->>'main', chr(1) || 'grp' || chr(1), v_grp)
      into v_unpaired
      using TG_ARGV[0], v_table, v_origin, v_dot, v_keys, v_plan->'types', TG_OP;
    if v_unpaired > 0 then
      execute v_plan->>'rekey' using TG_ARGV[0], v_table, v_origin, v_dot, v_keys, v_plan->'types', TG_OP;
    end if;
  else
    execute replace(v_plan->>'main', chr(1) || 'grp' || chr(1), v_grp)
      using TG_ARGV[0], v_table, v_origin, v_dot, v_keys, v_plan->'types', TG_OP;
  end if;
  perform pg_notify('sheetsync_outbox', '');
  return null;
end
$fn$;

-- A capture trigger function for one table, generated by watch: the capture SQL of each kind of
-- statement as static statements, whose plans PL/pgSQL prepares once per session, where
-- sheetsync.capture() plans its dynamic SQL on every statement (EXECUTE never keeps a plan).
-- That planning was most of what capture cost a one-row statement: about 1 ms, three times the
-- statement, against about 0.1 ms here (docs/design/capture-per-table.md). When the table
-- changed after watch generated it (its fingerprint differs), the function runs the body of
-- sheetsync.capture() instead, built from the catalog as it is then; watch again regenerates it.
-- Returns the function's name (in schema sheetsync).
create or replace function sheetsync.generate_capture(tbl regclass)
returns text language plpgsql as $gen$
declare
  marker constant text := chr(1) || 'grp' || chr(1);
  by_position constant text := '(row_number() over () - 1) / 1000';
  args constant text := 'v_link, v_table, TG_OP, v_origin, v_dot, v_keys, v_types';
  v_name text := 'capture_' || tbl::oid;
  v_generic text := (select p.prosrc from pg_proc p where p.oid = 'sheetsync.capture()'::regprocedure);
  v_ins jsonb := sheetsync.capture_plan_for(tbl, 'INSERT', args);
  v_upd jsonb := sheetsync.capture_plan_for(tbl, 'UPDATE', args);
  v_del jsonb := sheetsync.capture_plan_for(tbl, 'DELETE', args);
  v_dense text := v_ins->>'dense';
  -- The chunk of a change when the statement's keys are dense (the probe below): its key's range.
  v_by_new_key constant text := case when v_dense is null then by_position else format('n.%I >> 9', v_dense) end;
  v_by_old_key constant text := case when v_dense is null then by_position else format('o.%I >> 9', v_dense) end;
  v_probe text := '';
  v_body text;
begin
  if v_ins->'keys' is null then
    raise exception using errcode = '55000',
      message = format('SHEETSYNC_E201: table %s has no primary key, so its changes cannot be captured', tbl),
      hint = 'Add a primary key (ALTER TABLE ... ADD PRIMARY KEY (...)), then call sheetsync.watch again.';
  end if;
  if v_dense is not null then
    -- As in sheetsync.capture(): chunks by key range when the first 1000 keys are dense.
    v_probe := format($p$
  if TG_OP = 'DELETE' then
    select min(k), max(k), count(*) into v_min, v_max, v_count from (select %1$I as k from sheetsync_old limit 1000) s;
  else
    select min(k), max(k), count(*) into v_min, v_max, v_count from (select %1$I as k from sheetsync_new limit 1000) s;
  end if;
  v_dense := v_count > 0 and v_max::numeric - v_min < 4::numeric * v_count;
$p$, v_dense);
  end if;
  v_body := format($b$
declare
  v_link constant text := TG_ARGV[0];
  v_origin constant text := coalesce(nullif(current_setting('sheetsync.origin', true), ''), 'db');
  v_dot constant text := nullif(current_setting('sheetsync.dot', true), '');
  v_table constant text := format('%%I.%%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
  v_keys constant text[] := %1$L;
  v_types constant jsonb := %2$L;
  v_min bigint;
  v_max bigint;
  v_count bigint;
  v_unpaired bigint;
  v_dense boolean := false;
begin
  if sheetsync.capture_fingerprint(TG_RELID) is distinct from %3$L then
    -- The table changed since this function was generated: sheetsync.capture()'s body.
    %4$s;
  end if;
%5$s
  if TG_OP = 'INSERT' then
    if v_dense then
      %6$s;
    else
      %7$s;
    end if;
  elsif TG_OP = 'UPDATE' then
    if v_dense then
      %8$s into v_unpaired;
    else
      %9$s into v_unpaired;
    end if;
    if v_unpaired > 0 then
      %10$s;
    end if;
  elsif TG_OP = 'DELETE' then
    if v_dense then
      %11$s;
    else
      %12$s;
    end if;
  end if;
  perform pg_notify('sheetsync_outbox', '');
  return null;
end
$b$,
    array(select jsonb_array_elements_text(v_ins->'keys')),
    v_ins->'types',
    sheetsync.capture_fingerprint(tbl),
    v_generic,
    v_probe,
    replace(v_ins->>'main', marker, v_by_new_key),
    replace(v_ins->>'main', marker, by_position),
    replace(v_upd->>'main', marker, v_by_new_key),
    replace(v_upd->>'main', marker, by_position),
    v_upd->>'rekey',
    replace(v_del->>'main', marker, v_by_old_key),
    replace(v_del->>'main', marker, by_position));
  execute format('create or replace function sheetsync.%I() returns trigger language plpgsql '
                 'set work_mem = ''64MB'' set jit = off set enable_mergejoin = off as %L', v_name, v_body);
  return v_name;
end
$gen$;

-- The TRUNCATE capture trigger (statement-level; a TRUNCATE trigger has no transition tables,
-- and the rows are gone). TG_ARGV[0] is the link name. It records one change with an empty key,
-- op TRUNCATE: the relay publishes it to every key bucket of the link, after the earlier changes
-- of each bucket, and applyToSheet deletes every row of the link the database had written before
-- it (docs/design/truncate.md). TRUNCATE takes an ACCESS EXCLUSIVE lock, so every writer
-- of the table before it has taken its outbox id before this one, and every writer after it
-- takes a later one. It fires for each table of a TRUNCATE a, b and for tables a CASCADE adds.
create or replace function sheetsync.capture_truncate() returns trigger
language plpgsql as $fn$
declare
  v_keys text[];
begin
  select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum))
    into v_keys
    from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[])
   where i.indrelid = TG_RELID and i.indisprimary;
  if v_keys is null then
    raise exception using errcode = '55000',
      message = format('SHEETSYNC_E201: table %I.%I has no primary key, so its changes cannot be captured', TG_TABLE_SCHEMA, TG_TABLE_NAME),
      hint = 'Add a primary key (ALTER TABLE ... ADD PRIMARY KEY (...)), then call sheetsync.watch again.';
  end if;
  insert into sheetsync.outbox (link, table_name, op, origin, dot, key_columns, column_types, body, change_count)
  values (TG_ARGV[0], format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'TRUNCATE',
          coalesce(nullif(current_setting('sheetsync.origin', true), ''), 'db'),
          nullif(current_setting('sheetsync.dot', true), ''), v_keys, '{}', '[{"k":{}}]', 1);
  perform pg_notify('sheetsync_outbox', '');
  return null;
end
$fn$;

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
