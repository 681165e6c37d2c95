import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, verifySignature } from '../../functions/src/handlers/sheet-webhook/signature.ts';

const secret = 'a-webhook-secret-of-some-length';
const body = Buffer.from('{"v":1}');
const now = 1_800_000_000_000;

describe('webhook signature', () => {
  it('matches what the Apps Script computes: hex HMAC-SHA256 over timestamp "." body', () => {
    const ts = String(now);
    const expected = createHmac('sha256', secret).update(`${ts}.{"v":1}`).digest('hex');
    expect(sign(secret, ts, body)).toBe(`sha256=${expected}`);
  });

  it('accepts a fresh signed request, with any of the current secrets', () => {
    const ts = String(now - 1000);
    expect(verifySignature([secret], ts, sign(secret, ts, body), body, now)).toEqual({
      ok: true,
      timestampMs: now - 1000,
    });
    expect(verifySignature(['old-secret-xxxxxxxx', secret], ts, sign(secret, ts, body), body, now).ok).toBe(
      true,
    );
  });

  it.each([
    ['missing', undefined, 'sha256=00'],
    ['malformed', 'yesterday', `sha256=${'0'.repeat(64)}`],
    ['stale', String(now - 5 * 60_000 - 1), null],
    ['stale', String(now + 5 * 60_000 + 1), null],
    ['mismatch', String(now), `sha256=${'0'.repeat(64)}`],
  ])('refuses a %s signature', (reason, ts, sig) => {
    const signature = sig === null ? sign(secret, ts!, body) : sig;
    const check = verifySignature([secret], ts, signature, body, now);
    expect(check).toMatchObject({ ok: false, reason });
  });

  it('refuses a body changed after signing', () => {
    const ts = String(now);
    const check = verifySignature([secret], ts, sign(secret, ts, body), Buffer.from('{"v":2}'), now);
    expect(check).toMatchObject({ ok: false, reason: 'mismatch' });
  });
});
