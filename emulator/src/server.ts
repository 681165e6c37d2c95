/**
 * The emulator's HTTP server: the Sheets API v4 routes, the admin routes under /_emulator/v1,
 * and whatever other parts mount with `addRoute` (user actions, the grid). See
 * emulator/ARCHITECTURE.md. Every route answers only requests that cannot come from another web
 * page (a loopback Host on this port, its own Origin or none, JSON bodies): http/local-only.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mountAdminRoutes } from './admin-routes.ts';
import { mountSheetsApi } from './api/routes.ts';
import { type AttachAppsScriptOptions, attachAppsScript } from './apps-script/bind-runtime.ts';
import type { Emulator } from './emulator.ts';
import { type FaultConfig, FaultInjector } from './faults.ts';
import { mountGrid } from './grid/routes.ts';
import { parseJsonBody, readBody } from './http/body.ts';
import { applyFieldMask } from './http/field-mask.ts';
import { refuseNonLocal } from './http/local-only.ts';
import {
  compileRoute,
  matchRoute,
  type Route,
  type RouteContext,
  type RouteHandler,
  type RouteOptions,
} from './http/router.ts';
import { SheetsApiError } from './model/errors.ts';
import { SpreadsheetStore } from './model/store.ts';
import { StateFile } from './persistence.ts';
import { type QuotaConfig, QuotaLimiter } from './quotas.ts';
import { mountUserActions } from './user-actions/route.ts';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** A JSON file that keeps the spreadsheets across restarts (loaded at start, saved on change). */
  state?: string;
  quotas?: Partial<QuotaConfig>;
  faults?: Partial<FaultConfig>;
  /** Binds the Apps Script in `scriptDir` to every spreadsheet (see src/apps-script/runtime.ts). */
  appsScript?: AttachAppsScriptOptions;
}

export type { Emulator } from './emulator.ts';

export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const model = new SpreadsheetStore();
  const stateFile = options.state ? new StateFile(options.state, model) : undefined;
  await stateFile?.load();
  const quotas = new QuotaLimiter(options.quotas);
  const faults = new FaultInjector(options.faults);
  const routes: Route[] = [];
  const addRoute = (
    method: string,
    pattern: string,
    handler: RouteHandler,
    routeOptions: RouteOptions = {},
  ) => {
    routes.push(compileRoute(method, pattern, handler, routeOptions));
  };

  const boundHost = options.host ?? '127.0.0.1';
  // The bound address is a name for this server too, unless it is a wildcard (http/local-only.ts).
  const extraHosts = ['0.0.0.0', '::', ''].includes(boundHost)
    ? []
    : [boundHost.includes(':') ? `[${boundHost}]` : boundHost];
  const server = createServer((req, res) => {
    const refusal = refuseNonLocal(req, req.socket.localPort ?? 0, extraHosts);
    if (refusal) {
      req.resume();
      sendJson(res, 403, new SheetsApiError('PERMISSION_DENIED', refusal.message).toBody());
      return;
    }
    dispatch(routes, quotas, faults, req, res).catch((error: unknown) => {
      console.error('emulator: request failed', error);
      if (!res.headersSent)
        sendJson(res, 500, {
          error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' },
        });
      else res.destroy();
    });
  });
  // Idle keep-alive connections stay open for a minute, as Google's front ends keep them longer
  // than a client's pool: Node's agent reuses a socket until the server closes it, and a short
  // timeout here raced a request sent on a socket the server was closing (ECONNRESET under load).
  // close() ends every connection (closeAllConnections), so it never waits for them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const emulator: Emulator = {
    server,
    model,
    quotas,
    faults,
    appsScript: undefined,
    url: '',
    addRoute,
    async close() {
      await emulator.appsScript?.close();
      await stateFile?.close();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  mountSheetsApi(emulator);
  mountAdminRoutes(emulator);
  emulator.appsScript = options.appsScript ? attachAppsScript(emulator, options.appsScript) : undefined;
  mountUserActions(emulator, () => emulator.appsScript);
  mountGrid(emulator);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  emulator.url = `http://${host}:${address.port}`;
  return emulator;
}

function quotaUser(req: IncomingMessage, query: URLSearchParams): string {
  const fromQuery = query.get('quotaUser');
  if (fromQuery) return fromQuery;
  const header = req.headers['x-emulator-user'];
  if (typeof header === 'string' && header !== '') return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1] ?? 'anonymous';
}

/** The quota project a request names (X-Goog-User-Project), else the emulator's one project. */
function quotaProject(req: IncomingMessage): string {
  const header = req.headers['x-goog-user-project'];
  return typeof header === 'string' && header !== '' ? header : 'default';
}

async function dispatch(
  routes: Route[],
  quotas: QuotaLimiter,
  faults: FaultInjector,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const method = req.method ?? 'GET';
  const found = matchRoute(routes, method, url.pathname);
  try {
    if (!('route' in found)) {
      req.resume();
      throw found.allowed
        ? new SheetsApiError('INVALID_ARGUMENT', `Method ${method} is not allowed here.`, {}, 405)
        : new SheetsApiError('NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
    }
    const { route, params } = found;
    let bodyPromise: Promise<unknown> | undefined;
    const context: RouteContext = {
      req,
      res,
      url,
      params,
      query: url.searchParams,
      user: quotaUser(req, url.searchParams),
      body: () => {
        bodyPromise ??= readBody(req).then(parseJsonBody);
        return bodyPromise;
      },
    };
    // Read the body first: a body over the limit or not JSON is refused before anything counts.
    if (method !== 'GET' && method !== 'HEAD' && route.options.quota) await context.body();
    const kind = route.options.quota;
    if (route.options.faults && (await faults.beforeApply(kind)) === 'hang') return untilClosed(res);
    if (route.options.quota) quotas.take(route.options.quota, context.user, quotaProject(req));
    const result = await route.handler(context);
    const after = route.options.faults ? faults.afterApply(kind) : 'answer';
    if (after === 'hang') return untilClosed(res);
    if (after === 'reset') {
      res.destroy();
      return;
    }
    if (after === 500) throw new SheetsApiError('INTERNAL', 'Internal error encountered.');
    if (result === undefined || res.headersSent) return;
    const fields = url.searchParams.get('fields');
    sendJson(res, 200, fields ? applyFieldMask(result, fields) : result);
  } catch (error) {
    if (!(error instanceof SheetsApiError)) throw error;
    req.resume();
    sendJson(res, error.httpCode, error.toBody());
  }
}

/** A request left unanswered until its client gives up (or the emulator closes). */
function untilClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
