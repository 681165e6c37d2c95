/**
 * Extracts the part of the hashicorp/google provider schema that `terraform/` uses into
 * `terraform/schema/google-provider.json`, so the offline schema test can check resource types,
 * arguments and nested blocks without downloading the provider (which this machine cannot do).
 *
 * Source: the `.jsii` assembly of `@cdktf/provider-google`, generated from the provider's own
 * schema. Each resource is a class whose docs link `docs/resources/<type>`; its `<Name>Config`
 * struct lists the arguments (`optional` flag = not required), struct-typed properties are nested
 * blocks (a single struct = at most one block, an array of structs = a list of blocks), and
 * getters that are not arguments are computed (read-only) attributes. Each property's docs link
 * carries the provider's snake_case name as its anchor (`...#push_endpoint`), which we prefer over
 * converting camelCase back by rule.
 *
 * Limit: jsii does not say whether an optional argument is also computed (optional+computed), so
 * arguments are `required` or `optional` and only read-only attributes are `computed`.
 *
 * Re-run (about 300 MB download, outside the repo so package.json stays untouched):
 *   npm install --prefix /tmp/provider-google @cdktf/provider-google
 *   npx tsx scripts/extract-provider-schema.ts /tmp/provider-google
 * When `terraform/` starts using a new resource or data source type, add it to the lists below.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESOURCE_TYPES = [
  'google_cloud_run_service_iam_member',
  'google_cloud_scheduler_job',
  'google_cloudfunctions2_function',
  'google_compute_global_address',
  'google_firestore_database',
  'google_firestore_field',
  'google_logging_metric',
  'google_monitoring_alert_policy',
  'google_monitoring_dashboard',
  'google_monitoring_notification_channel',
  'google_project_iam_member',
  'google_project_service',
  'google_pubsub_subscription',
  'google_pubsub_subscription_iam_member',
  'google_pubsub_topic',
  'google_pubsub_topic_iam_member',
  'google_secret_manager_secret',
  'google_secret_manager_secret_iam_member',
  'google_secret_manager_secret_version',
  'google_service_account',
  'google_service_account_iam_member',
  'google_service_networking_connection',
  'google_sql_database',
  'google_sql_database_instance',
  'google_sql_user',
  'google_storage_bucket',
  'google_storage_bucket_iam_member',
  'google_storage_bucket_object',
  'google_vpc_access_connector',
] as const;

export const DATA_SOURCE_TYPES = [
  'google_compute_network',
  'google_project',
  'google_sql_ca_certs',
  'google_sql_database_instance',
] as const;

/** `required`/`optional` arguments, `computed` = read-only attribute. */
export type AttributeFlag = 'required' | 'optional' | 'computed';

export interface BlockSchema {
  attributes: Record<string, AttributeFlag>;
  blocks: Record<string, NestedBlockSchema>;
}

export interface NestedBlockSchema extends BlockSchema {
  /** `single`: at most one block (max_items = 1); `list`: any number. */
  nesting: 'single' | 'list';
  required: boolean;
}

export interface ProviderSchemaExtract {
  provider: { source: string; version: string; extractedFrom: string };
  resources: Record<string, BlockSchema>;
  dataSources: Record<string, BlockSchema>;
}

interface JsiiTypeRef {
  primitive?: string;
  fqn?: string;
  collection?: { kind: string; elementtype: JsiiTypeRef };
  union?: { types: JsiiTypeRef[] };
}
interface JsiiProperty {
  name: string;
  optional?: boolean;
  static?: boolean;
  type: JsiiTypeRef;
  docs?: { summary?: string; remarks?: string };
}
interface JsiiType {
  fqn: string;
  kind: string;
  datatype?: boolean;
  properties?: JsiiProperty[];
  docs?: { summary?: string };
}

function snakeName(property: JsiiProperty): string {
  const anchor = `${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`.match(
    /#([a-z0-9_]+) \w+#/,
  );
  return anchor?.[1] ?? property.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The struct a block-typed property holds, and whether it is one block or a list of them. */
function blockOf(
  types: Record<string, JsiiType>,
  ref: JsiiTypeRef,
): { fqn: string; nesting: 'single' | 'list' } | undefined {
  const isStruct = (fqn: string | undefined) => fqn !== undefined && types[fqn]?.datatype === true;
  if (isStruct(ref.fqn)) return { fqn: ref.fqn!, nesting: 'single' };
  for (const member of ref.union?.types ?? []) {
    const element = member.collection?.kind === 'array' ? member.collection.elementtype : undefined;
    if (isStruct(element?.fqn)) return { fqn: element!.fqn!, nesting: 'list' };
  }
  return undefined;
}

function readBlock(
  types: Record<string, JsiiType>,
  structFqn: string,
  getterFqn: string | undefined,
): BlockSchema {
  const struct = types[structFqn];
  if (!struct) throw new Error(`jsii type ${structFqn} not found`);
  const schema: BlockSchema = { attributes: {}, blocks: {} };
  const argumentNames = new Set<string>();
  for (const property of struct.properties ?? []) {
    argumentNames.add(property.name);
    const name = snakeName(property);
    const block = blockOf(types, property.type);
    if (block) {
      const nestedGetter = `${block.fqn}OutputReference`;
      schema.blocks[name] = {
        ...readBlock(types, block.fqn, types[nestedGetter] ? nestedGetter : undefined),
        nesting: block.nesting,
        required: property.optional !== true,
      };
    } else {
      schema.attributes[name] = property.optional === true ? 'optional' : 'required';
    }
  }
  // Getters that are not arguments are what the provider computes (ids, URLs, effective_labels).
  for (const getter of (getterFqn ? types[getterFqn]?.properties : undefined) ?? []) {
    if (getter.static || argumentNames.has(getter.name) || getter.name.endsWith('Input')) continue;
    if (['internalValue', 'tfResourceType', 'fqn', 'creationStack'].includes(getter.name)) continue;
    const name = getter.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (!(name in schema.blocks)) schema.attributes[name] = 'computed';
  }
  return schema;
}

export function extractProviderSchema(jsiiPath: string): ProviderSchemaExtract {
  const text = readFileSync(jsiiPath, 'utf8');
  const assembly = JSON.parse(text) as {
    version: string;
    types: Record<string, JsiiType>;
  };
  const classes = new Map<string, JsiiType>();
  for (const type of Object.values(assembly.types)) {
    const link =
      type.kind === 'class'
        ? type.docs?.summary?.match(/docs\/(resources|data-sources)\/\w+ (google_\w+)\}/)
        : null;
    if (link) classes.set(`${link[1]}:${link[2]}`, type);
  }
  const extract = (kind: 'resources' | 'data-sources', names: readonly string[]) => {
    const out: Record<string, BlockSchema> = {};
    for (const name of names) {
      const cls = classes.get(`${kind}:${name}`);
      if (!cls)
        throw new Error(`${name} is not a ${kind} type in @cdktf/provider-google ${assembly.version}`);
      out[name] = readBlock(assembly.types, `${cls.fqn}Config`, cls.fqn);
    }
    return out;
  };
  const providerVersion = text.match(/hashicorp\/google\/(\d+\.\d+\.\d+)\/docs/)?.[1];
  return {
    provider: {
      source: 'hashicorp/google',
      version: providerVersion ?? 'unknown',
      extractedFrom: `@cdktf/provider-google ${assembly.version}`,
    },
    resources: extract('resources', RESOURCE_TYPES),
    dataSources: extract('data-sources', DATA_SOURCE_TYPES),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const prefix = process.argv[2] ?? '/tmp/provider-google';
  const jsii = join(prefix, 'node_modules/@cdktf/provider-google/.jsii');
  const target = new URL('../terraform/schema/google-provider.json', import.meta.url);
  const schema = extractProviderSchema(jsii);
  writeFileSync(target, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(
    `wrote ${target.pathname}: ${Object.keys(schema.resources).length} resource and ` +
      `${Object.keys(schema.dataSources).length} data source types from ${schema.provider.extractedFrom} ` +
      `(google provider ${schema.provider.version})`,
  );
}
