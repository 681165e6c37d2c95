/**
 * Policies the deployment must keep, checked offline on the parsed module:
 * - least privilege: no broad role (owner, editor, viewer, any admin, IAM or resource-manager
 *   roles) anywhere, no authoritative project IAM resources (which would remove other members),
 *   and project-level grants only from a short list that has no narrower resource to bind on;
 * - monitoring: alerts and the dashboard chart only metrics the module's log-based metrics define.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/** Roles granted at project level, each because IAM has no finer resource for it. */
export const PROJECT_ROLES_ALLOWED = new Set([
  'roles/datastore.user', // Firestore IAM is per project (databases have no IAM policy of their own)
  'roles/artifactregistry.writer', // the gcf-artifacts repository is created by Cloud Functions itself
  'roles/logging.logWriter', // Cloud Build writes build logs
]);

const BROAD_ROLE =
  /^roles\/(owner|editor|viewer|browser)$|admin$|Admin$|^roles\/iam\.(securityReviewer|roleAdmin)|^roles\/resourcemanager\./;
const AUTHORITATIVE_IAM =
  /^google_(project|organization|folder)_iam_(binding|policy)$|^google_\w+_iam_policy$/;

type Body = Record<string, unknown>;

async function parseModule(dir: string): Promise<Array<{ file: string; body: Body }>> {
  const out: Array<{ file: string; body: Body }> = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.tf'))) {
    out.push({ file, body: (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Body });
  }
  return out;
}

function resources(body: Body): Array<{ type: string; name: string; block: Body }> {
  const out: Array<{ type: string; name: string; block: Body }> = [];
  for (const [type, named] of Object.entries((body.resource ?? {}) as Record<string, Record<string, Body[]>>))
    for (const [name, blocks] of Object.entries(named))
      for (const block of blocks) out.push({ type, name, block });
  return out;
}

/** The roles an IAM resource grants: a literal, or each.value over a literal toset([...]). */
function rolesOf(block: Body): string[] | undefined {
  const role = block.role;
  if (typeof role !== 'string') return undefined;
  if (role.startsWith('roles/')) return [role];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform interpolation, as hcl2json returns it
  if (role === '${each.value}' && typeof block.for_each === 'string') {
    const literal = block.for_each.match(/^\$\{toset\(\[([^\]]*)\]\)\}$/);
    if (literal) return [...literal[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  }
  return undefined;
}

export interface IamGrant {
  resource: string;
  role: string;
}

/** Every role granted by the module, and the problems found with them. */
export async function checkIam(dir: string): Promise<{ grants: IamGrant[]; problems: string[] }> {
  const grants: IamGrant[] = [];
  const problems: string[] = [];
  for (const { file, body } of await parseModule(dir)) {
    // Any role string anywhere counts, even one outside an IAM resource (a local, a variable default).
    for (const role of readFileSync(join(dir, file), 'utf8').matchAll(/roles\/[A-Za-z0-9_.]+/g))
      if (BROAD_ROLE.test(role[0])) problems.push(`${file}: broad role ${role[0]}`);
    for (const { type, name, block } of resources(body)) {
      const address = `${type}.${name}`;
      if (AUTHORITATIVE_IAM.test(type))
        problems.push(`${file}: ${address} is authoritative; use *_iam_member`);
      if (!/_iam_(member|binding)$/.test(type)) continue;
      const roles = rolesOf(block);
      if (!roles) {
        problems.push(`${file}: ${address} grants a role that is not a literal, so it cannot be checked`);
        continue;
      }
      for (const role of roles) {
        grants.push({ resource: address, role });
        if (type === 'google_project_iam_member' && !PROJECT_ROLES_ALLOWED.has(role))
          problems.push(`${file}: ${address} grants ${role} on the whole project`);
      }
    }
  }
  return { grants, problems };
}

/** Log-based metrics the module defines, and the metric keys alerts and the dashboard chart. */
export async function checkMonitoringMetrics(
  dir: string,
): Promise<{ defined: string[]; used: string[]; problems: string[] }> {
  const problems: string[] = [];
  const defined: string[] = [];
  const used: string[] = [];
  let metricTypeLocal: unknown;
  let alerts: Record<string, { metric?: string }> = {};
  for (const { file, body } of await parseModule(dir)) {
    for (const locals of (body.locals ?? []) as Body[]) {
      if ('metric_type' in locals) metricTypeLocal = locals.metric_type;
      if ('alerts' in locals) alerts = locals.alerts as typeof alerts;
    }
    for (const { type, name, block } of resources(body)) {
      if (type === 'google_logging_metric') {
        if (name !== 'sheetsync' || typeof block.for_each !== 'object')
          problems.push(
            `${file}: google_logging_metric.${name}: metrics are defined in google_logging_metric.sheetsync`,
          );
        else defined.push(...Object.keys(block.for_each as object));
      }
      if (type !== 'google_monitoring_alert_policy' && type !== 'google_monitoring_dashboard') continue;
      const text = JSON.stringify(block);
      // Every metric filter goes through local.metric_type, which only maps defined metrics.
      for (const filter of text.matchAll(/metric\.type=\\*"([^"\\]*)/g))
        if (!filter[1]!.startsWith('${local.metric_type['))
          problems.push(`${file}: ${type}.${name} charts metric.type ${filter[1]} directly`);
      if (type === 'google_monitoring_dashboard')
        for (const chart of text.matchAll(/metric\s*=\s*\\*"(\w+)\\*"/g)) used.push(chart[1]!);
    }
  }
  if (!JSON.stringify(metricTypeLocal ?? '').includes('google_logging_metric.sheetsync'))
    problems.push('local.metric_type must be built from google_logging_metric.sheetsync');
  for (const [key, alert] of Object.entries(alerts))
    used.push(alert.metric ?? `(alert ${key} names no metric)`);
  for (const metric of used)
    if (!defined.includes(metric))
      problems.push(`monitoring uses metric ${metric}, which the module does not define`);
  return { defined, used, problems };
}
