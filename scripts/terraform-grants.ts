/**
 * Every IAM grant the Terraform module makes, expanded per instance: `for_each` over a local, a
 * `toset([...])` of literals, a map literal, or `toset([for key, fn in local.X : key if fn.F])`
 * (the forms terraform/ uses; any other form is reported, not guessed), with `each.key` and
 * `each.value` put in. Principals and targets are named by the Terraform address they refer to:
 *
 *   principal  `function:apply_to_db` (google_service_account.function["apply_to_db"]),
 *              `account:scheduler`, `allUsers`, `pubsub-service-agent`
 *   target     `project`, or the resource: `google_pubsub_topic.sheet_changes`,
 *              `google_cloudfunctions2_function.sheetsync["reconcile"]`, …
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

// biome-ignore lint/suspicious/noExplicitAny: parsed HCL JSON, walked along known paths
export type Body = Record<string, any>;

export interface Grant {
  /** `google_x_iam_member.name["key"]` */
  address: string;
  principal: string;
  role: string;
  target: string;
}

export interface ParsedModule {
  locals: Body;
  /** type → name → first block */
  resources: Record<string, Record<string, Body>>;
  outputs: Record<string, Body>;
}

export async function parseModule(dir: string): Promise<ParsedModule> {
  const module: ParsedModule = { locals: {}, resources: {}, outputs: {} };
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.tf'))) {
    const body = (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Body;
    for (const locals of (body.locals ?? []) as Body[]) Object.assign(module.locals, locals);
    // A local read from a JSON file of the module (`jsondecode(file("${path.module}/x.json"))`).
    for (const [name, value] of Object.entries(module.locals)) {
      const json = /^jsondecode\(file\("\$\{path\.module\}\/([\w.-]+)"\)\)$/.exec(expressionOf(value) ?? '');
      if (json) module.locals[name] = JSON.parse(readFileSync(join(dir, json[1]!), 'utf8'));
    }
    for (const [type, named] of Object.entries(
      (body.resource ?? {}) as Record<string, Record<string, Body[]>>,
    ))
      for (const [name, blocks] of Object.entries(named)) {
        module.resources[type] ??= {};
        module.resources[type][name] = blocks[0] ?? {};
      }
    for (const [name, blocks] of Object.entries((body.output ?? {}) as Record<string, Body[]>))
      module.outputs[name] = blocks[0] ?? {};
  }
  return module;
}

/** The expression inside a whole-string interpolation `${…}`, or undefined. */
export function expressionOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\$\{([\s\S]*)\}$/.exec(value);
  return match?.[1]?.trim();
}

/** The instances a `for_each` makes, as [key, value] pairs; one unkeyed instance without it. */
export function instancesOf(block: Body, locals: Body): Array<[string | undefined, unknown]> {
  if (!('for_each' in block)) return [[undefined, undefined]];
  return evaluateCollection(block.for_each, locals);
}

function evaluateCollection(value: unknown, locals: Body): Array<[string, unknown]> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value);
  const expression = expressionOf(value);
  if (expression === undefined) throw new Error(`cannot evaluate for_each ${JSON.stringify(value)}`);
  const local = /^local\.(\w+)$/.exec(expression);
  if (local) {
    if (!(local[1]! in locals)) throw new Error(`local.${local[1]} is not defined`);
    return evaluateCollection(locals[local[1]!], locals);
  }
  const literal = /^toset\(\[((?:\s*"[^"]*"\s*,?)*)\]\)$/.exec(expression);
  if (literal) return [...literal[1]!.matchAll(/"([^"]*)"/g)].map((m) => [m[1]!, m[1]!]);
  const filtered = /^toset\(\[for (\w+), (\w+) in local\.(\w+) : \1 if \2\.(\w+)\]\)$/.exec(expression);
  if (filtered) {
    const source = evaluateCollection(`\${local.${filtered[3]}}`, locals);
    return source.filter(([, v]) => (v as Body)?.[filtered[4]!] === true).map(([k]) => [k, k]);
  }
  throw new Error(`cannot evaluate for_each \${${expression}}`);
}

/** `value` with `each.key` and `each.value[.x]` of one instance put in. */
export function substitute(value: unknown, key: string | undefined, each: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  const whole = expressionOf(value);
  // `${each.value.topic}` whose value is itself an expression: take that expression.
  const field = whole && /^each\.value(?:\.(\w+))?$/.exec(whole);
  if (field) {
    const picked = field[1] ? (each as Body)?.[field[1]] : each;
    return typeof picked === 'string' ? picked : JSON.stringify(picked);
  }
  return value
    .replace(/each\.key/g, JSON.stringify(key ?? null))
    .replace(/each\.value\.(\w+)/g, (_, name: string) => JSON.stringify((each as Body)?.[name] ?? null))
    .replace(/each\.value/g, JSON.stringify(each ?? null));
}

/** The resource address a `${type.name[...].attr}` expression refers to, or the text itself. */
export function addressOf(text: string): string {
  const expression = expressionOf(text) ?? text;
  const reference = /^(google_\w+)\.(\w+)(\["[^"]*"\])?\.\w+$/.exec(expression);
  return reference ? `${reference[1]}.${reference[2]}${reference[3] ?? ''}` : expression;
}

function principalOf(member: string): string {
  if (member === 'allUsers' || member === 'allAuthenticatedUsers') return member;
  const expression = expressionOf(member) ?? member;
  if (expression === 'local.pubsub_service_agent') return 'pubsub-service-agent';
  const fn = /^google_service_account\.function\["(\w+)"\]\.(member|email)$/.exec(expression);
  if (fn) return `function:${fn[1]}`;
  const account = /^google_service_account\.(\w+)\.(member|email)$/.exec(expression);
  if (account) return `account:${account[1]}`;
  return member;
}

/** The argument that names what an IAM member resource grants on. */
const TARGET_ARGUMENT: Record<string, string> = {
  google_project_iam_member: 'project',
  google_pubsub_topic_iam_member: 'topic',
  google_pubsub_subscription_iam_member: 'subscription',
  google_secret_manager_secret_iam_member: 'secret_id',
  google_cloud_run_service_iam_member: 'service',
  google_service_account_iam_member: 'service_account_id',
  google_storage_bucket_iam_member: 'bucket',
};

/** Every grant of every `*_iam_member` resource; `problems` lists what could not be expanded. */
export function grantsOf(module: ParsedModule): { grants: Grant[]; problems: string[] } {
  const grants: Grant[] = [];
  const problems: string[] = [];
  for (const [type, named] of Object.entries(module.resources)) {
    if (!type.endsWith('_iam_member')) continue;
    const argument = TARGET_ARGUMENT[type];
    for (const [name, block] of Object.entries(named)) {
      let instances: Array<[string | undefined, unknown]>;
      try {
        instances = instancesOf(block, module.locals);
      } catch (error) {
        problems.push(`${type}.${name}: ${(error as Error).message}`);
        continue;
      }
      for (const [key, each] of instances) {
        const target =
          type === 'google_project_iam_member'
            ? 'project'
            : argument
              ? addressOf(substitute(block[argument], key, each))
              : '(unknown target)';
        grants.push({
          address: `${type}.${name}${key === undefined ? '' : `["${key}"]`}`,
          principal: principalOf(substitute(block.member, key, each)),
          role: substitute(block.role, key, each),
          target,
        });
      }
    }
  }
  return { grants, problems };
}
