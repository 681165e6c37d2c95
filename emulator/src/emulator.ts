/**
 * The running emulator as its parts see it: the routes (api/, admin-routes.ts) mount on it and
 * server.ts builds it. A module of its own so that the routes need not import server.ts, which
 * imports them.
 */
import type { Server } from 'node:http';
import type { AppsScriptRuntime } from './apps-script/runtime.ts';
import type { FaultInjector } from './faults.ts';
import type { RouteHandler, RouteOptions } from './http/router.ts';
import type { SpreadsheetStore } from './model/store.ts';
import type { QuotaLimiter } from './quotas.ts';

export interface Emulator {
  server: Server;
  /** The spreadsheets; mutate them through `model.mutate` so listeners and persistence see it. */
  model: SpreadsheetStore;
  quotas: QuotaLimiter;
  faults: FaultInjector;
  /** The Apps Script runtime, when `appsScript` was given. */
  appsScript: AppsScriptRuntime | undefined;
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  url: string;
  addRoute(method: string, pattern: string, handler: RouteHandler, options?: RouteOptions): void;
  /** Writes pending state, then stops the server and drops open connections. */
  close(): Promise<void>;
}
