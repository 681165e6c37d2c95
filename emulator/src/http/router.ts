/**
 * A small router over node:http. A pattern is a path with `{name}` placeholders, each matching
 * one path segment (or a part of one, as in `{range}:append`); `{name*}` matches the rest of the
 * path. Placeholders are matched on the raw path and then percent-decoded, so an encoded `:` or
 * `/` inside a range never splits it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body ({} when empty); throws Google's 400 for non-JSON or > 10 MB. */
  body(): Promise<unknown>;
  /** The quota user: quotaUser parameter, X-Emulator-User header, bearer token, or `anonymous`. */
  user: string;
}

/**
 * A handler returns the JSON body of a 200 answer, or `undefined` after answering `res` itself
 * (HTML, server-sent events). Throwing a SheetsApiError answers with Google's error body.
 */
export type RouteHandler = (context: RouteContext) => unknown | Promise<unknown>;

export interface RouteOptions {
  /** Which Sheets API quota the route spends; admin and UI routes spend none. */
  quota?: 'read' | 'write';
  /** Whether injected latency and errors apply (true for Sheets API routes). */
  faults?: boolean;
}

export interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: RouteHandler;
  options: RouteOptions;
}

export function compileRoute(
  method: string,
  pattern: string,
  handler: RouteHandler,
  options: RouteOptions,
): Route {
  const names: string[] = [];
  let source = '';
  for (const part of pattern.split(/(\{[A-Za-z]+\*?\})/)) {
    const placeholder = /^\{([A-Za-z]+)(\*?)\}$/.exec(part);
    if (placeholder) {
      names.push(placeholder[1] ?? '');
      source += placeholder[2] ? '(.*)' : '([^/]+?)';
    } else {
      source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return { method: method.toUpperCase(), pattern, regex: new RegExp(`^${source}$`), names, handler, options };
}

export function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { allowed: boolean } {
  let allowed = false;
  for (const route of routes) {
    const match = route.regex.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      allowed = true;
      continue;
    }
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = decodeURIComponent(match[i + 1] ?? '');
    });
    return { route, params };
  }
  return { allowed };
}
