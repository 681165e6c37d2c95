/**
 * Least privilege and self-contained monitoring, checked on terraform/ and shown to fail on
 * mutated copies (a broad role, a project-wide grant, an alert on an undefined metric).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkIam, checkMonitoringMetrics } from '../../scripts/terraform-policy.ts';

const moduleDir = new URL('../../terraform', import.meta.url).pathname;
const copies: string[] = [];
vi.setConfig({ testTimeout: 60_000 });

function mutatedCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-tf-policy-'));
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

describe('IAM in terraform/', () => {
  it('grants no broad role, and project-wide only Firestore and build roles', async () => {
    const { grants, problems } = await checkIam(moduleDir);
    expect(problems).toEqual([]);
    const roles = new Set(grants.map((g) => g.role));
    for (const expected of [
      'roles/pubsub.publisher',
      'roles/secretmanager.secretAccessor',
      'roles/datastore.user',
      'roles/run.invoker',
    ])
      expect(roles).toContain(expected);
  });

  it('binds Pub/Sub, Secret Manager and invoker roles on the topic, secret or service, not the project', async () => {
    const { grants } = await checkIam(moduleDir);
    const resourceOf = (prefix: string) =>
      grants.filter((g) => g.role.startsWith(prefix)).map((g) => g.resource);
    expect(resourceOf('roles/pubsub.')).not.toHaveLength(0);
    for (const resource of resourceOf('roles/pubsub.'))
      expect(resource).toMatch(/^google_pubsub_(topic|subscription)_iam_member\./);
    for (const resource of resourceOf('roles/secretmanager.'))
      expect(resource).toMatch(/^google_secret_manager_secret_iam_member\./);
    for (const resource of resourceOf('roles/run.'))
      expect(resource).toMatch(/^google_cloud_run_service_iam_member\./);
  });

  it('fails on roles/editor, on an admin role and on a project-wide publisher', async () => {
    const editor = mutatedCopy('iam.tf', (t) => t.replace('"roles/logging.logWriter"', '"roles/editor"'));
    expect((await checkIam(editor)).problems).toContain('iam.tf: broad role roles/editor');

    const admin = mutatedCopy('secrets.tf', (t) =>
      t.replace('roles/secretmanager.secretAccessor', 'roles/secretmanager.admin'),
    );
    expect((await checkIam(admin)).problems).toContain('secrets.tf: broad role roles/secretmanager.admin');

    const projectWide = mutatedCopy('iam.tf', (t) =>
      t.replace('role     = "roles/datastore.user"', 'role     = "roles/pubsub.publisher"'),
    );
    expect((await checkIam(projectWide)).problems).toContain(
      'iam.tf: google_project_iam_member.firestore_user grants roles/pubsub.publisher on the whole project',
    );
  });
});

describe('monitoring in terraform/', () => {
  it('charts and alerts only on the log-based metrics the module defines', async () => {
    const { defined, used, problems } = await checkMonitoringMetrics(moduleDir);
    expect(problems).toEqual([]);
    expect(defined.sort()).toEqual(['conflicts', 'dead_letters', 'errors', 'sync_lag']);
    expect(new Set(used)).toEqual(new Set(defined));
  });

  it('fails when an alert or a chart names an undefined metric, or a filter names a metric type directly', async () => {
    const alert = mutatedCopy('monitoring.tf', (t) =>
      t.replace('metric    = "errors"', 'metric    = "error_count"'),
    );
    expect((await checkMonitoringMetrics(alert)).problems).toContain(
      'monitoring uses metric error_count, which the module does not define',
    );

    const chart = mutatedCopy('monitoring.tf', (t) =>
      t.replace('metric = "conflicts"', 'metric = "conflict"'),
    );
    expect((await checkMonitoringMetrics(chart)).problems).toContain(
      'monitoring uses metric conflict, which the module does not define',
    );

    const direct = mutatedCopy('monitoring.tf', (t) =>
      t.replace(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform source text
        'filter          = "metric.type=\\"${local.metric_type[each.value.metric]}\\"',
        'filter          = "metric.type=\\"pubsub.googleapis.com/subscription/dead_letter_message_count\\"',
      ),
    );
    expect((await checkMonitoringMetrics(direct)).problems).toEqual([
      expect.stringContaining(
        'charts metric.type pubsub.googleapis.com/subscription/dead_letter_message_count',
      ),
    ]);
  });
});
