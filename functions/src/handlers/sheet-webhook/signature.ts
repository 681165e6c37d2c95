/**
 * Webhook request signing, shared with apps-script/delivery.js:
 *
 *   X-Sheetsync-Spreadsheet: <the id of the spreadsheet whose script signs>
 *   X-Sheetsync-Timestamp: <ms since the epoch when sent>
 *   X-Sheetsync-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + rawBody)>
 *
 * The timestamp is inside the MAC, so a captured request cannot be replayed later with a fresh
 * timestamp; within the ±5 minute window, replays are caught by event id (replay-guard.ts).
 *
 * Each spreadsheet signs with a secret of its own, derived from the webhook's secret and the
 * spreadsheet's id (`spreadsheetSecret`): the secret sits in the spreadsheet's Script Properties,
 * which every editor of that spreadsheet's script can read, so a secret shared by all spreadsheets
 * would let an editor of one sign events for every link. With a secret per spreadsheet, an event
 * signed with spreadsheet A's secret is refused for any other spreadsheet (the handler checks the
 * event's spreadsheetId against the header). A link's `secretVersion` rotates one spreadsheet's
 * secret without touching the others.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SPREADSHEET_HEADER = 'x-sheetsync-spreadsheet';
export const TIMESTAMP_HEADER = 'x-sheetsync-timestamp';
export const SIGNATURE_HEADER = 'x-sheetsync-signature';
/** How far the sender's clock may be from ours. */
export const MAX_SKEW_MS = 5 * 60_000;

export function sign(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/**
 * The secret the script of spreadsheet `spreadsheetId` signs with: derived from the webhook's
 * `master` secret, so the webhook keeps one secret and each spreadsheet gets its own.
 * `sheetsync secret --spreadsheet ID` prints it for the script's Set up.
 */
export function spreadsheetSecret(master: string, spreadsheetId: string, version = 1): string {
  return createHmac('sha256', master)
    .update(`sheetsync spreadsheet secret v${version}\u0000${spreadsheetId}`)
    .digest('hex');
}

/**
 * Verifies a request signed by the script of the spreadsheet its X-Sheetsync-Spreadsheet header
 * names, with that spreadsheet's secret derived from any of `masters` (two during a rotation of
 * the webhook's secret) at `version`.
 */
export function verifySpreadsheetSignature(
  masters: readonly string[],
  versionOf: (spreadsheetId: string) => number,
  headers: { spreadsheet: string | undefined; timestamp: string | undefined; signature: string | undefined },
  rawBody: Buffer,
  nowMs: number,
): SignatureCheck & { spreadsheetId?: string } {
  const id = headers.spreadsheet;
  if (!id || id.length > 200) {
    return {
      ok: false,
      reason: 'missing',
      message:
        'X-Sheetsync-Spreadsheet is required: push apps-script/ of this version and run Set up with ' +
        "the spreadsheet's own secret (sheetsync secret --spreadsheet ID)",
    };
  }
  const secrets = masters.map((master) => spreadsheetSecret(master, id, versionOf(id)));
  const check = verifySignature(secrets, headers.timestamp, headers.signature, rawBody, nowMs);
  return check.ok ? { ...check, spreadsheetId: id } : check;
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
