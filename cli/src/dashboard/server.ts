/**
 * The local dashboard: one small HTTP server that `sheetsync start` runs beside the pipeline.
 *
 *   GET  /                               the page (page.html, page.css, page.js beside this file)
 *   GET  /api/status                     StatusReport (functions/src/wire/dashboard.ts)
 *   GET  /api/events                     the same report every second, as server-sent events
 *   GET  /api/conflicts                  the open conflicts of every link
 *   POST /api/conflicts/{id}/resolve     {"take":"sheet"|"db"} or {"value":V}; the resolved record
 *
 * Errors answer `{error: {code, message}}`: 400 for a bad request, 404 for an unknown conflict,
 * 409 for one already resolved or whose cell changed since, 500 otherwise. It listens on
 * 127.0.0.1 only: it has no auth.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type postgres from 'postgres';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import { parseResolveConflictRequest, type StatusReport } from '../../../functions/src/wire/dashboard.ts';
import type { Metrics } from './metrics.ts';
import type { ConflictDesk } from './open-conflicts.ts';

export interface DashboardOptions {
  metrics: Metrics;
  conflicts: ConflictDesk;
  /** For the outbox depth. */
  sql: postgres.Sql;
  links: readonly string[];
  bus: StatusReport['bus'];
  port?: number;
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
      const [row] = await options.sql<{ rows: string; changes: string; oldest: Date | null }[]>`
        select count(*) as rows, coalesce(sum(change_count), 0) as changes, min(changed_at) as oldest
        from sheetsync.outbox`;
      outbox = {
        rows: Number(row?.rows ?? 0),
        changes: Number(row?.changes ?? 0),
        oldestAgeMs: row?.oldest ? Math.max(0, Date.now() - row.oldest.getTime()) : null,
      };
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
    };
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
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
      const status =
        code === 'SHEETSYNC_E751'
          ? 400
          : code === 'SHEETSYNC_E401'
            ? 404
            : code === 'SHEETSYNC_E402' || code === 'SHEETSYNC_E410'
              ? 409
              : 500;
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
