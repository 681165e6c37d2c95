/**
 * The real sheetWebhook handler (signature check, replay guard, validation) behind a local HTTP
 * server that a test can fail the ways a network and a service fail: answering 503, hanging
 * without an answer, unreachable (nothing listens on its port), or slow (latency before each
 * answer, in the model time of the Apps Script runtime's limits model: `modelLatencyMs`). It
 * records every request that reached it and the changes it published, for tests that run the
 * real apps-script/ in the local sheet's Apps Script runtime.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../functions/src/config.ts';
import { handleWebhook } from '../../functions/src/handlers/sheet-webhook/handler.ts';
import { memoryReplayGuard } from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { SheetChangeMessage } from '../../functions/src/wire/sheet-change.ts';

export type WebhookMode = 'up' | 'failing' | 'hanging' | 'unreachable';

/** One request that reached the server: its event id (null when the body was not JSON) and answer. */
export interface Arrival {
  eventId: string | null;
  kind: string | null;
  status: number | null;
}

export interface SwitchableWebhook {
  url: string;
  arrivals: Arrival[];
  /** Row changes published, in order. */
  published: SheetChangeMessage[];
  /**
   * Model milliseconds each answer takes, as the runtime's limits model charges a UrlFetchApp
   * call to this server (its `costs.serverLatencyMs`, wired by apps-script-harness.ts). The server
   * itself answers at once: real time is no model time.
   */
  latencyMs: number;
  /** The model latency of a request to `url`: Infinity while hanging (the fetch times out), 0 elsewhere. */
  modelLatencyMs(url: string): number;
  mode(): WebhookMode;
  setMode(mode: WebhookMode): Promise<void>;
  /** Event ids answered 2xx, in the order they were accepted. */
  accepted(): string[];
  close(): Promise<void>;
}

export interface SwitchableWebhookOptions {
  spreadsheetId: string;
  sheet: string;
  secret: string;
  /** The webhook's clock, for the signature's ±5 minute window (the runtime's model clock). */
  now?: () => number;
}

export async function startSwitchableWebhook(options: SwitchableWebhookOptions): Promise<SwitchableWebhook> {
  const arrivals: Arrival[] = [];
  const published: SheetChangeMessage[] = [];
  const live = new Set<string>();
  const hung = new Set<ServerResponse>();
  let mode: WebhookMode = 'up';
  const deps = {
    config: parseConfig({
      links: [
        { name: 'link', spreadsheetId: options.spreadsheetId, sheet: options.sheet, table: 'public.rows' },
      ],
    }),
    secrets: [options.secret],
    replayGuard: memoryReplayGuard(),
    publish: async (messages: Array<{ data: { changes: SheetChangeMessage[] } }>) => {
      const changes = messages.flatMap((m) => m.data.changes);
      changes.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
      for (const change of changes) {
        published.push(change);
        if (change.op === 'delete') live.delete(change.rowId);
        else live.add(change.rowId);
      }
    },
    liveRowIds: async () => [...live],
    logger: silentLogger,
    ...(options.now ? { now: options.now } : {}),
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => {
    let body: { eventId?: string; kind?: string } | null = null;
    try {
      body = JSON.parse(rawBody.toString('utf8')) as { eventId?: string; kind?: string };
    } catch {}
    const arrival: Arrival = { eventId: body?.eventId ?? null, kind: body?.kind ?? null, status: null };
    arrivals.push(arrival);
    if (mode === 'hanging') {
      hung.add(res);
      return;
    }
    if (mode === 'failing') {
      arrival.status = 503;
      res.writeHead(503).end();
      return;
    }
    void handleWebhook({ method: req.method ?? 'GET', headers: req.headers, rawBody }, deps).then(
      (answer) => {
        arrival.status = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      },
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const res of hung) res.destroy();
      hung.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  const webhook: SwitchableWebhook = {
    url: `http://127.0.0.1:${port}/`,
    arrivals,
    published,
    latencyMs: 0,
    modelLatencyMs: (url) =>
      !url.startsWith(webhook.url) ? 0 : mode === 'hanging' ? Number.POSITIVE_INFINITY : webhook.latencyMs,
    mode: () => mode,
    async setMode(next) {
      if (next === mode) return;
      for (const res of hung) res.destroy();
      hung.clear();
      if (next === 'unreachable') await stop();
      else if (mode === 'unreachable') await listen(port);
      mode = next;
    },
    accepted: () =>
      arrivals.filter((a) => a.status !== null && a.status < 300 && a.eventId).map((a) => a.eventId!),
    close: async () => {
      if (mode !== 'unreachable') await stop();
    },
  };
  return webhook;
}
