/**
 * One source for the push subscriptions' settings: terraform/pubsub.tf takes every setting from
 * terraform/subscriptions.json, which `sheetsync start --as-deployed` reads too
 * (cli/src/as-deployed/subscriptions.ts), so the local push path cannot drift from the deployment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEPLOYED_FUNCTIONS } from '../../cli/src/as-deployed/function-servers.ts';
import { loadSubscriptions } from '../../cli/src/as-deployed/subscriptions.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const moduleDir = join(import.meta.dirname, '../../terraform');
// biome-ignore lint/suspicious/noExplicitAny: parsed HCL JSON, walked along known paths
type Body = Record<string, any>;
const ref = (expression: string) => `\${${expression}}`;
let pubsub: Body;
let main: Body;

beforeAll(async () => {
  pubsub = (await parse('pubsub.tf', readFileSync(join(moduleDir, 'pubsub.tf'), 'utf8'))) as Body;
  main = (await parse('main.tf', readFileSync(join(moduleDir, 'main.tf'), 'utf8'))) as Body;
});

describe('terraform/subscriptions.json', () => {
  it('is what terraform/pubsub.tf declares the push subscriptions from', () => {
    const locals = Object.assign({}, ...(pubsub.locals as Body[]));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform's interpolation, verbatim
    expect(locals.push_subscriptions).toBe(ref('jsondecode(file("${path.module}/subscriptions.json"))'));
    const push = pubsub.resource.google_pubsub_subscription.push[0] as Body;
    expect(push.for_each).toBe(ref('local.push_subscriptions'));
    expect(push.enable_message_ordering).toBe(ref('each.value.enable_message_ordering'));
    expect(push.ack_deadline_seconds).toBe(ref('each.value.ack_deadline_seconds'));
    expect(push.retry_policy[0]).toEqual({
      minimum_backoff: `${ref('each.value.minimum_backoff_seconds')}s`,
      maximum_backoff: `${ref('each.value.maximum_backoff_seconds')}s`,
    });
    expect(push.dead_letter_policy[0]).toEqual({
      dead_letter_topic: ref('google_pubsub_topic.dead_letter[each.value.dead_letter].id'),
      max_delivery_attempts: ref('each.value.max_delivery_attempts'),
    });
    expect(push.topic).toMatch(/^\$\{each\.value\.topic == "sheet_changes" \?/);
  });

  it('names both push functions, ordered, with an ack deadline equal to the function timeout', () => {
    const subscriptions = loadSubscriptions();
    expect(Object.keys(subscriptions).sort()).toEqual(['apply_to_db', 'apply_to_sheet']);
    const functions = Object.assign({}, ...(main.locals as Body[])).functions as Record<string, Body>;
    for (const [key, s] of Object.entries(subscriptions)) {
      expect(functions[key]?.entry_point, key).toBe(s.entry_point);
      // A push request times out at the ack deadline: shorter than the function, a slow flush
      // would be redelivered while it still runs.
      expect(s.ack_deadline_seconds, key).toBe(functions[key]?.timeout);
      expect(s.enable_message_ordering, key).toBe(true);
      expect(s.minimum_backoff_seconds, key).toBeLessThanOrEqual(s.maximum_backoff_seconds);
    }
  });

  it('gives the local functions the entry points, concurrency and timeouts of terraform/main.tf', () => {
    const functions = Object.assign({}, ...(main.locals as Body[])).functions as Record<string, Body>;
    expect(Object.keys(DEPLOYED_FUNCTIONS).sort()).toEqual(Object.keys(functions).sort());
    for (const [key, local] of Object.entries(DEPLOYED_FUNCTIONS)) {
      const deployed = functions[key]!;
      expect(local.entryPoint, key).toBe(deployed.entry_point);
      expect(local.concurrency, key).toBe(deployed.concurrency);
      // The relay's timeout is relay_drain_seconds + 60 (75 by default).
      expect(local.timeout, key).toBe(key === 'outbox_relay' ? 75 + 60 : deployed.timeout);
    }
    expect(functions.outbox_relay!.timeout).toBe(ref('var.relay_drain_seconds + 60'));
  });
});
