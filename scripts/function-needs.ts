/**
 * Checks functions/src/function-needs.ts, the declared needs of each deployed function, against
 * the code (scripts/composition-root-needs.ts: what each entry point in index.ts reaches) and
 * against terraform/ (scripts/terraform-grants.ts: what each function's service account is
 * granted, who may invoke it, which secrets and network it gets). Each disagreement is a problem:
 * a role the code needs and Terraform lacks, a role Terraform grants and the code does not use, a
 * secret mounted that the code never reads, an invoker other than the function's trigger.
 *
 * Usage: `npx tsx scripts/function-needs.ts [terraform-dir]`; exit 1 on problems.
 */
import { POSTGRES_TLS_ENV } from '../functions/src/adapters/postgres-tls.ts';
import { FUNCTION_NEEDS, type FunctionNeeds, SECRET_ENV } from '../functions/src/function-needs.ts';
import { entryPointUses, type Service } from './composition-root-needs.ts';
import { addressOf, expressionOf, type Grant, grantsOf, parseModule } from './terraform-grants.ts';

export interface NeedsCheckOptions {
  needs?: Readonly<Record<string, FunctionNeeds>>;
  indexFile?: string;
  terraformDir?: string;
}

const FIRESTORE_ROLE = 'roles/datastore.user';
const PUBLISHER_ROLE = 'roles/pubsub.publisher';
const SECRET_ROLE = 'roles/secretmanager.secretAccessor';
const INVOKER_ROLE = 'roles/run.invoker';

/** Every disagreement between the declared needs, the code and Terraform. */
export async function checkFunctionNeeds(options: NeedsCheckOptions = {}): Promise<string[]> {
  const needs: Readonly<Record<string, FunctionNeeds>> = options.needs ?? FUNCTION_NEEDS;
  const terraformDir = options.terraformDir ?? new URL('../terraform', import.meta.url).pathname;
  const problems: string[] = [];
  const uses = entryPointUses(options.indexFile);
  const module = await parseModule(terraformDir);
  const { grants, problems: expandProblems } = grantsOf(module);
  problems.push(...expandProblems);
  const topics = module.locals.topics as Record<string, string>;
  const topicKey = (name: string) => Object.entries(topics).find(([, n]) => n === name)?.[0] ?? `(${name})`;
  const functions = module.locals.functions as Record<
    string,
    { entry_point: string; database: boolean; secrets: Record<string, string> }
  >;
  const keyOf = new Map(Object.entries(functions).map(([key, fn]) => [fn.entry_point, key]));
  const functionEnv = new Set(Object.keys(module.locals.function_env ?? {}));

  for (const entry of new Set([...Object.keys(needs), ...uses.keys(), ...keyOf.keys()])) {
    const declared = needs[entry];
    const use = uses.get(entry);
    const key = keyOf.get(entry);
    if (!declared || !use || !key) {
      problems.push(
        `${entry}: ${!declared ? 'not in function-needs.ts' : ''}${!use ? ' not registered in index.ts' : ''}${!key ? ' not deployed by terraform (local.functions)' : ''}`.trim(),
      );
      continue;
    }
    problems.push(...use.problems);

    // The code against the declared table.
    const has = (service: Service) => use.services.has(service);
    /** `found` (what the code or terraform has) against what the table declares. */
    const differs = (what: string, found: unknown, table: unknown) => {
      if (JSON.stringify(found) !== JSON.stringify(table))
        problems.push(
          `${entry}: ${what} is ${JSON.stringify(found)}; function-needs.ts says ${JSON.stringify(table)}`,
        );
    };
    const compare = (what: string, code: unknown, table: unknown) =>
      differs(`the code's ${what}`, code, table);
    const compareTerraform = (what: string, terraform: unknown, table: unknown) =>
      differs(`terraform's ${what}`, terraform, table);
    compare('Firestore use', has('firestore'), declared.firestore);
    compare('database use', has('database'), declared.database);
    compare('Sheets API use', has('sheets'), declared.sheets);
    compare('publish topics', [...use.publishes].map(topicKey).sort(), [...declared.publishes].sort());
    const secretsRead = [...use.requiredEnv, ...use.optionalEnv].filter((name) =>
      (SECRET_ENV as readonly string[]).includes(name),
    );
    compare('secrets read', [...new Set(secretsRead)].sort(), [...declared.secrets].sort());
    const trigger = declared.trigger;
    if (typeof trigger === 'object') {
      compare('trigger', `${use.kind} ${topicKey(use.triggerTopic ?? '')}`, `pubsubPush ${trigger.pubsub}`);
    } else compare('trigger', use.kind, 'http');

    // Terraform against the declared table: the function's own grants, exactly.
    const fn = functions[key]!;
    const expected: Array<Pick<Grant, 'role' | 'target'>> = [];
    if (declared.firestore) expected.push({ role: FIRESTORE_ROLE, target: 'project' });
    for (const topic of declared.publishes)
      expected.push({ role: PUBLISHER_ROLE, target: `google_pubsub_topic.${topic}` });
    for (const secret of declared.secrets) {
      const reference = fn.secrets[secret];
      expected.push({
        role: SECRET_ROLE,
        target: reference ? addressOf(reference) : `(the secret terraform mounts as ${secret})`,
      });
    }
    const granted = grants.filter((g) => g.principal === `function:${key}`);
    const label = (g: Pick<Grant, 'role' | 'target'>) => `${g.role} on ${g.target}`;
    const grantedLabels = new Set(granted.map(label));
    const expectedLabels = new Set(expected.map(label));
    for (const missing of [...expectedLabels].filter((l) => !grantedLabels.has(l)))
      problems.push(`${entry}: terraform does not grant ${missing}, which its code needs`);
    for (const extra of granted.filter((g) => !expectedLabels.has(label(g))))
      problems.push(
        `${entry}: terraform grants ${label(extra)} (${extra.address}), which its code does not use`,
      );

    compareTerraform('secrets', Object.keys(fn.secrets).sort(), [...declared.secrets].sort());
    compareTerraform('database (VPC connector)', fn.database, declared.database);
    const provided = new Set([...functionEnv, ...Object.keys(fn.secrets)]);
    for (const name of [...use.requiredEnv, ...(declared.database ? POSTGRES_TLS_ENV : [])])
      if (!provided.has(name)) problems.push(`${entry}: reads ${name}, which terraform does not set for it`);
    const editors = ((module.outputs.sheet_editors?.value ?? []) as string[]).map(
      (e) => /function\["(\w+)"\]/.exec(e)?.[1],
    );
    compareTerraform('sheet_editors listing', editors.includes(key), declared.sheets);

    // Who may invoke it.
    const invokers = grants
      .filter(
        (g) => g.role === INVOKER_ROLE && g.target === `google_cloudfunctions2_function.sheetsync["${key}"]`,
      )
      .map((g) => g.principal)
      .sort();
    const expectedInvoker =
      trigger === 'public-http'
        ? 'allUsers'
        : trigger === 'scheduler'
          ? 'account:scheduler'
          : 'account:pubsub_push';
    compareTerraform('invokers', invokers, [expectedInvoker]);
    if (typeof trigger === 'object') {
      const push = module.locals.push_subscriptions?.[key] as { topic?: string } | undefined;
      compareTerraform('push subscription topic', push?.topic ?? null, trigger.pubsub);
    }
    if (trigger === 'scheduler') {
      const jobs = Object.values(module.resources.google_cloud_scheduler_job ?? {}).filter((job) =>
        JSON.stringify(job.http_target ?? '').includes(`sheetsync[\\"${key}\\"]`),
      );
      const oidc = jobs.map((job) =>
        expressionOf(job.http_target?.[0]?.oidc_token?.[0]?.service_account_email),
      );
      compareTerraform('scheduler jobs (OIDC account)', oidc, ['google_service_account.scheduler.email']);
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = await checkFunctionNeeds(process.argv[2] ? { terraformDir: process.argv[2] } : {});
  for (const problem of problems) console.error(problem);
  console.log(
    problems.length === 0
      ? 'function needs: code, table and terraform agree'
      : `${problems.length} problem(s)`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
