/**
 * Loading the links config. Every problem is reported with the path of the field at fault
 * (`links[1].table: …`) and what to do, all problems at once, before anything starts.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as v from 'valibot';
import type { ColumnPolicy, ConflictPolicy, CustomPolicy } from './core/conflict-policy.ts';
import { SheetsyncError } from './errors.ts';
import { type LinkConfig, SheetsyncConfig } from './wire/config.ts';

export class ConfigError extends SheetsyncError {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      'SHEETSYNC_E101',
      `Invalid sheetsync config in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/**
 * Parses a config object; throws ConfigError naming each wrong field. A link's
 * `conflict.resolver` comes back as an absolute path, resolved against `baseDir` (the config
 * file's directory; on Google Cloud the bundle's; default: the working directory).
 */
export function parseConfig(
  input: unknown,
  source = 'config',
  options: { baseDir?: string } = {},
): SheetsyncConfig {
  const result = v.safeParse(SheetsyncConfig, input, { abortEarly: false });
  if (!result.success) throw new ConfigError(source, result.issues.map(describeIssue));
  const baseDir = options.baseDir ?? process.cwd();
  for (const link of result.output.links) {
    if (link.conflict.resolver !== undefined) {
      link.conflict.resolver = resolve(baseDir, link.conflict.resolver);
    }
  }
  return result.output;
}

/** Reads and parses a JSON config file. */
export function loadConfigFile(path: string): SheetsyncConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseConfig(json, path, { baseDir: dirname(resolve(path)) });
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? [])
    .map((item, i) =>
      typeof item.key === 'number' ? `[${item.key}]` : `${i === 0 ? '' : '.'}${String(item.key)}`,
    )
    .join('');
  let message = issue.message;
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    message = `unknown field; remove it or check its spelling`;
  } else if (issue.kind === 'schema' && issue.received === 'undefined') {
    message = `is required (${issue.expected})`;
  }
  return `${path || '(top level)'}: ${message}`;
}

/**
 * A link's conflict settings as the core's policy. `custom` (for the link or a column) is the
 * link's resolver, loaded and wrapped beforehand (custom-resolver.ts: loadResolvers, then
 * customPolicy); without it the link is refused (SHEETSYNC_E103) rather than settled by another
 * rule than the one configured.
 */
export function conflictPolicyOf(link: LinkConfig, custom?: CustomPolicy): ConflictPolicy {
  const policy = (name: string): ColumnPolicy => {
    if (name !== 'custom') return name as ColumnPolicy;
    if (custom) return custom;
    throw new SheetsyncError(
      'SHEETSYNC_E103',
      `link ${link.name}: conflict policy "custom" but its resolver module was not loaded; ` +
        'start sheetsync through npm start, sheetsync start or the deployed functions, which load ' +
        'links[].conflict.resolver',
    );
  };
  return {
    default: policy(link.conflict.policy),
    columns: Object.fromEntries(Object.entries(link.conflict.columns).map(([c, p]) => [c, policy(p)])),
  };
}
