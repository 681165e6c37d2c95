/**
 * `sheetsync conflicts list|resolve`: the open conflicts of the running local stack, and a
 * person's choice for one. Resolution goes through the stack (its dashboard API), which records
 * the choice and publishes the change that carries the chosen value to the DB and the sheet.
 */
import { parseArgs } from 'node:util';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import type { ResolveConflictRequest } from '../../functions/src/wire/dashboard.ts';
import { callStack, readLocalStack } from './local-stack.ts';

export async function listConflicts(stateDir: string): Promise<ConflictRecord[]> {
  return (await callStack(readLocalStack(stateDir), '/api/conflicts')) as ConflictRecord[];
}

export async function resolveConflict(
  stateDir: string,
  id: string,
  choice: ResolveConflictRequest,
): Promise<ConflictRecord> {
  return (await callStack(
    readLocalStack(stateDir),
    `/api/conflicts/${encodeURIComponent(id)}/resolve`,
    choice,
  )) as ConflictRecord;
}

export function formatConflicts(conflicts: readonly ConflictRecord[]): string {
  if (conflicts.length === 0) return 'no open conflicts\n';
  const show = (value: unknown) => (value === null ? '(empty)' : JSON.stringify(value));
  return `${conflicts
    .map(
      (c) =>
        `${c.id}  ${c.link} row ${c.rowId} column "${c.column}" (${c.reason})\n` +
        `    sheet: ${show(c.sheet.value)}   db: ${show(c.db.value)}   now: ${show(c.value)}`,
    )
    .join(
      '\n',
    )}\n${conflicts.length} open; resolve with: sheetsync conflicts resolve ID --take sheet|db (or --value V)\n`;
}

/** `--value` text as a cell value: JSON when it parses (numbers, true, null), else the text. */
export function parseValueArgument(text: string): ResolveConflictRequest {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || ['number', 'boolean', 'string'].includes(typeof value)) {
      return { value: value as string | number | boolean | null };
    }
  } catch {
    // plain text
  }
  return { value: text };
}

export const CONFLICTS_USAGE = `  conflicts list [--json]
               the open conflicts of the running \`npm start\`, each with both values
  conflicts resolve ID --take sheet|db | --value V [--json]
               settle one: the chosen value reaches the database and the sheet
               --state-dir DIR   its state directory (default .sheetsync)
`;

/** `sheetsync conflicts list|resolve …`: 0 ok, 1 not running or refused, 2 usage. */
export async function runConflictsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  let parsed: ReturnType<typeof parseConflictArgs>;
  try {
    parsed = parseConflictArgs(rest);
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const stateDir = values['state-dir'];
  if (sub === 'list') {
    if (positionals.length > 0) return usage(`unexpected argument "${positionals[0]}"`);
    const conflicts = await listConflicts(stateDir);
    process.stdout.write(values.json ? `${JSON.stringify(conflicts)}\n` : formatConflicts(conflicts));
    return 0;
  }
  if (sub === 'resolve') {
    const [id, ...extra] = positionals;
    if (!id || extra.length > 0) return usage('resolve takes one conflict ID');
    const take = values.take;
    if ((take === undefined) === (values.value === undefined)) return usage('give either --take or --value');
    if (take !== undefined && take !== 'sheet' && take !== 'db') return usage('--take is sheet or db');
    const choice: ResolveConflictRequest =
      take === 'sheet' || take === 'db' ? { take } : parseValueArgument(values.value!);
    const resolved = await resolveConflict(stateDir, id, choice);
    process.stdout.write(
      values.json
        ? `${JSON.stringify(resolved)}\n`
        : `resolved ${resolved.id}: "${resolved.column}" = ${JSON.stringify(resolved.resolution?.value ?? null)} ` +
            '(on its way to the database and the sheet)\n',
    );
    return 0;
  }
  return usage(sub ? `unknown subcommand "${sub}"` : 'list or resolve?');
}

function parseConflictArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'state-dir': { type: 'string', default: '.sheetsync' },
      json: { type: 'boolean', default: false },
      take: { type: 'string' },
      value: { type: 'string' },
    },
  });
}

function usage(message: string): number {
  process.stderr.write(`sheetsync conflicts: ${message}\n\n${CONFLICTS_USAGE}`);
  return 2;
}
