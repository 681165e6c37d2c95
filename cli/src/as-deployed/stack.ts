/**
 * `sheetsync start --as-deployed`: the pipeline as terraform/ deploys it, on this machine. Each
 * function of functions/src/index.ts in its own functions-framework server (function-servers.ts);
 * applyToDb and applyToSheet fed by push from their subscriptions, with the settings of
 * terraform/subscriptions.json (push-relay.ts, push-delivery.ts); outboxRelay and reconcile
 * started on Cloud Scheduler's schedule (scheduler.ts). It needs Google's Pub/Sub and Firestore
 * emulators: the functions reach them through PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST,
 * as they reach Google's services when deployed.
 */
import { PubSub } from '@google-cloud/pubsub';
import type postgres from 'postgres';
import { connectPostgres } from '../../../functions/src/adapters/postgres-connection.ts';
import { installSchema, watchTable } from '../../../functions/src/adapters/postgres-schema.ts';
import { SheetsApi } from '../../../functions/src/adapters/sheets/sheets-api.ts';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import type { Logger } from '../../../functions/src/log.ts';
import type { Bus } from '../../../functions/src/ports.ts';
import type { RelayCounters } from '../../../functions/src/relay/outbox-relay.ts';
import type { SheetsyncConfig } from '../../../functions/src/wire/config.ts';
import type { Reaper } from '../services/reaper.ts';
import type { StackStore } from '../stack-store.ts';
import { DEPLOYED_FUNCTIONS, type FunctionKey, startFunctionServers } from './function-servers.ts';
import { type PushRelay, startPushRelay } from './push-relay.ts';
import { startScheduler } from './scheduler.ts';
import { loadSubscriptions, TOPIC_NAMES } from './subscriptions.ts';

/** terraform/variables.tf defaults: relay_drain_seconds, relay_linger_ms, and reconcile_schedule's period. */
const RELAY_DRAIN_SECONDS = 75;
const RELAY_LINGER_MS = 1000;
const RECONCILE_EVERY_MINUTES = 30;

export interface AsDeployedOptions {
  databaseUrl: string;
  bus: Bus;
  sheetsApiUrl: string;
  config: SheetsyncConfig;
  webhookSecret: string;
  logger: Logger;
  webhookPort?: number;
  emulatorHosts: { pubsub: string; firestore: string };
  projectId: string;
  /** Each function's process as it starts (for the reaper). */
  onSpawn?: (pid: number, what: string) => void;
  beforeStart?: (services: { sql: postgres.Sql; sheetsApi: SheetsApi }) => Promise<void>;
  progress?: (message: string) => void;
}

/** What `sheetsync start` adds for this mode: the emulators' hosts, the reaper, progress. */
export function deployedServices(
  stack: Pick<StackStore, 'emulatorHosts' | 'projectId'>,
  reaper: Reaper,
  progress: (message: string) => void,
): Pick<AsDeployedOptions, 'emulatorHosts' | 'projectId' | 'onSpawn' | 'progress'> {
  if (!stack.emulatorHosts) {
    throw new SheetsyncError(
      'SHEETSYNC_E767',
      "--as-deployed runs each function in its own process, which needs Google's Pub/Sub and Firestore " +
        'emulators (the in-process stand-ins cannot be shared): install the Google Cloud SDK with both ' +
        'emulators, or unset SHEETSYNC_STANDINS',
      'permanent',
    );
  }
  return {
    emulatorHosts: stack.emulatorHosts,
    projectId: stack.projectId,
    onSpawn: (pid, what) => reaper.watch(pid, 'SIGINT', what),
    progress,
  };
}

export interface AsDeployed {
  webhookUrl: string;
  sql: postgres.Sql;
  sheetsApi: SheetsApi;
  relay: { counters(): RelayCounters };
  /** From spawn to serving, per function (ms). */
  startMs: Record<FunctionKey, number>;
  stop(): Promise<void>;
}

export async function startAsDeployed(options: AsDeployedOptions): Promise<AsDeployed> {
  const { bus, config, logger, projectId } = options;
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const sql = connectPostgres(options.databaseUrl, 'sync', { max: 4 });
    stops.push(() => sql.end({ timeout: 5 }));
    // Deployed, `sheetsync attach` installs these; the functions never do.
    await installSchema(sql);
    for (const link of config.links) await watchTable(sql, link.table, link.name);

    const subscriptions = loadSubscriptions();
    for (const topic of Object.values(TOPIC_NAMES)) {
      await bus.ensureTopic(topic);
      // Each dead-letter topic has a pull subscription, as in terraform/pubsub.tf.
      await bus.ensureTopic(`${topic}-dead-letter`);
      await bus.ensureSubscription(`${topic}-dead-letter`, { topic: `${topic}-dead-letter` });
    }
    for (const [key, s] of Object.entries(subscriptions)) {
      // Named after the function, as terraform/pubsub.tf names them; ordering on (the Bus does it).
      await bus.ensureSubscription(subscriptionName(key), {
        topic: TOPIC_NAMES[s.topic],
        ackDeadlineSeconds: s.ack_deadline_seconds,
      });
    }
    const sheetsApi = new SheetsApi({ rootUrl: options.sheetsApiUrl, logger });
    await options.beforeStart?.({ sql, sheetsApi });

    options.progress?.('starting each function in its own functions-framework server…');
    const functions = await startFunctionServers({
      env: {
        SHEETSYNC_LINKS: JSON.stringify(config),
        SHEETSYNC_SHEET_TOPIC: TOPIC_NAMES.sheet_changes,
        SHEETSYNC_DB_TOPIC: TOPIC_NAMES.db_changes,
        SHEETSYNC_LOG_LEVEL: process.env.SHEETSYNC_LOG_LEVEL ?? 'WARNING',
        SHEETSYNC_RELAY_DRAIN_MS: String(RELAY_DRAIN_SECONDS * 1000),
        // As `terraform apply -var relay_linger_ms=…` would set it (the push-throughput bench).
        SHEETSYNC_RELAY_LINGER_MS: process.env.SHEETSYNC_RELAY_LINGER_MS ?? String(RELAY_LINGER_MS),
        GOOGLE_CLOUD_PROJECT: projectId,
        DATABASE_URL: options.databaseUrl,
        SHEETSYNC_WEBHOOK_SECRET: options.webhookSecret,
        PUBSUB_EMULATOR_HOST: options.emulatorHosts.pubsub,
        FIRESTORE_EMULATOR_HOST: options.emulatorHosts.firestore,
        // index.ts: the local sheet instead of Google's Sheets API, without Google auth.
        SHEETSYNC_SHEETS_API_URL: options.sheetsApiUrl,
        METADATA_SERVER_DETECTION: 'none',
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(options.webhookPort ? { ports: { sheet_webhook: options.webhookPort } } : {}),
      onSpawn: (pid, key) => options.onSpawn?.(pid, `the function ${DEPLOYED_FUNCTIONS[key].entryPoint}`),
      // Their log lines are the stack's: errors on stderr, the rest on stdout.
      onLog: (_key, line, stream) =>
        (stream === 'stderr' ? process.stderr : process.stdout).write(`${line}\n`),
    });
    stops.push(() => functions.stop());
    const { servers } = functions;

    const pubsub = new PubSub({ projectId, apiEndpoint: options.emulatorHosts.pubsub });
    stops.push(() => pubsub.close());
    const relays: PushRelay[] = [];
    stops.push(async () => {
      for (const relay of relays) await relay.close();
    });
    for (const [key, s] of Object.entries(subscriptions)) {
      const fn = key as 'apply_to_db' | 'apply_to_sheet';
      relays.push(
        startPushRelay({
          pubsub,
          bus,
          projectId,
          subscription: subscriptionName(key),
          topic: TOPIC_NAMES[s.topic],
          deadLetterTopic: `${TOPIC_NAMES[s.dead_letter]}-dead-letter`,
          settings: s,
          maxOutstanding: DEPLOYED_FUNCTIONS[fn].concurrency,
          endpoint: servers[fn].url,
          logger,
        }),
      );
    }

    const scheduler = startScheduler({
      relayUrl: servers.outbox_relay.url,
      reconcileUrl: servers.reconcile.url,
      relayDrainSeconds: RELAY_DRAIN_SECONDS,
      reconcileEveryMinutes: RECONCILE_EVERY_MINUTES,
      logger,
    });
    stops.push(async () => scheduler.stop());

    const startMs = Object.fromEntries(
      Object.values(servers).map((s) => [s.key, s.startMs]),
    ) as AsDeployed['startMs'];
    options.progress?.(
      `functions serving (ms from spawn): ${Object.entries(startMs)
        .map(([key, ms]) => `${DEPLOYED_FUNCTIONS[key as FunctionKey].entryPoint} ${ms}`)
        .join(', ')}; push and the scheduler as terraform/ declares them`,
    );
    return {
      webhookUrl: `${servers.sheet_webhook.url}/`,
      sql,
      sheetsApi,
      relay: { counters: scheduler.relayCounters },
      startMs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** terraform/pubsub.tf names a push subscription after its function: sheetsync-apply-to-db. */
function subscriptionName(key: string): string {
  return `sheetsync-${key.replaceAll('_', '-')}`;
}
