/**
 * The local dashboard: one small HTTP server that `sheetsync start` runs beside the pipeline.
 *
 *   GET  /                               the page (page.html, page.css, page.js beside this file)
 *   GET  /api/status                     StatusReport (functions/src/wire/dashboard.ts)
 *   GET  /api/events                     the same report every second, as server-sent events
 *   GET  /api/conflicts                  the open conflicts of every link
 *   POST /api/conflicts/{id}/resolve     {"take":"sheet"|"db"} or {"value":V}; the resolved record
 *   GET  /api/stack                      {pid, links, store, bus}: which process answers here
 *   POST /api/attach                     {"link": NAME}: attach run by the stack (sync-jobs.ts)
 *   POST /api/reconcile                  {"link": NAME, "dryRun": BOOL}: reconcile run by the stack
 *   POST /api/approve, /api/discard      {"id": HELD}: a person's decision on a held mass change
 *
 * attach and reconcile answer their result, the JSON `sheetsync attach|reconcile --json` prints;
 * asked with `accept: application/x-ndjson`, a stream of lines instead: `{"progress": {done,
 * total}}`, `{}` every 10 s while nothing else is said, then `{"result": …}` or `{"error": …}`.
 *
 * Errors answer `{error: {code, message}}`: 400 for a bad request, 404 for an unknown conflict or
 * link, 409 for a conflict already resolved or whose cell changed since, or a link being synced,
 * 422 when a link does not match the services, 500 otherwise. It listens on 127.0.0.1 only and
 * has no auth, so every request must be one no other web page can make or read
 * (emulator/src/http/local-only.ts): a Host of 127.0.0.1 or localhost on this port (DNS
 * rebinding: SHEETSYNC_E761), its own Origin or none (E762), and a body only as JSON (E763);
 * each refused with 403 before anything runs.
 */

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type postgres from 'postgres';
import { type LocalRefusalReason, refuseNonLocal } from '../../../emulator/src/http/local-only.ts';
import type { ErrorCode } from '../../../functions/src/error-codes.ts';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import { parseResolveConflictRequest, type StatusReport } from '../../../functions/src/wire/dashboard.ts';
import type { SyncCommand } from '../sync-run.ts';
import type { Metrics } from './metrics.ts';
import type { ConflictDesk } from './open-conflicts.ts';
import type { SyncJobs } from './sync-jobs.ts';

export interface DashboardOptions {
  metrics: Metrics;
  conflicts: ConflictDesk;
  /** For the outbox depth. */
  sql: postgres.Sql;
  /** The outbox's depth where it is not PostgreSQL's (MySQL: mysql-relay-store.ts). */
  outboxDepth?: () => Promise<{ rows: number; changes: number; oldestAgeMs: number }>;
  links: readonly string[];
  bus: StatusReport['bus'];
  port?: number;
  /** attach and reconcile run by the stack (POST /api/attach, /api/reconcile). */
  sync?: SyncJobs;
  /** The version store the stack uses, for GET /api/stack. */
  store?: 'firestore-emulator' | 'memory';
}

export interface Dashboard {
  url: string;
  report(): Promise<StatusReport>;
  close(): Promise<void>;
}

const ASSETS: Record<string, string> = {
  '/': 'page.html',
  '/page.css': 'page.css',
  '/page.js': 'page.js',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
};

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { metrics, conflicts } = options;
  const feeds = new Set<ServerResponse>();

  // Open conflicts are a store query: refresh them every few seconds, not per report.
  const refreshConflicts = async () => {
    try {
      metrics.setOpenConflicts((await conflicts.list()).length);
    } catch (error) {
      metrics.error(`listing open conflicts failed: ${(error as Error).message}`, codeOf(error));
    }
  };
  await refreshConflicts();
  let ticks = 0;
  const timer = setInterval(() => {
    metrics.sample();
    if (++ticks % 3 === 0) void refreshConflicts();
    if (feeds.size === 0) return;
    void report().then((r) => {
      for (const res of feeds) res.write(`data: ${JSON.stringify(r)}\n\n`);
    });
  }, 1000);

  const report = async (): Promise<StatusReport> => {
    const snapshot = metrics.snapshot();
    let outbox: StatusReport['outbox'] = null;
    try {
      if (options.outboxDepth) {
        const depth = await options.outboxDepth();
        outbox = { ...depth, oldestAgeMs: depth.changes > 0 ? depth.oldestAgeMs : null };
      } else {
        const [row] = await options.sql<{ rows: string; changes: string; oldest: Date | null }[]>`
          select count(*) as rows, coalesce(sum(change_count), 0) as changes, min(changed_at) as oldest
          from sheetsync.outbox`;
        outbox = {
          rows: Number(row?.rows ?? 0),
          changes: Number(row?.changes ?? 0),
          oldestAgeMs: row?.oldest ? Math.max(0, Date.now() - row.oldest.getTime()) : null,
        };
      }
    } catch (error) {
      metrics.error(`reading the outbox depth failed: ${(error as Error).message}`, codeOf(error));
    }
    const relay = snapshot.relay;
    return {
      at: snapshot.at,
      uptimeMs: snapshot.at - snapshot.startedAt,
      links: [...options.links],
      bus: options.bus,
      relay: relay
        ? {
            active: relay.active,
            lagMs: relay.lagMs,
            published: relay.published,
            errors: relay.errors,
            outboxDepth: relay.outboxDepth,
          }
        : null,
      outbox,
      inFlight: snapshot.inFlight,
      deadLettered: null,
      openConflicts: snapshot.openConflicts,
      totals: snapshot.totals,
      series: snapshot.series,
      lastErrors: snapshot.lastErrors,
      held: await heldChanges(),
    };
  };
  const heldChanges = async (): Promise<StatusReport['held']> => {
    if (!options.sync) return [];
    try {
      return await options.sync.held();
    } catch (error) {
      metrics.error(`listing held changes failed: ${(error as Error).message}`, codeOf(error));
      return [];
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refusal = refuseNonLocal(req, req.socket.localPort ?? 0);
    if (refusal) throw new SheetsyncError(LOCAL_REFUSAL_CODES[refusal.reason], refusal.message, 'permanent');
    const asset = ASSETS[path];
    if (req.method === 'GET' && asset) {
      const type = TYPES[asset.split('.').pop()!]!;
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(readFileSync(join(import.meta.dirname, asset)));
      return;
    }
    if (req.method === 'GET' && path === '/api/status') return json(res, 200, await report());
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`data: ${JSON.stringify(await report())}\n\n`);
      feeds.add(res);
      req.on('close', () => feeds.delete(res));
      return;
    }
    if (req.method === 'GET' && path === '/api/conflicts') return json(res, 200, await conflicts.list());
    if (req.method === 'GET' && path === '/api/stack') {
      return json(res, 200, {
        pid: process.pid,
        links: [...options.links],
        store: options.store ?? null,
        bus: options.bus,
      });
    }
    const command = /^\/api\/(attach|reconcile|approve|discard)$/.exec(path)?.[1] as SyncCommand | undefined;
    if (req.method === 'POST' && command && options.sync) {
      const run = await options.sync.begin(command, await readJson(req));
      if (!(req.headers.accept ?? '').includes('application/x-ndjson')) {
        return json(res, 200, await run(() => {}));
      }
      return streamRun(res, run, (error) => {
        if (statusOf(codeOf(error), error) === 500) metrics.error((error as Error).message, codeOf(error));
      });
    }
    // Any id: one that names no open conflict gets SHEETSYNC_E401 (404), not "no route".
    const resolve = /^\/api\/conflicts\/([^/]{1,200})\/resolve$/.exec(path);
    if (req.method === 'POST' && resolve) {
      const body = parseResolveConflictRequest(await readJson(req));
      const choice = 'take' in body ? body.take : { value: body.value };
      const resolved = await conflicts.resolve(decodeURIComponent(resolve[1]!), choice);
      await refreshConflicts();
      return json(res, 200, resolved);
    }
    json(res, 404, { error: { code: null, message: `no route ${req.method} ${path}` } });
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const code = codeOf(error);
      const status = statusOf(code, error);
      if (status === 500) metrics.error((error as Error).message, code);
      if (!res.headersSent) json(res, status, { error: { code, message: (error as Error).message } });
      else res.end();
    });
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  return {
    url,
    report,
    close: () =>
      new Promise<void>((done) => {
        clearInterval(timer);
        for (const res of feeds) res.end();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** A request that may come from another web page, by why (emulator/src/http/local-only.ts). */
const LOCAL_REFUSAL_CODES = {
  host: 'SHEETSYNC_E761',
  origin: 'SHEETSYNC_E762',
  'content-type': 'SHEETSYNC_E763',
} as const satisfies Record<LocalRefusalReason, ErrorCode>;

function statusOf(code: string | null, error: unknown): number {
  if ((Object.values(LOCAL_REFUSAL_CODES) as Array<string | null>).includes(code)) return 403;
  if (code === 'SHEETSYNC_E751' || code === 'SHEETSYNC_E754') return 400;
  if (code === 'SHEETSYNC_E401' || code === 'SHEETSYNC_E101') return 404;
  if (code === 'SHEETSYNC_E402' || code === 'SHEETSYNC_E410' || code === 'SHEETSYNC_E755') return 409;
  if ((error as Error)?.name === 'LinkCheckError') return 422;
  return 500;
}

/** The NDJSON answer of a run: progress lines (at most 4 a second), a heartbeat, the end. */
async function streamRun(
  res: ServerResponse,
  run: (onProgress: (done: number, total: number) => void) => Promise<unknown>,
  onError: (error: unknown) => void,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  const line = (body: unknown) => res.write(`${JSON.stringify(body)}\n`);
  let said = Date.now();
  const heartbeat = setInterval(() => {
    if (Date.now() - said >= 10_000) {
      line({});
      said = Date.now();
    }
  }, 1_000);
  try {
    const result = await run((done, total) => {
      const t = Date.now();
      if (t - said < 250 && done < total) return;
      said = t;
      line({ progress: { done, total } });
    });
    line({ result });
  } catch (error) {
    onError(error);
    line({ error: { code: codeOf(error), message: (error as Error).message } });
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}

function codeOf(error: unknown): string | null {
  return error instanceof SheetsyncError ? error.code : null;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64_000)
      throw new SheetsyncError('SHEETSYNC_E751', 'request body too large', 'permanent');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SheetsyncError('SHEETSYNC_E751', 'the request body is not JSON', 'permanent');
  }
}
