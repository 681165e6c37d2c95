/**
 * Loading the links config. Every problem is reported with the path of the field at fault
 * (`links[1].table: …`) and what to do, all problems at once, before anything starts.
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import type { ConflictPolicy, PolicyName } from './core/conflict-policy.ts';
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

/** Parses a config object; throws ConfigError naming each wrong field. */
export function parseConfig(input: unknown, source = 'config'): SheetsyncConfig {
  const result = v.safeParse(SheetsyncConfig, input, { abortEarly: false });
  if (result.success) return result.output;
  throw new ConfigError(source, result.issues.map(describeIssue));
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
  return parseConfig(json, path);
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
 * A link's conflict settings as the core's policy. `custom` is refused (SHEETSYNC_E103) rather
 * than silently settled by another rule than the one configured.
 */
export function conflictPolicyOf(link: LinkConfig): ConflictPolicy {
  const name = (policy: string): PolicyName => {
    if (policy === 'custom') {
      throw new SheetsyncError(
        'SHEETSYNC_E103',
        `link ${link.name}: conflict policy "custom" is not supported in this version; use a built-in policy`,
      );
    }
    return policy as PolicyName;
  };
  return {
    default: name(link.conflict.policy),
    columns: Object.fromEntries(Object.entries(link.conflict.columns).map(([c, p]) => [c, name(p)])),
  };
}
