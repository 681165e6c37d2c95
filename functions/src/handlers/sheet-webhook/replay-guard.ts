/**
 * Replay protection for the webhook: an event id is accepted until it has been published once.
 * A signed request captured by someone can be replayed only within the ±5 minute timestamp
 * window, so remembering event ids for a little longer than that window is enough; Firestore's
 * TTL policy on `expireAt` (terraform/) deletes the marker documents afterwards.
 *
 * Two steps, so that no acknowledged edit is lost: `claim` marks the event pending and lets the
 * request go on; only `complete`, once Pub/Sub acknowledged every message (or a held change was
 * recorded), makes later requests with that id a replay (409, which the script takes as
 * delivered). A crash or timeout between the two leaves the event pending, and the script's
 * retry publishes it again: applyToDb drops the repeat by event id (row documents remember the
 * recent ones), so the cost of a repeat is a duplicate message, never a lost edit.
 */
import type { Firestore } from '@google-cloud/firestore';

export interface ReplayGuard {
  /**
   * Whether the request may go on: true for a new event id (now marked pending) and for one
   * still pending; false once the event was completed (a replay).
   */
  claim(eventId: string, nowMs: number): Promise<boolean>;
  /** Marks the event delivered: every later claim of it answers false. */
  complete(eventId: string, nowMs: number): Promise<void>;
}

/** How long a claim is remembered: the signature window on both sides, plus a margin. */
export const CLAIM_TTL_MS = 15 * 60_000;

export function memoryReplayGuard(): ReplayGuard {
  const claims = new Map<string, { expires: number; done: boolean }>();
  return {
    async claim(eventId, nowMs) {
      for (const [id, claim] of claims) if (claim.expires < nowMs) claims.delete(id);
      const claim = claims.get(eventId);
      if (claim?.done) return false;
      if (!claim) claims.set(eventId, { expires: nowMs + CLAIM_TTL_MS, done: false });
      return true;
    },
    async complete(eventId, nowMs) {
      claims.set(eventId, { expires: nowMs + CLAIM_TTL_MS, done: true });
    },
  };
}

/**
 * The collection of claim markers, and their field that Firestore's TTL policy deletes them by
 * (terraform/firestore.tf, google_firestore_field.webhook_event_ttl).
 */
export const REPLAY_MARKERS = { collection: 'sheetsync_webhook_events', expiresField: 'expireAt' } as const;

/**
 * One document per event id under `{root}`: `{state: 'pending' | 'done', expireAt}`. A marker
 * without `state` was written by an earlier version, which claimed only after publishing
 * nothing more: it counts as done.
 */
export function firestoreReplayGuard(
  firestore: Firestore,
  root: string = REPLAY_MARKERS.collection,
): ReplayGuard {
  const ALREADY_EXISTS = 6;
  const marker = (eventId: string) => firestore.collection(root).doc(eventId);
  return {
    async claim(eventId, nowMs) {
      try {
        await marker(eventId).create({
          state: 'pending',
          [REPLAY_MARKERS.expiresField]: new Date(nowMs + CLAIM_TTL_MS),
        });
        return true;
      } catch (error) {
        if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
        return (await marker(eventId).get()).get('state') === 'pending';
      }
    },
    async complete(eventId, nowMs) {
      await marker(eventId).set({
        state: 'done',
        [REPLAY_MARKERS.expiresField]: new Date(nowMs + CLAIM_TTL_MS),
      });
    },
  };
}
