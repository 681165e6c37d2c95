/**
 * Webhook request signing, shared with apps-script/delivery.js:
 *
 *   X-Sheetsync-Timestamp: <ms since the epoch when sent>
 *   X-Sheetsync-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + rawBody)>
 *
 * The timestamp is inside the MAC, so a captured request cannot be replayed later with a fresh
 * timestamp; within the ±5 minute window, replays are caught by event id (replay-guard.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-sheetsync-timestamp';
export const SIGNATURE_HEADER = 'x-sheetsync-signature';
/** How far the sender's clock may be from ours. */
export const MAX_SKEW_MS = 5 * 60_000;

export function sign(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

export type SignatureCheck =
  | { ok: true; timestampMs: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch'; message: string };

/**
 * Verifies a request against any of `secrets` (more than one during a secret rotation).
 * Constant-time comparison; the reason says what to fix without revealing anything secret.
 */
export function verifySignature(
  secrets: readonly string[],
  timestamp: string | undefined,
  signature: string | undefined,
  rawBody: Buffer,
  nowMs: number,
): SignatureCheck {
  if (!timestamp || !signature) {
    return {
      ok: false,
      reason: 'missing',
      message: 'X-Sheetsync-Timestamp and X-Sheetsync-Signature are required',
    };
  }
  if (!/^\d{1,16}$/.test(timestamp) || !/^sha256=[0-9a-f]{64}$/.test(signature)) {
    return { ok: false, reason: 'malformed', message: 'the signature headers are malformed' };
  }
  const timestampMs = Number(timestamp);
  if (Math.abs(nowMs - timestampMs) > MAX_SKEW_MS) {
    return {
      ok: false,
      reason: 'stale',
      message: 'the timestamp is more than 5 minutes from the server clock; the request is refused',
    };
  }
  const given = Buffer.from(signature);
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, timestamp, rawBody));
    if (expected.length === given.length && timingSafeEqual(expected, given))
      return { ok: true, timestampMs };
  }
  return { ok: false, reason: 'mismatch', message: 'the signature does not match: check the webhook secret' };
}
