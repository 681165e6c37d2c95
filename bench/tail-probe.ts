/**
 * What a slow sample met, for the latency benchmarks whose pipeline runs in the bench's own
 * process (issue 24, item 4): garbage-collection pauses (perf_hooks 'gc' entries), event-loop
 * stalls (a 20 ms timer's lateness), the bus's redeliveries (deliveryAttempt > 1), the version
 * store's Firestore transactions (time, failures such as ABORTED) and the functions' warnings, each with the time it happened, so a sample's window
 * [start, end] (performance.now()) can be matched against them.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { Firestore } from '@google-cloud/firestore';
import type { Bus, MessageHandler } from '../functions/src/ports.ts';

export interface Interval {
  at: number;
  ms: number;
}

export interface TailProbe {
  /** Wraps a bus so each redelivery is recorded (time, subscription, attempt). */
  wrapBus(bus: Bus): Bus;
  /** Wraps a Firestore client so each runTransaction attempt is timed, and its failure code kept. */
  wrapFirestore(client: Firestore): Firestore;
  /** A warning or error logged by the pipeline (its message only: messages carry no values). */
  note(message: string): void;
  /** What fell in [start, end]: GC ms, the longest loop stall, redeliveries and notes. */
  within(
    start: number,
    end: number,
  ): {
    gcMs: number;
    longestGcMs: number;
    loopStallMs: number;
    redeliveries: number;
    /** The longest Firestore transaction overlapping the window, and the failed ones in it. */
    longestTransactionMs: number;
    failedTransactions: string[];
    notes: string[];
  };
  /** Resolves once no version-store transaction ran for `quietMs` (or after `timeoutMs`). */
  settled(quietMs: number, timeoutMs: number): Promise<void>;
  stop(): void;
}

const STALL_TICK_MS = 20;

export function startTailProbe(): TailProbe {
  const gcs: Interval[] = [];
  const stalls: Interval[] = [];
  const redeliveries: Array<{ at: number; subscription: string; attempt: number }> = [];
  const notes: Array<{ at: number; message: string }> = [];
  const transactions: Array<Interval & { failed?: string; paths: Set<string> }> = [];
  let running = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: e.startTime, ms: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  let expected = performance.now() + STALL_TICK_MS;
  const ticker = setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    if (late > STALL_TICK_MS) stalls.push({ at: expected, ms: late });
    expected = now + STALL_TICK_MS;
  }, STALL_TICK_MS);
  const overlap = (i: Interval, start: number, end: number) =>
    Math.max(0, Math.min(end, i.at + i.ms) - Math.max(start, i.at));
  return {
    wrapBus(bus) {
      return {
        ensureTopic: (t) => bus.ensureTopic(t),
        ensureSubscription: (s, settings) => bus.ensureSubscription(s, settings),
        publish: (t, m) => bus.publish(t, m),
        close: () => bus.close(),
        subscribe(subscription, handler: MessageHandler, options) {
          return bus.subscribe(
            subscription,
            (message) => {
              if (message.deliveryAttempt > 1)
                redeliveries.push({ at: performance.now(), subscription, attempt: message.deliveryAttempt });
              return handler(message);
            },
            options,
          );
        },
      };
    },
    wrapFirestore(client) {
      type Run = Firestore['runTransaction'];
      const timed = async (update: Parameters<Run>[0], options?: Parameters<Run>[1]) => {
        const at = performance.now();
        // The documents the transaction reads: two transactions that read the same document and
        // then write it are what the emulator's locks make wait.
        const paths = new Set<string>();
        const watched = (tx: Parameters<Parameters<Run>[0]>[0]) =>
          new Proxy(tx, {
            get(target, property) {
              const value = Reflect.get(target, property, target);
              if (property !== 'get' && property !== 'getAll')
                return typeof value === 'function' ? value.bind(target) : value;
              return (...refs: Array<{ path?: string }>) => {
                for (const ref of refs) if (typeof ref?.path === 'string') paths.add(ref.path);
                return (value as (...a: unknown[]) => unknown).apply(target, refs);
              };
            },
          });
        running++;
        try {
          const result = await client.runTransaction((tx) => update(watched(tx)), options);
          transactions.push({ at, ms: performance.now() - at, paths });
          return result;
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          transactions.push({ at, ms: performance.now() - at, failed: `code ${String(code)}`, paths });
          throw error;
        } finally {
          running--;
        }
      };
      return new Proxy(client, {
        get(target, property) {
          if (property === 'runTransaction') return timed;
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    note(message) {
      notes.push({ at: performance.now(), message });
    },
    within(start, end) {
      const hit = gcs.filter((g) => overlap(g, start, end) > 0);
      return {
        gcMs: hit.reduce((t, g) => t + overlap(g, start, end), 0),
        longestGcMs: Math.max(0, ...hit.map((g) => g.ms)),
        loopStallMs: Math.max(0, ...stalls.filter((s) => overlap(s, start, end) > 0).map((s) => s.ms)),
        redeliveries: redeliveries.filter((r) => r.at >= start && r.at <= end).length,
        longestTransactionMs: Math.max(
          0,
          ...transactions.filter((t) => overlap(t, start, end) > 0).map((t) => t.ms),
        ),
        failedTransactions: transactions
          .filter((t) => t.failed && overlap(t, start, end) > 0)
          .map((t) => {
            // Other transactions that overlapped it in time and read one of its documents.
            const rivals = transactions.filter(
              (o) => o !== t && overlap(o, t.at, t.at + t.ms) > 0 && [...o.paths].some((p) => t.paths.has(p)),
            );
            // The collections read (document ids left out): which kind of document contended.
            const collections = [
              ...new Set([...t.paths].map((p) => p.split('/').slice(1, -1).join('/') || 'the link document')),
            ];
            return `${t.failed} after ${Math.round(t.ms)} ms, ${t.paths.size} docs read in ${collections.join(', ')}, ${rivals.length} overlapping transactions on the same docs (${rivals.map((o) => `${Math.round(o.ms)} ms${o.failed ? ` ${o.failed}` : ''}`).join(', ')})`;
          }),
        notes: notes.filter((n) => n.at >= start && n.at <= end).map((n) => n.message),
      };
    },
    async settled(quietMs, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      const lastEnd = () =>
        Math.max(running > 0 ? performance.now() : 0, ...transactions.map((t) => t.at + t.ms));
      while (performance.now() - lastEnd() < quietMs && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop() {
      observer.disconnect();
      clearInterval(ticker);
    },
  };
}
