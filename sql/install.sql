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
--
-- The parts, in the order they must run (each `\ir` is psql's include relative to this file;
-- installSchema inlines them the same way): `psql -f sql/install.sql` installs or upgrades.

\ir postgres/01-schema.sql
\ir postgres/02-capture-sql.sql
\ir postgres/03-schema-changes.sql
\ir postgres/04-capture-triggers.sql
\ir postgres/05-apply-helpers.sql
\ir postgres/06-watch.sql
