/**
 * A database row change, as the outbox relay publishes it on topic `sheetsync-db-changes`, one
 * message per changed row (DESIGN.md §2, Outbox; sql/install.sql writes the source rows).
 *
 * Values keep their PostgreSQL types through JSON: `types` names each column's type
 * (format_type), and int8, numeric and money values (and arrays of them) travel as strings
 * because JSON numbers are IEEE doubles in JavaScript. Other values are what PostgreSQL's
 * to_json gives: timestamptz as ISO 8601 with offset, date as YYYY-MM-DD, json/jsonb nested.
 */
import * as v from 'valibot';
import { SheetsyncError } from '../errors.ts';
import { issueText } from './issue-text.ts';

export const DB_CHANGES_TOPIC = 'sheetsync-db-changes';

/** The capture trigger stores at most this many changes per outbox row (sql/install.sql, `chunk`). */
export const CHANGES_PER_OUTBOX_ROW = 1000;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const JsonValue: v.GenericSchema<Json> = v.lazy(() =>
  v.union([
    v.string(),
    v.number(),
    v.boolean(),
    v.null(),
    v.array(JsonValue),
    v.record(v.string(), JsonValue),
  ]),
);
/** column name → value */
const CellMap = v.record(v.string(), JsonValue);
const Digits = v.pipe(v.string(), v.regex(/^\d+$/, 'must be a decimal integer string'));

export const DbChangeMessage = v.object({
  /** The outbox row (one statement's chunk of changes) this change came from. */
  outboxId: Digits,
  /** Position of the change in its outbox row (< CHANGES_PER_OUTBOX_ROW). */
  index: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(CHANGES_PER_OUTBOX_ROW - 1)),
  /**
   * The change's stable id: outboxId × CHANGES_PER_OUTBOX_ROW + index. The same on every
   * redelivery, and increasing along one key's changes; its db-side dot is `db:<changeId>`.
   */
  changeId: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
  link: v.pipe(v.string(), v.minLength(1)),
  /** schema.table, quoted where needed. */
  table: v.pipe(v.string(), v.minLength(1)),
  /**
   * TRUNCATE: the table was emptied. Its one change has an empty key and no cells; the relay
   * publishes it to every key bucket of the link (relay/outbox-messages.ts), and applyToSheet
   * deletes every row the database had written before it.
   * SCHEMA: the table's columns were renamed, dropped or retyped (sql/install.sql note_schema).
   * Its one change has an empty key and cells `SchemaCells`; published to every key bucket like a
   * TRUNCATE, so it precedes each bucket's changes made with the new columns.
   */
  op: v.picklist(['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'SCHEMA']),
  /** Primary key columns, in key order. */
  keyColumns: v.pipe(v.array(v.string()), v.minLength(1)),
  /** The row's primary key after the change (DELETE: the deleted key; TRUNCATE: empty). */
  key: CellMap,
  /** Set when an UPDATE changed the primary key: the key before. */
  previousKey: v.optional(CellMap),
  /** INSERT: every column; UPDATE: the columns whose value changed; DELETE: empty. */
  cells: CellMap,
  /** DELETE, and an UPDATE that changed the key: the whole row before. */
  old: v.optional(CellMap),
  /** column → PostgreSQL type, e.g. "numeric(12,2)", "timestamp with time zone", "bigint[]". */
  types: v.record(v.string(), v.string()),
  /** 'db' for ordinary writes; what the writer SET LOCAL sheetsync.origin to otherwise ('sheet'). */
  origin: v.pipe(v.string(), v.minLength(1)),
  /** The writer's dot from SET LOCAL sheetsync.dot (the sheet side's own changes), else null. */
  dot: v.nullable(v.string()),
  /** The writing transaction's id (xid8). */
  txid: Digits,
  /** When the statement ran (clock_timestamp), ISO 8601 UTC with microseconds. */
  time: v.string(),
});
export type DbChangeMessage = v.InferOutput<typeof DbChangeMessage>;

/**
 * The cells of a SCHEMA change: columns renamed (old name → new), dropped, and retyped (name →
 * new type). `report` is set on the copy of one key bucket only (relay/outbox-messages.ts), so
 * applyToSheet reports a dropped column once, not once per bucket.
 */
export const SchemaCells = v.object({
  renamed: v.optional(v.record(v.string(), v.string()), {}),
  dropped: v.optional(v.array(v.string()), []),
  retyped: v.optional(v.record(v.string(), v.string()), {}),
  report: v.optional(v.boolean(), false),
});
export type SchemaCells = v.InferOutput<typeof SchemaCells>;

/** The change id of change `index` of outbox row `outboxId` (see DbChangeMessage.changeId). */
export function dbChangeId(outboxId: string | bigint, index: number): number {
  const id = BigInt(outboxId) * BigInt(CHANGES_PER_OUTBOX_ROW) + BigInt(index);
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SheetsyncError(
      'SHEETSYNC_E206',
      `Outbox id ${outboxId} is too large for a change id`,
      'permanent',
    );
  }
  return Number(id);
}

/** The db-side dot of a change (DESIGN.md §2, Dots and idempotency). */
export function dbDot(change: Pick<DbChangeMessage, 'changeId'>): `db:${number}` {
  return `db:${change.changeId}`;
}

/**
 * The ordering key: `${link}/${JSON array of the key values in key order}`. Stable because the
 * key columns' order is the primary key's and values are JSON-encoded the same way every time.
 */
export function dbChangeOrderingKey(
  link: string,
  keyColumns: readonly string[],
  key: Record<string, Json>,
): string {
  return `${link}/${JSON.stringify(keyColumns.map((column) => key[column] ?? null))}`;
}

/**
 * A message on the topic: the changes of one relay batch that share an ordering key (link and
 * key bucket, see relay/outbox-messages.ts), in the order they must be applied.
 */
export const DbChangeBatch = v.object({
  changes: v.pipe(v.array(DbChangeMessage), v.minLength(1)),
});
export type DbChangeBatch = v.InferOutput<typeof DbChangeBatch>;

/**
 * Parses a message body from the topic into its changes, in order: a batch body
 * (`{"changes": [...]}`), or a single change as earlier relays published it. A malformed body is
 * a permanent SHEETSYNC_E301.
 */
export function parseDbChanges(data: Uint8Array | string): DbChangeMessage[] {
  const json = parseJson(data);
  if (json !== null && typeof json === 'object' && 'changes' in json) {
    return validated(DbChangeBatch, json).changes;
  }
  return [validated(DbChangeMessage, json)];
}

/** Parses a single-change body; a malformed one is a permanent SHEETSYNC_E301. */
export function parseDbChangeMessage(data: Uint8Array | string): DbChangeMessage {
  return validated(DbChangeMessage, parseJson(data));
}

function parseJson(data: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new SheetsyncError('SHEETSYNC_E301', `A ${DB_CHANGES_TOPIC} message is not JSON`, 'permanent', {
      cause: error,
    });
  }
}

function validated<S extends v.GenericSchema>(schema: S, json: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, json);
  if (!result.success) {
    const issue = result.issues[0];
    throw new SheetsyncError(
      'SHEETSYNC_E301',
      `A ${DB_CHANGES_TOPIC} message is malformed at ${issueText(issue)}`,
      'permanent',
    );
  }
  return result.output;
}
