-- sheetsync install script for MySQL 8 and MariaDB 10.6+: the change-capture outbox that row
-- triggers fill (docs/design/mysql.md, "Change capture"). Idempotent: every object is created
-- "if not exists", so running it twice, or on every start, is safe. The triggers themselves are
-- generated per table from the catalog by functions/src/adapters/mysql/mysql-capture.ts, because
-- MySQL cannot create a trigger from a stored procedure (CREATE TRIGGER is not preparable).
--
-- Invariants the relay relies on, as for PostgreSQL (sql/install.sql):
-- * An outbox row is visible only once its transaction commits; ids are NOT in commit order
--   (AUTO_INCREMENT values are taken at insert), so the relay claims unpublished rows with
--   FOR UPDATE SKIP LOCKED in id order (MySQL 8.0.1+, MariaDB 10.6+) instead of remembering
--   the last id it saw.
-- * Per key, ids follow commit order: a writer holds the row's lock from its change until it
--   commits, and the AFTER trigger takes the outbox id after the change.
-- * MySQL has no statement triggers, transition tables or NOTIFY: one outbox row per row
--   change, and the relay polls.

create database if not exists sheetsync character set utf8mb4 collate utf8mb4_bin;

-- One row per captured table: the trigger writes only this number, so no table name, link name
-- or other text ever becomes part of a trigger's SQL.
create table if not exists sheetsync.watched (
  id int unsigned not null auto_increment primary key,
  table_schema varchar(64) not null,
  table_name varchar(64) not null,
  link varchar(255) not null,
  -- The columns, in the order of the trigger's value array, and the key columns (JSON arrays of
  -- names), as they were when the trigger was generated.
  column_names json not null,
  key_columns json not null,
  -- SHA-256 of the generated trigger SQL: watching again with the same table is a no-op.
  fingerprint char(64) not null,
  unique key watched_table (table_schema, table_name)
) engine = InnoDB;

-- One row per row change on a watched table.
create table if not exists sheetsync.outbox (
  id bigint unsigned not null auto_increment primary key,
  watched_id int unsigned not null,
  op enum('INSERT', 'UPDATE', 'DELETE') not null,
  origin varchar(16) not null,            -- @sheetsync_origin, default 'db'
  dot varchar(255) null,                  -- @sheetsync_dot: the writer's dot
  changed_at timestamp(6) not null default current_timestamp(6),
  -- A JSON array: [changed, key values…, values…]. `changed` is a string of 0/1 per column
  -- (an INSERT or DELETE: all 1); values are in watched.column_names order, NULL when
  -- unchanged; key values are the OLD key for UPDATE and DELETE. BIGINT, DECIMAL, BIT and JSON
  -- values are text, so no JSON reader rounds them.
  body longtext not null
) engine = InnoDB;

-- Sync id → key of the rows applyToDb inserted (the Table port's row id map, as
-- sheetsync.row_ids in sql/install.sql): a redelivered insert finds its row instead of adding
-- another. `row_key` is the key as JSON text, `{"column": value}`.
create table if not exists sheetsync.row_ids (
  link varchar(255) not null,
  row_id char(36) not null,
  row_key longtext not null,
  primary key (link, row_id)
) engine = InnoDB;
