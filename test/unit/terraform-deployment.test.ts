/**
 * What issue 8 and DESIGN.md §3 require of the deployment, read from the parsed module: the five
 * entry points on nodejs22, ordered push subscriptions with retry and dead letters, a dead-letter
 * subscription per topic, secrets only where needed, and the scheduler jobs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { REPLAY_MARKERS } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const moduleDir = new URL('../../terraform', import.meta.url).pathname;
// biome-ignore lint/suspicious/noExplicitAny: parsed HCL JSON, walked along known paths
type Body = Record<string, any>;
/** A Terraform expression as hcl2json renders it: `ref('var.x')` is the text `${var.x}`. */
const ref = (expression: string) => `\${${expression}}`;
const module: { resource: Record<string, Record<string, Body[]>>; locals: Body } = {
  resource: {},
  locals: {},
};

beforeAll(async () => {
  for (const file of readdirSync(moduleDir).filter((name) => name.endsWith('.tf'))) {
    const body = (await parse(file, readFileSync(join(moduleDir, file), 'utf8'))) as Body;
    for (const [type, named] of Object.entries(
      (body.resource ?? {}) as Record<string, Record<string, Body[]>>,
    ))
      module.resource[type] = { ...module.resource[type], ...named };
    for (const locals of (body.locals ?? []) as Body[]) Object.assign(module.locals, locals);
  }
});

const resource = (type: string, name: string): Body => {
  const block = module.resource[type]?.[name]?.[0];
  expect(block, `${type}.${name}`).toBeDefined();
  return block!;
};

describe('the deployment in terraform/', () => {
  it('deploys the five entry points from one archive on nodejs22', () => {
    const functions = module.locals.functions as Record<string, { entry_point: string; name: string }>;
    expect(
      Object.values(functions)
        .map((f) => f.entry_point)
        .sort(),
    ).toEqual(['applyToDb', 'applyToSheet', 'outboxRelay', 'reconcile', 'sheetWebhook']);
    for (const fn of Object.values(functions)) expect(fn.name).toMatch(/^sheetsync-[a-z-]+$/);
    const deployed = resource('google_cloudfunctions2_function', 'sheetsync');
    expect(deployed.for_each).toBe(ref('local.functions'));
    expect(deployed.build_config[0].runtime).toBe('nodejs22');
    expect(deployed.build_config[0].source[0].storage_source[0].object).toBe(
      ref('google_storage_bucket_object.functions_zip.name'),
    );
  });

  it('delivers both change topics through ordered push subscriptions with retry and dead letters', () => {
    const push = resource('google_pubsub_subscription', 'push');
    expect(push.enable_message_ordering).toBe(ref('each.value.enable_message_ordering'));
    // The values come from terraform/subscriptions.json (test/unit/push-subscriptions.test.ts).
    expect(push.retry_policy[0]).toEqual({
      minimum_backoff: `${ref('each.value.minimum_backoff_seconds')}s`,
      maximum_backoff: `${ref('each.value.maximum_backoff_seconds')}s`,
    });
    expect(push.push_config[0].oidc_token[0].service_account_email).toBe(
      ref('google_service_account.pubsub_push.email'),
    );
    expect(module.locals.topics).toEqual({
      sheet_changes: 'sheetsync-sheet-changes',
      db_changes: 'sheetsync-db-changes',
    });
    // One dead-letter topic and one subscription for it per change topic.
    expect(resource('google_pubsub_topic', 'dead_letter').for_each).toBe(ref('local.topics'));
    expect(resource('google_pubsub_subscription', 'dead_letter').for_each).toBe(ref('local.topics'));
    for (const topic of ['sheet_changes', 'db_changes'])
      expect(resource('google_pubsub_topic', topic).message_retention_duration).toMatch(/^\d+s$/);
  });

  it('hands the database URL only to the database functions, and the webhook secret only to the webhook', () => {
    const functions = module.locals.functions as Record<
      string,
      { database: boolean; secrets: Record<string, string> }
    >;
    for (const [key, fn] of Object.entries(functions)) {
      expect('DATABASE_URL' in fn.secrets, key).toBe(fn.database);
      expect('SHEETSYNC_WEBHOOK_SECRET' in fn.secrets, key).toBe(key === 'sheet_webhook');
    }
    expect(
      Object.entries(functions)
        .filter(([, fn]) => fn.database)
        .map(([key]) => key)
        .sort(),
    ).toEqual(['apply_to_db', 'outbox_relay', 'reconcile']);
  });

  it('starts the relay every minute for longer than a minute, and reconcile on its schedule, both with OIDC', () => {
    const relay = resource('google_cloud_scheduler_job', 'outbox_relay');
    expect(relay.schedule).toBe('* * * * *');
    // outboxRelayHttpHandler reads how long to drain from the JSON body's `ms`.
    expect(relay.http_target[0].body).toMatch(
      /jsonencode\(\{\s*ms\s*=\s*var\.relay_drain_seconds \* 1000\s*\}\)/,
    );
    expect(relay.http_target[0].headers).toEqual({ 'Content-Type': 'application/json' });
    const reconcile = resource('google_cloud_scheduler_job', 'reconcile');
    expect(reconcile.schedule).toBe(ref('var.reconcile_schedule'));
    for (const job of [relay, reconcile])
      expect(job.http_target[0].oidc_token[0].service_account_email).toBe(
        ref('google_service_account.scheduler.email'),
      );
    const variables = readFileSync(join(moduleDir, 'variables.tf'), 'utf8');
    expect(variables).toMatch(/var\.relay_drain_seconds > 60/);
  });

  it("deletes the webhook's replay markers by Firestore TTL, on the field the guard writes", () => {
    const ttl = Object.values(module.resource.google_firestore_field ?? {}).map((blocks) => blocks[0]!);
    const markers = ttl.filter((field) => field.collection === REPLAY_MARKERS.collection);
    expect(markers).toHaveLength(1);
    expect(markers[0]!.field).toBe(REPLAY_MARKERS.expiresField);
    expect(markers[0]!.ttl_config).toEqual([{}]);
    expect(markers[0]!.database).toBe(ref('google_firestore_database.sheetsync.name'));
  });
});
