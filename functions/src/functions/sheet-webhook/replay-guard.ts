/**
 * Replay protection for the webhook: an event id is accepted once. A signed request captured by
 * someone can be replayed only within the ±5 minute timestamp window, so remembering event ids
 * for a little longer than that window is enough; Firestore's TTL policy (terraform/) deletes the
 * marker documents afterwards.
 *
 * A genuine retry of an event from the Apps Script queue is signed afresh; if the first try got
 * through, the retry is answered 409 and the script drops it, and if it did not, it is new.
 */
import type { Firestore } from '@google-cloud/firestore';

export interface ReplayGuard {
  /** True the first time `eventId` is claimed; false for every later claim. */
  claim(eventId: string, nowMs: number): Promise<boolean>;
  /** Releases a claim whose request failed before anything was published, so a retry works. */
  release(eventId: string): Promise<void>;
}

/** How long a claim is remembered: the signature window on both sides, plus a margin. */
export const CLAIM_TTL_MS = 15 * 60_000;

export function memoryReplayGuard(): ReplayGuard {
  const claims = new Map<string, number>();
  return {
    async claim(eventId, nowMs) {
      for (const [id, expires] of claims) if (expires < nowMs) claims.delete(id);
      if (claims.has(eventId)) return false;
      claims.set(eventId, nowMs + CLAIM_TTL_MS);
      return true;
    },
    async release(eventId) {
      claims.delete(eventId);
    },
  };
}

/**
 * The collection of claim markers, and their field that Firestore's TTL policy deletes them by
 * (terraform/firestore.tf, google_firestore_field.webhook_event_ttl).
 */
export const REPLAY_MARKERS = { collection: 'sheetsync_webhook_events', expiresField: 'expireAt' } as const;

/** One document per event id under `{root}`; `create()` fails with ALREADY_EXISTS on a replay. */
export function firestoreReplayGuard(
  firestore: Firestore,
  root: string = REPLAY_MARKERS.collection,
): ReplayGuard {
  const ALREADY_EXISTS = 6;
  return {
    async claim(eventId, nowMs) {
      try {
        await firestore
          .collection(root)
          .doc(eventId)
          .create({ [REPLAY_MARKERS.expiresField]: new Date(nowMs + CLAIM_TTL_MS) });
        return true;
      } catch (error) {
        if ((error as { code?: number }).code === ALREADY_EXISTS) return false;
        throw error;
      }
    },
    async release(eventId) {
      await firestore.collection(root).doc(eventId).delete();
    },
  };
}
