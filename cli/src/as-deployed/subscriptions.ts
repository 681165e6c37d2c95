/**
 * The push subscriptions' settings, from terraform/subscriptions.json: the one file Terraform
 * (`jsondecode(file(...))` in terraform/pubsub.tf) and `sheetsync start --as-deployed` both read,
 * so the local push path delivers with the ordering, ack deadline, retry backoff and dead letter
 * that are deployed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { DB_CHANGES_TOPIC } from '../../../functions/src/wire/db-change.ts';
import { SHEET_CHANGES_TOPIC } from '../../../functions/src/wire/sheet-change.ts';

export const SUBSCRIPTIONS_FILE = join(import.meta.dirname, '../../../terraform/subscriptions.json');

const Seconds = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

// Ranges Pub/Sub accepts (https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions).
const PushSubscription = v.object({
  entry_point: v.picklist(['applyToDb', 'applyToSheet']),
  topic: v.picklist(['sheet_changes', 'db_changes']),
  dead_letter: v.picklist(['sheet_changes', 'db_changes']),
  enable_message_ordering: v.boolean(),
  ack_deadline_seconds: Seconds(10, 600),
  minimum_backoff_seconds: Seconds(0, 600),
  maximum_backoff_seconds: Seconds(0, 600),
  max_delivery_attempts: Seconds(5, 100),
});
const Subscriptions = v.record(v.string(), PushSubscription);

export type PushSubscription = v.InferOutput<typeof PushSubscription>;

/** The topic names of terraform/main.tf's local.topics, by their key. */
export const TOPIC_NAMES = { sheet_changes: SHEET_CHANGES_TOPIC, db_changes: DB_CHANGES_TOPIC } as const;

export function loadSubscriptions(file = SUBSCRIPTIONS_FILE): Record<string, PushSubscription> {
  return v.parse(Subscriptions, JSON.parse(readFileSync(file, 'utf8')));
}
