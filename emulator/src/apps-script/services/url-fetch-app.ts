/**
 * UrlFetchApp over real HTTP, synchronous for the script
 * (https://developers.google.com/apps-script/reference/url-fetch/url-fetch-app).
 * Options honoured: method, payload (string, Byte[], Blob, or an object sent as a form),
 * contentType (default application/x-www-form-urlencoded when there is a payload), headers,
 * muteHttpExceptions (without it a status >= 400 throws), followRedirects.
 */
import { type HostCall, ScriptException } from '../host-call.ts';
import type { FetchResponse } from '../protocol.ts';
import { requireAscii, toBuffer, toSignedBytes } from './bytes.ts';
import { createBlob } from './utilities.ts';

interface FetchParams {
  method?: string;
  payload?: unknown;
  contentType?: string;
  headers?: Record<string, unknown>;
  muteHttpExceptions?: boolean;
  followRedirects?: boolean;
  validateHttpsCertificates?: boolean;
  escaping?: boolean;
}

/** @param strictCharsets refuse a non-ASCII string payload whose content type names no charset */
export function createUrlFetchApp(
  call: HostCall,
  toScript: (value: unknown) => unknown,
  strictCharsets = false,
) {
  const fetchOne = (url: string, params: FetchParams = {}) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(params.headers ?? {})) headers[name] = String(value);
    let body: Uint8Array | null = null;
    if (params.payload !== undefined && params.payload !== null) {
      const payload = params.payload;
      const isForm =
        typeof payload === 'object' &&
        !Array.isArray(payload) &&
        typeof (payload as { getBytes?: unknown }).getBytes !== 'function';
      body = isForm
        ? Buffer.from(
            new URLSearchParams(Object.entries(payload as object).map(([k, v]) => [k, String(v)])).toString(),
          )
        : stringPayload(payload, params.contentType, strictCharsets);
      headers['Content-Type'] = params.contentType ?? 'application/x-www-form-urlencoded';
    } else if (params.contentType) {
      headers['Content-Type'] = params.contentType;
    }
    const response = call('url.fetch', {
      url: String(url),
      method: (params.method ?? 'get').toUpperCase(),
      headers,
      body,
      followRedirects: params.followRedirects ?? true,
    });
    const result = createHttpResponse(response, toScript);
    if (response.status >= 400 && !params.muteHttpExceptions) {
      const text = Buffer.from(response.body).toString('utf8');
      throw new ScriptException(
        `Request failed for ${url} returned code ${response.status}. Truncated server response: ${text.slice(0, 100)} (use muteHttpExceptions option to examine full response)`,
      );
    }
    return result;
  };
  return {
    fetch: fetchOne,
    fetchAll: (requests: Array<string | ({ url: string } & FetchParams)>) =>
      toScript(requests.map((r) => (typeof r === 'string' ? fetchOne(r) : fetchOne(r.url, r)))),
  };
}

/** A string payload in its content type's charset (UTF-8 or ISO-8859-1); bytes as they are. */
function stringPayload(payload: unknown, contentType: string | undefined, strict: boolean): Buffer {
  if (typeof payload !== 'string') return toBuffer(payload);
  const charset = /;\s*charset="?([^";]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset === 'iso-8859-1' || charset === 'us-ascii') return Buffer.from(payload, 'latin1');
  if (charset === undefined && strict) requireAscii(payload, 'UrlFetchApp.fetch payload');
  return Buffer.from(payload, 'utf8');
}

function createHttpResponse(response: FetchResponse, toScript: (value: unknown) => unknown) {
  const bytes = Buffer.from(response.body);
  const contentType = response.headers['content-type'] ?? '';
  return {
    getResponseCode: () => response.status,
    getContentText: (charset?: string) =>
      bytes.toString(charset && /^(iso-8859-1|us-ascii)$/i.test(charset) ? 'latin1' : 'utf8'),
    getContent: () => toScript(toSignedBytes(bytes)),
    getHeaders: () => toScript({ ...response.headers }),
    getAllHeaders: () => toScript({ ...response.headers }),
    getBlob: () => createBlob(bytes, contentType, null, toScript),
    getAs: () => createBlob(bytes, contentType, null, toScript),
  };
}
