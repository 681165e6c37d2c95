/**
 * CacheService (https://developers.google.com/apps-script/reference/cache/cache): string values
 * with an expiry (default 600 s, at most 21600 s), held by the host in memory, not persisted.
 */
import { type HostCall, ScriptException } from '../host-call.ts';

export function createCacheService(
  call: HostCall,
  spreadsheetId: string,
  toScript: (value: unknown) => unknown,
) {
  const cache = (scope: string) => {
    const key = (k: string) => `${scope}:${k}`;
    const ttl = (seconds?: number) => {
      const value = seconds === undefined ? 600 : Number(seconds);
      if (!(value >= 1) || value > 21_600) throw new ScriptException('Invalid argument: expirationInSeconds');
      return value;
    };
    return {
      get: (k: string) => call('cache.get', spreadsheetId, [key(String(k))])[key(String(k))] ?? null,
      getAll: (keys: string[]) => {
        const found = call(
          'cache.get',
          spreadsheetId,
          keys.map((k) => key(String(k))),
        );
        const out: Record<string, string> = {};
        for (const k of keys) {
          const value = found[key(String(k))];
          if (value !== undefined) out[String(k)] = value;
        }
        return toScript(out);
      },
      put: (k: string, value: unknown, expirationInSeconds?: number) => {
        call('cache.put', spreadsheetId, { [key(String(k))]: String(value) }, ttl(expirationInSeconds));
      },
      putAll: (values: Record<string, unknown>, expirationInSeconds?: number) => {
        const entries: Record<string, string> = {};
        for (const [k, value] of Object.entries(values)) entries[key(k)] = String(value);
        call('cache.put', spreadsheetId, entries, ttl(expirationInSeconds));
      },
      remove: (k: string) => call('cache.remove', spreadsheetId, [key(String(k))]),
      removeAll: (keys: string[]) =>
        call(
          'cache.remove',
          spreadsheetId,
          keys.map((k) => key(String(k))),
        ),
    };
  };
  return {
    getScriptCache: () => cache('script'),
    getDocumentCache: () => cache('document'),
    getUserCache: () => cache('user'),
  };
}
