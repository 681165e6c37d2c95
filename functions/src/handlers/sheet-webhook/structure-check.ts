/**
 * Which live rows a `structure` event must be compared with. The event lists every sync id the
 * tab holds (or, for a big tab, those starting with one hex digit); a live row missing from it
 * was deleted on the sheet. Reading every live row for each event costs a Firestore read per row
 * (1.4M reads for one row deleted in a 1.4M-row tab) and seconds of latency, while a sort changes
 * no id and a deletion changes a few.
 *
 * Structure checks: ids fall into 256 buckets by their first two hex digits. After an event is
 * handled, the store records per bucket a digest of the bucket's ids on the sheet and a time
 * `checkedAt` by which every live row of the bucket that was not among them had been sent a
 * delete. The next event reads the live rows only of buckets whose digest changed. In a bucket
 * whose ids are the same, a live row can be missing only if it became live after that check (its
 * delete was not sent, or applyToDb ignored it because the row reached the sheet after the ids
 * were read): those are the rows stored since `checkedAt`, one query on the store's `createdAt`.
 * `checkedAt` is the earlier of the check's start and the event's time, less a margin for clock
 * skew and for commits in flight (a row's `createdAt` is stamped before its commit lands).
 */
import { createHash } from 'node:crypto';
import type { StructureCheck } from '../../ports.ts';

const HEX = '0123456789abcdef';
/** Every bucket: the first two hex digits of an id. */
export const ALL_BUCKETS: readonly string[] = [...HEX].flatMap((a) => [...HEX].map((b) => a + b));
/** Rows stored up to this long before a check are taken as seen by it. */
export const CREATED_MARGIN_MS = 10 * 60_000;
/** Above this share of changed buckets, one query reads the whole scope. */
const WHOLE_SCOPE_SHARE = 0.25;
/** Bucket queries in flight at once. */
const QUERY_CONCURRENCY = 8;

/** The version store's part in structure checks (VersionStore). */
export interface StructureStore {
  liveRowIdsCreatedSince(link: string, since: number): Promise<Iterable<string>>;
  structureChecks(link: string): Promise<Record<string, StructureCheck>>;
  recordStructureChecks(link: string, checks: Readonly<Record<string, StructureCheck>>): Promise<void>;
}

export interface StructurePlan {
  /** Live rows of the event's scope to compare with its ids. */
  candidates: Set<string>;
  /** To record once the deletes are published. */
  checks: Record<string, StructureCheck>;
  /** Buckets whose live rows were read (of the scope's 16 or 256). */
  bucketsRead: number;
  /** Rows the store returned (live rows read, plus rows stored since the last checks). */
  rowsRead: number;
}

export const bucketOf = (id: string): string => id.slice(0, 2).toLowerCase();

/** The buckets an event covers: all, or the 16 of its `idPrefix`. */
export function scopeOf(idPrefix: string | undefined): string[] {
  return idPrefix === undefined ? [...ALL_BUCKETS] : [...HEX].map((d) => idPrefix.toLowerCase() + d);
}

/** Per bucket of the scope, a digest of the set of ids in it (order does not matter). */
export function bucketDigests(ids: readonly string[], scope: readonly string[]): Record<string, string> {
  const byBucket = new Map<string, string[]>(scope.map((b) => [b, []]));
  for (const id of ids) byBucket.get(bucketOf(id))?.push(id.toLowerCase());
  const digests: Record<string, string> = {};
  for (const [bucket, members] of byBucket) {
    members.sort();
    digests[bucket] = createHash('sha256').update(members.join('\n')).digest('base64url').slice(0, 22);
  }
  return digests;
}

export async function planStructureCheck(
  store: StructureStore,
  liveRowIds: (link: string, idPrefix?: string) => Promise<Iterable<string>>,
  link: string,
  event: { ids: readonly string[]; idPrefix?: string; time: number },
  now: number,
): Promise<StructurePlan> {
  const scope = scopeOf(event.idPrefix);
  const digests = bucketDigests(event.ids, scope);
  const stored = await store.structureChecks(link);
  const changed = new Set(scope.filter((b) => stored[b]?.digest !== digests[b]));
  const unchanged = scope.filter((b) => !changed.has(b));
  const candidates = new Set<string>();
  let rowsRead = 0;
  const take = (ids: Iterable<string>, buckets: ReadonlySet<string>) => {
    for (const id of ids) {
      rowsRead++;
      if (buckets.has(bucketOf(id))) candidates.add(id);
    }
  };
  if (changed.size > scope.length * WHOLE_SCOPE_SHARE) {
    take(await liveRowIds(link, event.idPrefix), changed);
  } else {
    const queue = [...changed];
    const worker = async () => {
      for (let bucket = queue.shift(); bucket !== undefined; bucket = queue.shift()) {
        take(await liveRowIds(link, bucket), changed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, queue.length) }, worker));
  }
  if (unchanged.length > 0) {
    const since = Math.min(...unchanged.map((b) => stored[b]!.checkedAt));
    take(await store.liveRowIdsCreatedSince(link, since), new Set(unchanged));
  }
  const checkedAt = Math.min(now, event.time) - CREATED_MARGIN_MS;
  const checks: Record<string, StructureCheck> = {};
  for (const bucket of scope) checks[bucket] = { digest: digests[bucket]!, checkedAt };
  return { candidates, checks, bucketsRead: changed.size, rowsRead };
}
