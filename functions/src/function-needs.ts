/**
 * What each deployed function reaches, declared beside the composition root (index.ts) that
 * builds its clients. scripts/function-needs.ts checks this table both ways, and
 * test/unit/function-needs.test.ts runs it: against the code (what each entry point's
 * registration in index.ts reaches: Firestore, the Pub/Sub bus and its topics, PostgreSQL, the
 * Sheets API, the environment it reads) and against terraform/ (the roles, secrets, network and
 * invokers its service account gets). A role the code needs that Terraform lacks fails it, and so
 * does a role Terraform grants that the code does not use.
 *
 * Keys are the entry points; terraform/main.tf's `local.functions` names the same five.
 */

/** The change topics, by their key in terraform/main.tf's `local.topics`. */
export type Topic = 'sheet_changes' | 'db_changes';

/** Environment variables that carry a Secret Manager secret (terraform/secrets.tf). */
export const SECRET_ENV = ['DATABASE_URL', 'SHEETSYNC_WEBHOOK_SECRET'] as const;
export type SecretEnv = (typeof SECRET_ENV)[number];

export interface FunctionNeeds {
  /**
   * Who calls it: anyone (the webhook, which checks the HMAC signature itself: Apps Script cannot
   * send a Google identity token), Pub/Sub push of a topic, or Cloud Scheduler (both with OIDC).
   */
  trigger: 'public-http' | 'scheduler' | { pubsub: Topic };
  /** Reads or writes Firestore documents: `roles/datastore.user` (per project; no finer grant). */
  firestore: boolean;
  /** Topics it publishes to: `roles/pubsub.publisher` on each. */
  publishes: readonly Topic[];
  /** Secrets it reads from its environment: `roles/secretmanager.secretAccessor` on each. */
  secrets: readonly SecretEnv[];
  /**
   * Connects to PostgreSQL: Cloud SQL by private IP through the VPC connector, with a password
   * and the server's CA (adapters/postgres-tls.ts). No IAM role: `roles/cloudsql.client` is for
   * the Auth Proxy and the connector libraries, which sheetsync does not use.
   */
  database: boolean;
  /** Calls the Sheets API as its service account: no role, the spreadsheets are shared with it. */
  sheets: boolean;
}

export const FUNCTION_NEEDS = {
  // Replay guard, sheet epochs and row reads on every request (Firestore); publishes sheet changes.
  sheetWebhook: {
    trigger: 'public-http',
    firestore: true,
    publishes: ['sheet_changes'],
    secrets: ['SHEETSYNC_WEBHOOK_SECRET'],
    database: false,
    sheets: false,
  },
  // Pub/Sub's service agent dead-letters for it: the function itself publishes nothing.
  applyToDb: {
    trigger: { pubsub: 'sheet_changes' },
    firestore: true,
    publishes: [],
    secrets: ['DATABASE_URL'],
    database: true,
    sheets: true,
  },
  applyToSheet: {
    trigger: { pubsub: 'db_changes' },
    firestore: true,
    publishes: [],
    secrets: [],
    database: false,
    sheets: true,
  },
  outboxRelay: {
    trigger: 'scheduler',
    firestore: false,
    publishes: ['db_changes'],
    secrets: ['DATABASE_URL'],
    database: true,
    sheets: false,
  },
  reconcile: {
    trigger: 'scheduler',
    firestore: true,
    publishes: [],
    secrets: ['DATABASE_URL'],
    database: true,
    sheets: true,
  },
} as const satisfies Record<string, FunctionNeeds>;

export type EntryPoint = keyof typeof FUNCTION_NEEDS;
