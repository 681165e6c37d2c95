/**
 * A Firestore client that fails on purpose, for test/chaos/firestore-storms.test.ts (issue 17).
 * While a storm blows, each transaction, batch commit and getAll fails at the storm's rate with
 * ABORTED (gRPC 10: contention) or UNAVAILABLE (14: the connection went), and some failures come
 * after the call did its work: a transaction or batch that committed but whose answer was lost.
 * Everything else passes through to the real client; the storm counts what it did.
 */
import type { Firestore, Transaction, WriteBatch } from '@google-cloud/firestore';

export interface StormRates {
  /** Share of calls that fail, in [0, 1]. */
  rate: number;
  /** Share of failures that come after the commit applied (transactions and batches). */
  afterCommit: number;
}

export interface Storm {
  blow(rates: StormRates): void;
  calm(): void;
  counts: { calls: number; aborted: number; unavailable: number; afterCommit: number };
}

const failure = (code: 10 | 14) =>
  Object.assign(new Error(`${code} ${code === 10 ? 'ABORTED' : 'UNAVAILABLE'}: injected by the storm`), {
    code,
  });

export function stormyFirestore(
  real: Firestore,
  random = Math.random,
): { firestore: Firestore; storm: Storm } {
  let rates: StormRates | undefined;
  const counts = { calls: 0, aborted: 0, unavailable: 0, afterCommit: 0 };
  /** Throws, now or never, by the storm's rate; ABORTED or UNAVAILABLE alike. */
  const gust = (after: boolean) => {
    if (!after) counts.calls++;
    if (!rates || random() >= rates.rate) return;
    if (after !== random() < rates.afterCommit) return;
    if (after) counts.afterCommit++;
    const code = random() < 0.5 ? 10 : 14;
    if (code === 10) counts.aborted++;
    else counts.unavailable++;
    throw failure(code);
  };
  const batch = (inner: WriteBatch): WriteBatch =>
    new Proxy(inner, {
      get(target, property) {
        if (property === 'commit')
          return async () => {
            gust(false);
            const result = await target.commit();
            gust(true);
            return result;
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const firestore = new Proxy(real, {
    get(target, property) {
      switch (property) {
        case 'runTransaction':
          return async <T>(update: (tx: Transaction) => Promise<T>, options?: object) => {
            gust(false);
            const result = await target.runTransaction(update, options);
            gust(true);
            return result;
          };
        case 'getAll':
          return (...args: Parameters<Firestore['getAll']>) => {
            gust(false);
            return target.getAll(...args);
          };
        case 'batch':
          return () => batch(target.batch());
        default: {
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        }
      }
    },
  });
  return {
    firestore,
    storm: {
      blow: (next) => {
        rates = next;
      },
      calm: () => {
        rates = undefined;
      },
      counts,
    },
  };
}
