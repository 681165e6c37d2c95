/**
 * Custom conflict resolvers (docs/design/custom-resolvers.md): a link whose policy (or a
 * column's) is `custom` names a module, `conflict.resolver`, whose default export decides a
 * conflict:
 *
 *   export default (conflict) => 'sheet' | 'db' | { value }
 *
 * with `conflict` = { link, rowId, column, sheet: {value, dot, time}, db: {value, dot, time} }.
 * Only the file the operator names is ever run: nothing from the sheet or the database is
 * evaluated.
 *
 * - Loading (`loadResolvers`): at start-up (npm start, `sheetsync start --config`, the deployed
 *   functions), each module is imported and its default export checked; a missing file, an import
 *   that throws (a syntax error) or an export that is not a function stops start-up with
 *   SHEETSYNC_E105, naming `links[i].conflict.resolver`.
 * - Deciding (`customPolicy`): the resolver is wrapped. If it throws, returns anything but
 *   'sheet', 'db' or `{ value }`, or a value that does not fit the column (the core's coercion,
 *   `fromDb`), the conflict is decided as `manual` would: the DB value kept, the record open for a
 *   person to resolve, and an error (SHEETSYNC_E411) logged with the link, row and column (never
 *   the values). A computed value is stored in the column's canonical form. The record's policy
 *   says `custom:<module name>`; a failed decision's record is open (core UNDECIDED).
 * - A resolver must be deterministic (a redelivered change is decided again and must be decided
 *   the same way): no clock, no randomness, no I/O; decide from the conflict alone.
 */
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type postgres from 'postgres';
import { describeTable, type TableSchema } from './adapters/table/table-schema.ts';
import { conflictPolicyOf } from './config.ts';
import type { CellValue } from './core/cell-value.ts';
import { fromDb } from './core/coercion.ts';
import { type ColumnType, parseColumnType } from './core/column-type.ts';
import {
  type ConflictChoice,
  type ConflictInput,
  type ConflictPolicy,
  type CustomPolicy,
  UNDECIDED,
  type Undecided,
} from './core/conflict-policy.ts';
import { SheetsyncError } from './errors.ts';
import type { Logger } from './log.ts';
import type { LinkConfig, SheetsyncConfig } from './wire/config.ts';

/** What a resolver module's default export receives. */
export interface ResolverConflict extends ConflictInput {
  link: string;
}

export type ResolverFunction = (conflict: ResolverConflict) => unknown;

export interface LoadedResolver {
  /** The module's file name without its extension, e.g. `keep-larger`: labels `custom:keep-larger`. */
  name: string;
  /** The absolute path it was imported from. */
  path: string;
  resolve: ResolverFunction;
}

/** A resolver module could not be loaded; every problem names its field. */
export class ResolverLoadError extends SheetsyncError {
  override name = 'ResolverLoadError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      'SHEETSYNC_E105',
      `Cannot load the custom conflict resolvers of ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/** The label of a resolver module: its file name without the extension. */
export function resolverName(path: string): string {
  return basename(path, extname(path));
}

/**
 * Imports the resolver module of every link that uses `custom` (paths already resolved by
 * parseConfig); link name → resolver. Throws ResolverLoadError listing every module at fault.
 */
export async function loadResolvers(
  config: SheetsyncConfig,
  source = 'config',
): Promise<Map<string, LoadedResolver>> {
  const loaded = new Map<string, LoadedResolver>();
  const problems: string[] = [];
  for (const [i, link] of config.links.entries()) {
    const path = link.conflict.resolver;
    if (path === undefined) continue;
    const field = `links[${i}].conflict.resolver`;
    if (!existsSync(path)) {
      problems.push(
        `${field}: no file ${path}; the path is relative to the config file (on Google Cloud: to ` +
          'the bundle, as `npm run package -- --config FILE` writes it); fix the path or create the module',
      );
      continue;
    }
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (error) {
      problems.push(
        `${field}: importing ${path} failed: ${(error as Error).message}; fix the module ` +
          '(an ES module; .ts runs locally through tsx and is bundled by npm run package)',
      );
      continue;
    }
    if (typeof module.default !== 'function') {
      problems.push(
        `${field}: ${path} has no default export function (found ${describe(module.default)}); ` +
          "write `export default (conflict) => 'sheet' | 'db' | { value }`",
      );
      continue;
    }
    loaded.set(link.name, {
      name: resolverName(path),
      path,
      resolve: module.default as ResolverFunction,
    });
  }
  if (problems.length > 0) throw new ResolverLoadError(source, problems);
  return loaded;
}

function describe(value: unknown): string {
  if (value === undefined) return 'no default export';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

/**
 * Every link's conflict policy, link name → policy: the resolver modules imported (or given, as
 * loaded by an earlier check) and wrapped with the column types of their links' tables.
 */
export async function loadConflictPolicies(
  config: SheetsyncConfig,
  options: {
    sql: postgres.Sql;
    logger: Logger;
    source?: string;
    resolvers?: Map<string, LoadedResolver>;
    /** How a link's table is described: another engine's Table port (MySQL); default PostgreSQL's on `sql`. */
    describe?: (table: string, link: LinkConfig) => Promise<TableSchema>;
  },
): Promise<Map<string, ConflictPolicy>> {
  const resolvers = options.resolvers ?? (await loadResolvers(config, options.source));
  const policies = new Map<string, ConflictPolicy>();
  for (const link of config.links) {
    const resolver = resolvers.get(link.name);
    let custom: CustomPolicy | undefined;
    if (resolver) {
      const schema = options.describe
        ? await options.describe(link.table, link)
        : await describeTable(options.sql, link.table);
      const types = Object.fromEntries(schema.columns.map((c) => [c.name, parseColumnType(c.type)]));
      custom = customPolicy({ link: link.name, resolver, types, logger: options.logger });
    }
    policies.set(link.name, conflictPolicyOf(link, custom));
  }
  return policies;
}

export interface CustomPolicyOptions {
  link: string;
  resolver: LoadedResolver;
  /** The linked table's column types, for checking a computed value. */
  types: Record<string, ColumnType>;
  logger: Logger;
}

/**
 * The resolver as the core's CustomPolicy, wrapped so that a failing resolver leaves the
 * conflict open for a person: it answers UNDECIDED, which the core decides as `manual` would
 * (the DB value kept, the record open) under the label `custom:<module>`.
 */
export function customPolicy(options: CustomPolicyOptions): CustomPolicy {
  const { link, resolver, types, logger } = options;
  const label = `custom:${resolver.name}`;
  const fail = (conflict: ConflictInput, problem: string): Undecided => {
    logger.error(
      `custom conflict resolver ${resolver.name} ${problem}; the database value is kept and the ` +
        'conflict left open for a person to resolve (sheetsync conflicts resolve, or the dashboard)',
      { link, rowId: conflict.rowId, column: conflict.column, code: 'SHEETSYNC_E411' },
    );
    return UNDECIDED;
  };
  return {
    name: label,
    resolve(conflict): ConflictChoice | Undecided {
      let choice: unknown;
      try {
        // A copy: a resolver that changes its argument cannot touch the change being decided.
        choice = resolver.resolve(structuredClone({ ...conflict, link }));
      } catch (error) {
        // Its message may quote the values the resolver saw: only at DEBUG.
        logger.debug(`custom conflict resolver ${resolver.name} threw: ${firstLine(error)}`, {
          link,
          rowId: conflict.rowId,
          column: conflict.column,
          code: 'SHEETSYNC_E411',
        });
        const kind = error instanceof Error ? error.name : typeof error;
        return fail(conflict, `threw (${kind}; its message is logged at DEBUG)`);
      }
      if (choice === 'sheet' || choice === 'db') return choice;
      if (isPromise(choice)) {
        return fail(conflict, 'returned a Promise; a resolver must decide synchronously');
      }
      if (!isValueChoice(choice)) {
        return fail(conflict, `returned ${describeChoice(choice)} instead of 'sheet', 'db' or { value }`);
      }
      if (!isCellValue(choice.value)) {
        return fail(
          conflict,
          'returned a value that is not JSON data (a string, number, boolean, null, array or object)',
        );
      }
      const type = types[conflict.column];
      if (!type) return fail(conflict, `decided column ${conflict.column}, which the table does not have`);
      const coerced = fromDb(choice.value, type);
      if (!coerced.ok) {
        // The reason is about the value's form (e.g. "is not a whole number"), not the value.
        return fail(conflict, `returned a value that does not fit the column (${type.name})`);
      }
      return { value: coerced.value };
    },
  };
}

/** Plain JSON data, as cells hold (no Date, Map, class instance, NaN or Infinity). */
function isCellValue(value: unknown): value is CellValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isCellValue);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every(isCellValue);
}

function isPromise(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isValueChoice(value: unknown): value is { value: CellValue } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.hasOwn(value, 'value') &&
    (value as { value?: unknown }).value !== undefined
  );
}

/** What a resolver returned, by shape only (never the values). */
function describeChoice(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  if (typeof value === 'string') return 'another string';
  return `a ${typeof value}`;
}

/** An error's message, first line, at most 200 characters. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').slice(0, 200);
}
