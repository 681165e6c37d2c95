/**
 * The offline stand-in for `terraform validate` (DESIGN.md §5): every resource type, argument,
 * nested block and reference in terraform/ is checked against the committed provider schema
 * extract, and the checker is shown to catch a misspelt argument, a removed required one and a
 * dangling reference on mutated copies of the module.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkTerraformDir, loadSchema } from '../../scripts/terraform-check.ts';

const moduleDir = new URL('../../terraform', import.meta.url).pathname;
const schema = loadSchema();
const copies: string[] = [];
// hcl2json runs in WebAssembly; a full check takes about a second, more on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

/** A copy of terraform/ with `file` edited by `edit`; the edit must change something. */
function mutatedCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-tf-'));
  copies.push(dir);
  cpSync(moduleDir, dir, { recursive: true });
  const before = readFileSync(join(dir, file), 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(join(dir, file), after);
  return dir;
}

afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

describe('terraform/ against the google provider schema extract', () => {
  it('comes from the provider version that versions.tf pins', () => {
    const versions = readFileSync(join(moduleDir, 'versions.tf'), 'utf8');
    const pinned = versions.match(/version\s*=\s*"~> (\d+)\.(\d+)"/);
    expect(pinned).not.toBeNull();
    const [major, minor] = schema.provider.version.split('.').map(Number);
    expect(major).toBe(Number(pinned![1]));
    expect(minor).toBeGreaterThanOrEqual(Number(pinned![2]));
  });

  it('has no findings: known types, known arguments, required ones present, references resolve', async () => {
    expect(await checkTerraformDir(moduleDir, schema)).toEqual([]);
  });

  it('reports a misspelt argument, naming the one it meant', async () => {
    const dir = mutatedCopy('pubsub.tf', (text) =>
      text.replace('enable_message_ordering    =', 'enable_message_orderin    ='),
    );
    const findings = await checkTerraformDir(dir, schema);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.where).toContain('google_pubsub_subscription.push');
    expect(findings[0]!.message).toMatch(
      /unknown argument.*enable_message_orderin.*did you mean enable_message_ordering/,
    );
  });

  it('reports a misspelt nested block', async () => {
    const dir = mutatedCopy('pubsub.tf', (text) => text.replace('retry_policy {', 'retry_polcy {'));
    const findings = await checkTerraformDir(dir, schema);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/retry_polcy.*did you mean retry_policy/),
    ]);
  });

  it('reports a removed required argument', async () => {
    const dir = mutatedCopy('functions.tf', (text) =>
      text.replace(/\n\s*location\s*=\s*var\.region\n/, '\n'),
    );
    const findings = await checkTerraformDir(dir, schema);
    expect(findings).toContainEqual({
      where: 'functions.tf: google_storage_bucket.source',
      message: 'required argument location is missing',
    });
  });

  it('reports a removed required block', async () => {
    const dir = mutatedCopy('secrets.tf', (text) => text.replace('replication {\n    auto {}\n  }\n', ''));
    const findings = await checkTerraformDir(dir, schema);
    expect(findings).toContainEqual({
      where: 'secrets.tf: google_secret_manager_secret.webhook',
      message: 'required block replication is missing',
    });
  });

  it('reports references to undeclared variables and to attributes a type does not have', async () => {
    const dir = mutatedCopy('relay.tf', (text) =>
      text
        .replace('var.time_zone', 'var.timezone')
        .replace('google_service_account.scheduler.email', 'google_service_account.scheduler.mail'),
    );
    const messages = (await checkTerraformDir(dir, schema)).map((f) => f.message);
    expect(messages).toContain('var.timezone is not declared');
    expect(messages).toContain(
      'google_service_account.scheduler.mail: google_service_account has no attribute mail',
    );
  });

  it('reports a repeated resource referenced without an index, and a single one with one', async () => {
    const dir = mutatedCopy('outputs.tf', (text) =>
      text
        .replace('google_pubsub_topic.sheet_changes.name', 'google_pubsub_topic.sheet_changes[0].name')
        .replace(
          'google_service_account.function["reconcile"].email',
          'google_service_account.function.email',
        ),
    );
    const messages = (await checkTerraformDir(dir, schema)).map((f) => f.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'google_pubsub_topic.sheet_changes.0.name: google_pubsub_topic.sheet_changes has neither count nor for_each, so it cannot be indexed',
        'google_service_account.function.email: google_service_account.function has count or for_each, so it needs an index before .email',
      ]),
    );
  });

  it('reports an unknown resource type and a computed attribute that is set', async () => {
    const dir = mutatedCopy('firestore.tf', (text) =>
      text.replace(
        'type                              = "FIRESTORE_NATIVE"',
        'type = "FIRESTORE_NATIVE"\n  uid = "x"',
      ),
    );
    writeFileSync(join(dir, 'extra.tf'), 'resource "google_pubsub_topik" "x" {\n  name = "x"\n}\n');
    const messages = (await checkTerraformDir(dir, schema)).map((f) => f.message);
    expect(messages).toContain('unknown resource type google_pubsub_topik');
    expect(messages).toContain('uid is computed by the provider and cannot be set');
  });
});
