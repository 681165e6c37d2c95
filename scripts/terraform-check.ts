/**
 * Offline check of a Terraform root module against the committed google provider schema extract
 * (terraform/schema/google-provider.json, made by scripts/extract-provider-schema.ts). It stands
 * in for `terraform validate`, which needs the provider binary this machine cannot download.
 *
 * It parses every `.tf` file with @cdktf/hcl2json (HCL → JSON, as Terraform's own JSON syntax)
 * and reports:
 * - resource and data source types the provider does not have;
 * - arguments and nested blocks the schema does not have (with the nearest known name), computed
 *   attributes that are set, a single block given twice, and missing required arguments/blocks;
 * - references (`var.x`, `local.x`, `google_x.name.attr`, `data.x.y.attr`, `module.m`) that do not
 *   resolve to a declaration, or to an attribute or block of the referenced type.
 *
 * Usage: `npx tsx scripts/terraform-check.ts [dir]` (default terraform/); exit 1 on findings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getReferencesInExpression, parse } from '@cdktf/hcl2json';
import type { BlockSchema, ProviderSchemaExtract } from './extract-provider-schema.ts';

export interface Finding {
  /** `file.tf: resource.google_x.name.block.argument` */
  where: string;
  message: string;
}

type HclBody = Record<string, unknown>;

/** Arguments Terraform itself defines on every resource and data block. */
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'depends_on',
  'provider',
  'lifecycle',
  'provisioner',
  'connection',
]);
/** Reference roots that are not declarations. */
const BUILTIN_ROOTS = new Set(['each', 'count', 'path', 'self', 'terraform']);

export function loadSchema(path = new URL('../terraform/schema/google-provider.json', import.meta.url)) {
  return JSON.parse(readFileSync(path, 'utf8')) as ProviderSchemaExtract;
}

export async function checkTerraformDir(dir: string, schema: ProviderSchemaExtract): Promise<Finding[]> {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.tf'))
    .sort();
  const parsed: Array<{ file: string; body: HclBody }> = [];
  for (const file of files) {
    parsed.push({ file, body: (await parse(file, readFileSync(join(dir, file), 'utf8'))) as HclBody });
  }
  const declared = collectDeclarations(parsed.map((p) => p.body));
  const findings: Finding[] = [];
  for (const { file, body } of parsed) {
    for (const [kind, schemas] of [
      ['resource', schema.resources],
      ['data', schema.dataSources],
    ] as const) {
      for (const [type, instances] of entries(body[kind])) {
        for (const [name, blocks] of entries(instances)) {
          const where = `${file}: ${kind === 'data' ? 'data.' : ''}${type}.${name}`;
          const typeSchema = schemas[type];
          if (!typeSchema) {
            findings.push({
              where,
              message: `unknown ${kind === 'data' ? 'data source' : 'resource'} type ${type}`,
            });
            continue;
          }
          for (const block of asBlocks(blocks)) checkBlock(block, typeSchema, where, true, findings);
        }
      }
    }
    for (const { where, expression } of expressionsOf(file, body)) {
      let references: string[];
      try {
        references = await referencesIn(expression);
      } catch (error) {
        findings.push({
          where,
          message: `cannot parse expression: ${(error as Error).message.slice(0, 200)}`,
        });
        continue;
      }
      for (const reference of references) {
        const problem = resolveReference(reference, declared, schema);
        if (problem) findings.push({ where, message: problem });
      }
    }
  }
  return findings;
}

function checkBlock(
  body: HclBody,
  schema: BlockSchema,
  where: string,
  topLevel: boolean,
  findings: Finding[],
) {
  const present = new Set<string>();
  for (const [key, value] of Object.entries(body)) {
    if (topLevel && META_ARGUMENTS.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, dynamics] of entries(value)) {
        present.add(name);
        const nested = schema.blocks[name];
        if (!nested) {
          findings.push({ where: `${where}.dynamic.${name}`, message: unknownMessage(name, schema) });
          continue;
        }
        for (const dynamic of asBlocks(dynamics))
          for (const content of asBlocks(dynamic.content))
            checkBlock(content, nested, `${where}.${name}`, false, findings);
      }
      continue;
    }
    present.add(key);
    const nested = schema.blocks[key];
    if (nested) {
      const blocks = asBlocks(value);
      if (nested.nesting === 'single' && blocks.length > 1)
        findings.push({
          where: `${where}.${key}`,
          message: `${key} is a single block but appears ${blocks.length} times`,
        });
      for (const block of blocks) checkBlock(block, nested, `${where}.${key}`, false, findings);
      continue;
    }
    const flag = schema.attributes[key];
    if (flag === undefined) findings.push({ where: `${where}.${key}`, message: unknownMessage(key, schema) });
    else if (flag === 'computed')
      findings.push({
        where: `${where}.${key}`,
        message: `${key} is computed by the provider and cannot be set`,
      });
  }
  for (const [name, flag] of Object.entries(schema.attributes))
    if (flag === 'required' && !present.has(name))
      findings.push({ where, message: `required argument ${name} is missing` });
  for (const [name, nested] of Object.entries(schema.blocks))
    if (nested.required && !present.has(name))
      findings.push({ where, message: `required block ${name} is missing` });
}

function unknownMessage(name: string, schema: BlockSchema): string {
  const known = [...Object.keys(schema.attributes), ...Object.keys(schema.blocks)];
  const nearest = known
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .sort((a, b) => a.distance - b.distance)[0];
  const hint = nearest && nearest.distance <= 3 ? ` (did you mean ${nearest.candidate}?)` : '';
  return `unknown argument or block ${name}${hint}`;
}

interface Declarations {
  variables: Set<string>;
  locals: Set<string>;
  modules: Set<string>;
  /** `google_x.name` and `data.google_x.name` */
  instances: Set<string>;
  /** The instances with `count` or `for_each`, which references must index. */
  repeated: Set<string>;
  /** Labels of `dynamic "x"` blocks: `x.key`/`x.value` are valid inside them. */
  iterators: Set<string>;
}

function collectDeclarations(bodies: HclBody[]): Declarations {
  const declared: Declarations = {
    variables: new Set(),
    locals: new Set(),
    modules: new Set(),
    instances: new Set(),
    repeated: new Set(),
    iterators: new Set(),
  };
  const findIterators = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) findIterators(item);
    else if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'dynamic') for (const name of Object.keys(inner as object)) declared.iterators.add(name);
        findIterators(inner);
      }
  };
  for (const body of bodies) {
    for (const name of Object.keys(body.variable ?? {})) declared.variables.add(name);
    for (const name of Object.keys(body.module ?? {})) declared.modules.add(name);
    for (const block of asBlocks(body.locals))
      for (const name of Object.keys(block)) declared.locals.add(name);
    for (const [prefix, kind] of [
      ['', body.resource],
      ['data.', body.data],
    ] as const)
      for (const [type, instances] of entries(kind))
        for (const [name, blocks] of entries(instances)) {
          declared.instances.add(`${prefix}${type}.${name}`);
          if (asBlocks(blocks).some((block) => 'count' in block || 'for_each' in block))
            declared.repeated.add(`${prefix}${type}.${name}`);
        }
    findIterators(body.resource);
  }
  return declared;
}

/** Every string that holds an expression, with where it is; skips type constraints and lifecycle lists. */
function expressionsOf(file: string, body: HclBody): Array<{ where: string; expression: string }> {
  const out: Array<{ where: string; expression: string }> = [];
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      if (value.includes('${')) out.push({ where, expression: value });
    } else if (Array.isArray(value)) for (const item of value) walk(item, where);
    else if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'type' && where.includes('variable.')) continue;
        if (key === 'lifecycle' || key === 'required_providers') continue;
        walk(inner, `${where}.${key}`);
      }
  };
  for (const [key, value] of Object.entries(body)) walk(value, `${file}: ${key}`);
  return out;
}

/**
 * The references in a template string. Each `${…}` is parsed on its own: outside them, hcl2json
 * hands us the literal text unescaped (quotes included), which is not valid template syntax.
 */
async function referencesIn(template: string): Promise<string[]> {
  const references: string[] = [];
  for (const interpolation of interpolations(template)) {
    for (const reference of await getReferencesInExpression('check.tf', interpolation))
      references.push(reference.value);
  }
  return references;
}

/** `${…}` segments of a template, braces balanced (literal braces in nested strings are rare here). */
export function interpolations(template: string): string[] {
  const out: string[] = [];
  for (let start = template.indexOf('${'); start >= 0; start = template.indexOf('${', start + 2)) {
    let depth = 0;
    for (let i = start + 1; i < template.length; i++) {
      if (template[i] === '{') depth++;
      else if (template[i] === '}' && --depth === 0) {
        out.push(template.slice(start, i + 1));
        start = i - 1;
        break;
      }
    }
  }
  return out;
}

const isIndex = (segment: string) => /^\d+$/.test(segment) || segment.startsWith('"') || segment === '*';

/** Why `reference` does not resolve, or undefined when it does. */
export function resolveReference(reference: string, declared: Declarations, schema: ProviderSchemaExtract) {
  const segments = reference.split('.');
  const [root = '', second = ''] = segments;
  if (BUILTIN_ROOTS.has(root) || declared.iterators.has(root)) return undefined;
  if (root === 'var') return declared.variables.has(second) ? undefined : `var.${second} is not declared`;
  if (root === 'local') return declared.locals.has(second) ? undefined : `local.${second} is not defined`;
  if (root === 'module') return declared.modules.has(second) ? undefined : `module.${second} is not declared`;
  const isData = root === 'data';
  const [type = '', name = '', ...rest] = isData ? segments.slice(1) : segments;
  const typeSchema = isData ? schema.dataSources[type] : schema.resources[type];
  if (!typeSchema) return `${reference}: ${type || root} is neither a declared name nor a known type`;
  const instance = `${isData ? 'data.' : ''}${type}.${name}`;
  if (!declared.instances.has(instance)) return `${instance} is not declared`;
  // hcl2json drops an index that is an expression (`x[each.key].id` → `x`), so only a reference
  // that goes on to an attribute shows whether it was indexed.
  const [first] = rest;
  if (first !== undefined) {
    if (declared.repeated.has(instance) && !isIndex(first))
      return `${reference}: ${instance} has count or for_each, so it needs an index before .${first}`;
    if (!declared.repeated.has(instance) && isIndex(first))
      return `${reference}: ${instance} has neither count nor for_each, so it cannot be indexed`;
  }
  let block: BlockSchema = typeSchema;
  for (const segment of rest) {
    if (isIndex(segment)) continue;
    if (segment === 'id' || block.attributes[segment] !== undefined) return undefined;
    const nested = block.blocks[segment];
    if (!nested) return `${reference}: ${type} has no attribute ${segment}`;
    block = nested;
  }
  return undefined;
}

function entries(value: unknown): Array<[string, unknown]> {
  return value && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];
}

function asBlocks(value: unknown): HclBody[] {
  if (Array.isArray(value))
    return value.filter((item): item is HclBody => !!item && typeof item === 'object');
  return value && typeof value === 'object' ? [value as HclBody] : [];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? new URL('../terraform', import.meta.url).pathname;
  const findings = await checkTerraformDir(dir, loadSchema());
  for (const finding of findings) console.error(`${finding.where}: ${finding.message}`);
  console.log(findings.length === 0 ? `${dir}: no findings` : `${dir}: ${findings.length} finding(s)`);
  process.exitCode = findings.length === 0 ? 0 : 1;
}
