/**
 * A server on 127.0.0.1 with no authentication is still reachable from every web page open in the
 * same browser, two ways:
 *
 * - Cross-site "simple" requests: a page may POST to any URL with `Content-Type: text/plain`,
 *   `application/x-www-form-urlencoded` or `multipart/form-data`, or no body, without a CORS
 *   preflight (Fetch standard, "CORS-safelisted request-header"). A browser sends `Origin` with
 *   every request whose method is neither GET nor HEAD (Fetch standard, "Origin header"), so a
 *   same-origin-or-absent Origin shuts that door; and a body must be JSON, which a page of
 *   another origin cannot send without a preflight, never granted here. A request without a
 *   body needs no content type (the Google client library sends `values.clear` that way).
 * - DNS rebinding: a page on a name the attacker controls re-points that name at 127.0.0.1; its
 *   requests are then same-origin to the browser and may read the answers, but they carry the
 *   attacker's name in `Host`. Requiring a loopback Host on our own port shuts that one.
 *
 * Clients outside a browser (the Google client library, curl, tests) send no Origin and the Host
 * of the URL they were given, so they are unaffected as long as they send JSON bodies.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Host names that mean this machine. */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export type LocalRefusalReason = 'host' | 'origin' | 'content-type';

export interface LocalRefusal {
  reason: LocalRefusalReason;
  message: string;
}

export interface LocalRequest {
  method?: string | undefined;
  headers: IncomingHttpHeaders;
}

/**
 * Why `req`, received on `port`, may come from a web page other than this server's own, or
 * undefined when it may not. `extraHosts` are more names that mean this server (the address it
 * was told to bind to, when that is not a loopback or wildcard one).
 */
export function refuseNonLocal(
  req: LocalRequest,
  port: number,
  extraHosts: readonly string[] = [],
): LocalRefusal | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  const allowed = new Set([...LOOPBACK_NAMES, ...extraHosts.map((h) => h.toLowerCase())]);
  const { name, hostPort } = splitHost(host);
  if (!allowed.has(name) || hostPort !== port)
    return {
      reason: 'host',
      message: `Host ${JSON.stringify(req.headers.host ?? '')} is not this server: use http://127.0.0.1:${port} or http://localhost:${port}.`,
    };
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`)
    return {
      reason: 'origin',
      message: `Requests from origin ${JSON.stringify(origin)} are refused; only pages served by http://${host} may call it.`,
    };
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (hasBody(req) && type !== 'application/json')
    return {
      reason: 'content-type',
      message: `A request body must be sent as Content-Type: application/json, not ${JSON.stringify(req.headers['content-type'] ?? '(none)')}.`,
    };
  return undefined;
}

/** Whether the request carries a body (RFC 9112 §6.3: Transfer-Encoding, or a non-zero length). */
function hasBody(req: LocalRequest): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

/** `name:port` → its parts; a Host without a port means port 80. `[::1]:8090` keeps its brackets. */
function splitHost(host: string): { name: string; hostPort: number } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!match) return { name: '', hostPort: -1 };
  return { name: match[1]!, hostPort: match[2] === undefined ? 80 : Number(match[2]) };
}
