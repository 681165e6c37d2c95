/** UrlFetchApp's real HTTP exchange, done by the host for a script worker. */
import type { FetchRequest, FetchResponse } from './protocol.ts';

/** UrlFetchApp's own deadline: a server that has not answered by then gives `Timeout: <url>`. */
export const FETCH_TIMEOUT_MS = 60_000;

/**
 * Sends a request; throws `Timeout: <url>` when `signal` times out, `Address unavailable: <url>`
 * when the server cannot be reached, as UrlFetchApp words them.
 */
export async function fetchOverHttp(request: FetchRequest, signal: AbortSignal): Promise<FetchResponse> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body:
        request.body && request.method !== 'GET' && request.method !== 'HEAD'
          ? (new Uint8Array(request.body).buffer as ArrayBuffer)
          : undefined,
      redirect: request.followRedirects ? 'follow' : 'manual',
      signal,
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if ((error as Error).name === 'TimeoutError') throw new Error(`Timeout: ${request.url}`);
    throw new Error(`Address unavailable: ${request.url}${cause ? ` (${cause})` : ''}`);
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
}
