/**
 * Least privilege, proven (issue 18, Build 3): functions/src/function-needs.ts declares what each
 * deployed function reaches; scripts/function-needs.ts checks it against what index.ts wires to
 * each entry point and against the roles, secrets, network and invokers terraform/ gives it. The
 * repository passes, and mutated copies show each direction fails: a role removed (the webhook's
 * Firestore), a role added that no code uses, code that starts using a service, a function made
 * public.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FUNCTION_NEEDS } from '../../functions/src/function-needs.ts';
import { SERVICE_MODULES } from '../../scripts/composition-root-needs.ts';
import { checkFunctionNeeds } from '../../scripts/function-needs.ts';

const root = new URL('../..', import.meta.url).pathname;
const terraformDir = join(root, 'terraform');
const indexFile = join(root, 'functions/src/index.ts');
const copies: string[] = [];
// hcl2json runs in WebAssembly: about a second per parse of the module, more on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

function edited(text: string, from: string, to: string): string {
  expect(text, `the edit needs ${JSON.stringify(from)}`).toContain(from);
  return text.replace(from, to);
}

/** A copy of terraform/ with one file edited. */
function terraformWith(file: string, from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-needs-'));
  copies.push(dir);
  cpSync(terraformDir, dir, { recursive: true });
  writeFileSync(join(dir, file), edited(readFileSync(join(dir, file), 'utf8'), from, to));
  return dir;
}

/** A copy of index.ts with one edit (the analysis reads its text; imports are not resolved). */
function indexWith(from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-needs-index-'));
  copies.push(dir);
  const file = join(dir, 'index.ts');
  writeFileSync(file, edited(readFileSync(indexFile, 'utf8'), from, to));
  return file;
}

afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

describe('each function gets exactly the roles its code needs', () => {
  it('agrees: the declared needs, the composition root and terraform/', async () => {
    expect(await checkFunctionNeeds()).toEqual([]);
    // The webhook uses Firestore on every request (replay guard, epochs, row reads).
    expect(FUNCTION_NEEDS.sheetWebhook.firestore).toBe(true);
  });

  it("fails when the webhook's Firestore role is removed", async () => {
    const dir = terraformWith(
      'iam.tf',
      'toset(["sheet_webhook", "apply_to_db", "apply_to_sheet", "reconcile"])',
      'toset(["apply_to_db", "apply_to_sheet", "reconcile"])',
    );
    expect(await checkFunctionNeeds({ terraformDir: dir })).toEqual([
      'sheetWebhook: terraform does not grant roles/datastore.user on project, which its code needs',
    ]);
  });

  it('fails on a role no code uses: a dead-letter publisher, the Cloud SQL client', async () => {
    const publisher = terraformWith(
      'iam.tf',
      '"outbox_relay/db_changes"     = {',
      '"apply_to_sheet/db_dead_letter" = { fn = "apply_to_sheet", topic = google_pubsub_topic.dead_letter["db_changes"].id }\n    "outbox_relay/db_changes"     = {',
    );
    expect(await checkFunctionNeeds({ terraformDir: publisher })).toEqual([
      'applyToSheet: terraform grants roles/pubsub.publisher on google_pubsub_topic.dead_letter["db_changes"] (google_pubsub_topic_iam_member.publisher["apply_to_sheet/db_dead_letter"]), which its code does not use',
    ]);

    const cloudsql = terraformWith(
      'iam.tf',
      'resource "google_project_iam_member" "firestore_user" {',
      'resource "google_project_iam_member" "cloudsql_client" {\n  for_each = toset([for key, fn in local.functions : key if fn.database])\n  project  = var.project_id\n  role     = "roles/cloudsql.client"\n  member   = google_service_account.function[each.key].member\n}\n\nresource "google_project_iam_member" "firestore_user" {',
    );
    const problems = await checkFunctionNeeds({ terraformDir: cloudsql });
    expect(problems).toHaveLength(3);
    expect(problems).toContain(
      'outboxRelay: terraform grants roles/cloudsql.client on project (google_project_iam_member.cloudsql_client["outbox_relay"]), which its code does not use',
    );
  });

  it('fails when a secret is mounted where the code never reads it', async () => {
    const dir = terraformWith(
      'main.tf',
      'database = false, secrets = {}',
      'database = false, secrets = { DATABASE_URL = google_secret_manager_secret.database_url.secret_id }',
    );
    expect(await checkFunctionNeeds({ terraformDir: dir })).toEqual([
      `applyToSheet: terraform's secrets is ["DATABASE_URL"]; function-needs.ts says []`,
    ]);
  });

  it('fails when the code starts to use a service the table and terraform do not give it', async () => {
    // applyToSheet's group would hold a database connection.
    const file = indexWith(
      'composeApplyToSheet({\n    config: config(),',
      'composeApplyToSheet({\n    sql: sql(),\n    config: config(),',
    );
    const problems = await checkFunctionNeeds({ indexFile: file });
    expect(problems).toContain(`applyToSheet: the code's database use is true; function-needs.ts says false`);
    expect(problems).toContain('applyToSheet: reads DATABASE_URL, which terraform does not set for it');
  });

  it('fails when the table claims what the code does not do', async () => {
    const needs = { ...FUNCTION_NEEDS, outboxRelay: { ...FUNCTION_NEEDS.outboxRelay, firestore: true } };
    expect(await checkFunctionNeeds({ needs })).toEqual([
      `outboxRelay: the code's Firestore use is false; function-needs.ts says true`,
      'outboxRelay: terraform does not grant roles/datastore.user on project, which its code needs',
    ]);
  });

  it('keeps everything but the webhook callable only by its push or scheduler identity', async () => {
    const dir = terraformWith(
      'functions.tf',
      'for_each = toset(["outbox_relay", "reconcile"])',
      'for_each = toset(["outbox_relay", "reconcile", "sheet_webhook"])',
    );
    expect(await checkFunctionNeeds({ terraformDir: dir })).toEqual([
      `sheetWebhook: terraform's invokers is ["account:scheduler","allUsers"]; function-needs.ts says ["allUsers"]`,
    ]);
    const publicReconcile = terraformWith(
      'functions.tf',
      'member   = google_service_account.scheduler.member',
      'member   = "allUsers"',
    );
    expect(await checkFunctionNeeds({ terraformDir: publicReconcile })).toEqual([
      `outboxRelay: terraform's invokers is ["allUsers"]; function-needs.ts says ["account:scheduler"]`,
      `reconcile: terraform's invokers is ["allUsers"]; function-needs.ts says ["account:scheduler"]`,
    ]);
  });
});

describe('clients are made in the composition root', () => {
  it('no module outside index.ts and adapters/ makes a Google or database client', () => {
    // Only then does the analysis of index.ts see every service a function reaches. The relay
    // makes its own connection only when given a URL instead of `sql`, which index.ts never does.
    const allowed = new Set(['index.ts', 'relay/outbox-relay.ts']);
    const src = join(root, 'functions/src');
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
      });
    const makers: string[] = [];
    for (const file of files(src)) {
      const name = relative(src, file);
      if (allowed.has(name) || name.startsWith('adapters/')) continue;
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
      for (const statement of source.statements) {
        if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
        const clause = statement.importClause;
        const specifier = statement.moduleSpecifier.text;
        const packageName = specifier.startsWith('.') ? undefined : specifier;
        if (!packageName || !(packageName in SERVICE_MODULES) || !clause || clause.isTypeOnly) continue;
        const named = clause.namedBindings;
        const valueImports =
          clause.name !== undefined ||
          (named && ts.isNamespaceImport(named)) ||
          (named && ts.isNamedImports(named) && named.elements.some((e) => !e.isTypeOnly));
        if (valueImports) makers.push(`${name} imports ${packageName}`);
      }
    }
    expect(makers).toEqual([]);
  });
});
