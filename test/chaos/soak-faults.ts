/**
 * The soak's faults, each cheap to inject in one process and each a way the real services fail:
 * - Sheets 5xx, lost responses (applied, unanswered), hangs past the client's timeout and 429
 *   storms, through the local sheet's fault injector and quotas (as sheets-chaos.ts does);
 * - the relay's and applyToDb's PostgreSQL connections killed mid-batch (pg_terminate_backend:
 *   what a crashed function instance or a restarted server leaves behind, the open transaction
 *   rolled back);
 * - Pub/Sub redelivering a message it had delivered and seen acked (an ack lost on its way; the
 *   bus is at-least-once), and a publisher publishing a batch twice (a publish retried after its
 *   answer was lost), through a wrapper of the bus.
 */
import type postgres from 'postgres';
import type { Emulator } from '../../emulator/src/server.ts';
import type { Bus, MessageHandler, ReceivedMessage } from '../../functions/src/ports.ts';

export const FAULT_KINDS = [
  'sheets-5xx',
  'sheets-lost-response',
  'sheets-timeout',
  'sheets-429',
  'relay-killed',
  'apply-to-db-killed',
  'redelivery',
  'republish',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultCounts = Record<FaultKind, number>;

export function noFaultCounts(): FaultCounts {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
}

/** Redeliveries and republishes on a bus, drawn from `random` while `enabled()` holds. */
export interface BusChaos {
  enabled: () => boolean;
  random: () => number;
  counts: FaultCounts;
  /** Share of acked deliveries delivered again, and of published batches published twice. */
  redeliverRate: number;
  republishRate: number;
}

/**
 * The bus with Pub/Sub's duplicates: an acked message delivered again 0.2-3 s later, with the
 * later messages of its ordering key in order after it (Pub/Sub's ordered redelivery), with a
 * higher delivery attempt, again until its handler acks them; and a published batch published
 * again. Closing waits for the redeliveries under way.
 */
export function duplicatingBus(bus: Bus, chaos: BusChaos): Bus {
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let closed = false;
  const later = (ms: number, run: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) return;
      const p = run().finally(() => running.delete(p));
      running.add(p);
    }, ms);
    timers.add(timer);
  };
  // Acked messages of each subscription and ordering key, the last few seconds' worth: Pub/Sub
  // redelivers a message of an ordered key together with the key's later messages, in order.
  const acked = new Map<string, ReceivedMessage[]>();
  const deliver = async (handler: MessageHandler, batch: ReceivedMessage[], attempt: number) => {
    for (const [i, message] of batch.entries()) {
      try {
        await handler({ ...message, deliveryAttempt: attempt });
      } catch {
        if (attempt < 20) later(500, () => deliver(handler, batch.slice(i), attempt + 1));
        return;
      }
    }
  };
  return {
    ensureTopic: (topic) => bus.ensureTopic(topic),
    ensureSubscription: (subscription, settings) => bus.ensureSubscription(subscription, settings),
    async publish(topic, messages) {
      const ids = await bus.publish(topic, messages);
      if (chaos.enabled() && chaos.random() < chaos.republishRate) {
        chaos.counts.republish++;
        await bus.publish(topic, messages);
      }
      return ids;
    },
    subscribe(subscription, handler, options) {
      return bus.subscribe(
        subscription,
        async (message) => {
          await handler(message);
          const key = `${subscription}\u0000${message.orderingKey ?? message.id}`;
          const list = (acked.get(key) ?? []).filter((m) => Date.now() - m.publishTime.getTime() < 10_000);
          list.push(message);
          acked.set(key, list);
          if (chaos.enabled() && chaos.random() < chaos.redeliverRate) {
            chaos.counts.redelivery++;
            // This one again, and every later one of its key delivered by then.
            later(200 + chaos.random() * 2_800, () => {
              const all = acked.get(key) ?? [];
              const batch = all.includes(message) ? all.slice(all.indexOf(message)) : [message];
              return deliver(handler, batch, message.deliveryAttempt + 1);
            });
          }
        },
        options,
      );
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([...running]);
      await bus.close();
    },
  };
}

/**
 * Kills the backends of one kind of sheetsync work in this database (`application_name`,
 * postgres-connection.ts) while they are busy (in a statement or a transaction), for `ms`:
 * a crashed instance mid-batch, its transaction rolled back. Resolves with how many it killed.
 */
export async function killBusyBackends(
  sql: postgres.Sql,
  applicationName: 'sheetsync-relay' | 'sheetsync-applyToDb',
  ms: number,
): Promise<number> {
  let killed = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const rows = await sql<{ killed: boolean }[]>`
      select pg_terminate_backend(pid) as killed from pg_stat_activity
       where datname = current_database() and application_name = ${applicationName}
         and state <> 'idle' and pid <> pg_backend_pid()
         -- postgres.js's type lookup on a new connection: killed, its error escapes every caller
         -- (an unhandled rejection that would end the process; reported, not this soak's subject).
         and query not like '%pg_catalog.pg_type%'`;
    killed += rows.filter((r) => r.killed).length;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return killed;
}

/**
 * The local sheet's faults for `ms`, then none (sheets-chaos.ts's injector and quotas). A hanging
 * request is applied first or not at all, drawn from `random`.
 */
export async function sheetsFault(
  emulator: Emulator,
  kind: 'sheets-5xx' | 'sheets-lost-response' | 'sheets-timeout' | 'sheets-429',
  ms: number,
  random: () => number,
): Promise<void> {
  const quotas = { ...emulator.quotas.config };
  if (kind === 'sheets-5xx') emulator.faults.configure({ errorRate: 0.5 });
  if (kind === 'sheets-lost-response') emulator.faults.configure({ lostResponseRate: 0.4 });
  if (kind === 'sheets-timeout') emulator.faults.configure({ hangRate: 0.3, hangApplied: random() < 0.5 });
  if (kind === 'sheets-429') emulator.quotas.configure({ writePerUser: 2, readPerUser: 4, windowMs: 2_000 });
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    emulator.faults.configure({ errorRate: 0, lostResponseRate: 0, hangRate: 0 });
    emulator.quotas.configure(quotas);
  }
}
