/**
 * The links config: which sheet tab syncs with which table, and how conflicts are settled.
 * Read from a JSON file (or the SHEETSYNC_LINKS environment variable on Google Cloud) and parsed
 * once at start-up; a wrong config fails with a message that names the field.
 */
import * as v from 'valibot';

/** A conflict policy name (DESIGN.md §2, Conflicts). `custom` needs `resolver`. */
export const ConflictPolicyName = v.picklist([
  'last-writer-wins',
  'sheet-wins',
  'db-wins',
  'manual',
  'custom',
]);
export type ConflictPolicyName = v.InferOutput<typeof ConflictPolicyName>;

const identifier = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(63, 'must be at most 63 characters (PostgreSQL identifier limit)'),
);

/** `schema.table` or `table` (schema public). Quoted forms are not accepted: name it as it is. */
const TableName = v.pipe(
  v.string(),
  v.regex(
    /^[^."\s]+(\.[^."\s]+)?$/,
    'must be "schema.table" or "table", without quotes or spaces (e.g. "public.leads")',
  ),
);

export const ConflictConfig = v.pipe(
  v.strictObject({
    /** The link's policy. Default: last-writer-wins. */
    policy: v.optional(ConflictPolicyName, 'last-writer-wins'),
    /** Per-column overrides: column name → policy. */
    columns: v.optional(v.record(identifier, ConflictPolicyName), {}),
    /**
     * For `custom`: the path of an ES module (.js, .mjs, or .ts run through tsx), relative to the
     * config file, whose default export decides a conflict: `(conflict) => 'sheet' | 'db' |
     * { value }` (functions/src/custom-resolver.ts). One module per link.
     */
    resolver: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
  }),
  v.forward(
    v.check(
      (c) =>
        (c.policy !== 'custom' && !Object.values(c.columns).includes('custom')) || c.resolver !== undefined,
      'policy "custom" needs "resolver": the path of a module that exports the resolver',
    ),
    ['resolver'],
  ),
  v.forward(
    v.check(
      (c) => c.resolver === undefined || c.policy === 'custom' || Object.values(c.columns).includes('custom'),
      'is set but no policy is "custom"; set "policy": "custom" (or a column\'s) or remove "resolver"',
    ),
    ['resolver'],
  ),
);
export type ConflictConfig = v.InferOutput<typeof ConflictConfig>;

/**
 * The mass-change guard's thresholds (core/mass-change.ts): one event or run that would delete
 * more than `maxDeleteRows` rows and more than `maxDeleteShare` of the link's rows is held for
 * a person to approve or discard.
 */
export const SafetyConfig = v.strictObject({
  maxDeleteRows: v.optional(
    v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(0, 'must be 0 or more')),
    20,
  ),
  maxDeleteShare: v.optional(
    v.pipe(v.number(), v.minValue(0, 'must be between 0 and 1'), v.maxValue(1, 'must be between 0 and 1')),
    0.1,
  ),
});
export type SafetyConfig = v.InferOutput<typeof SafetyConfig>;

export const LinkConfig = v.strictObject({
  /** Unique name; appears in logs, Firestore paths and ordering keys. */
  name: v.pipe(
    v.string(),
    v.regex(
      /^[a-z0-9][a-z0-9_-]{0,62}$/,
      'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
    ),
  ),
  spreadsheetId: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  /** The tab title. */
  sheet: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(100)),
  table: TableName,
  /** Columns to sync; default: every column of the table. */
  columns: v.optional(v.pipe(v.array(identifier), v.minLength(1, 'must list at least one column'))),
  /**
   * The columns that identify a row to people, when the primary key is not the one to use (a
   * serial id the sheet does not show): a unique, not-null column set, checked at start-up
   * (adapters/table/link-key.ts). A new sheet row whose key the table holds updates that row.
   * Default: the table's primary key.
   */
  key: v.optional(v.pipe(v.array(identifier), v.minLength(1, 'must list at least one column'))),
  conflict: v.optional(ConflictConfig, { policy: 'last-writer-wins', columns: {} }),
  /**
   * Whether a table column missing from the sheet gets a header when it changes. Default false:
   * a column added to the table later (say `password_hash`) must not appear before everyone who
   * can read the sheet unless the operator says so. The columns `columns` lists get their header
   * whatever this says (the operator chose them), and so does every column on a tab with no
   * headers yet (it shows its table, as attach would).
   */
  addMissingHeaders: v.optional(v.boolean(), false),
  /**
   * Whether a sheet header the table lacks adds a table column (issue 19): typed `numeric` when
   * every value typed under it is a number, `boolean` when every one is true/false, else `text`.
   * Only a header of letters, digits and underscores (at most 63) becomes a column; others are
   * reported (SHEETSYNC_E426). Default false: a schema change from a sheet is the operator's choice.
   */
  addMissingColumns: v.optional(v.boolean('must be true or false'), false),
  /**
   * Who changed what (issue 22 item 4): each sheet change writes the editing person's email, as
   * the Apps Script has it (`e.user`), to this table column. Google gives it only for users of
   * the spreadsheet owner's Workspace domain (empty for consumer accounts and others): an edit
   * without it leaves the column as it was. Default: no column.
   */
  attribution: v.optional(v.strictObject({ column: identifier })),
  safety: v.optional(SafetyConfig, { maxDeleteRows: 20, maxDeleteShare: 0.1 }),
  /**
   * The version of the spreadsheet's webhook secret (sheet-webhook/signature.ts,
   * spreadsheetSecret). Raise it to rotate that spreadsheet's secret alone; links of one
   * spreadsheet share it.
   */
  secretVersion: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1)), 1),
});
export type LinkConfig = v.InferOutput<typeof LinkConfig>;

export const SheetsyncConfig = v.pipe(
  v.strictObject({
    links: v.pipe(v.array(LinkConfig), v.minLength(1, 'must hold at least one link')),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Map<string, number>();
    const versions = new Map<string, { version: number; index: number }>();
    dataset.value.links.forEach((link, index) => {
      const version = versions.get(link.spreadsheetId);
      if (!version) versions.set(link.spreadsheetId, { version: link.secretVersion, index });
      else if (version.version !== link.secretVersion)
        addIssue({
          message: `is ${link.secretVersion}, but links[${version.index}] of the same spreadsheet says ${version.version}; a spreadsheet has one secret, so its links must agree`,
          path: [
            {
              type: 'object',
              origin: 'value',
              input: dataset.value,
              key: 'links',
              value: dataset.value.links,
            },
            { type: 'array', origin: 'value', input: dataset.value.links, key: index, value: link },
            {
              type: 'object',
              origin: 'value',
              input: link,
              key: 'secretVersion',
              value: link.secretVersion,
            },
          ],
        });
      const first = seen.get(link.name);
      if (first === undefined) seen.set(link.name, index);
      else
        addIssue({
          message: `duplicate link name "${link.name}" (also used by links[${first}]); link names must be unique`,
          path: [
            {
              type: 'object',
              origin: 'value',
              input: dataset.value,
              key: 'links',
              value: dataset.value.links,
            },
            { type: 'array', origin: 'value', input: dataset.value.links, key: index, value: link },
            { type: 'object', origin: 'value', input: link, key: 'name', value: link.name },
          ],
        });
    });
  }),
);
export type SheetsyncConfig = v.InferOutput<typeof SheetsyncConfig>;

/** The secret version of spreadsheet `spreadsheetId` (1 for a spreadsheet no link names). */
export function secretVersionOf(config: SheetsyncConfig, spreadsheetId: string): number {
  return config.links.find((l) => l.spreadsheetId === spreadsheetId)?.secretVersion ?? 1;
}
