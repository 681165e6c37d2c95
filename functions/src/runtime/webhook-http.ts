/**
 * The webhook over HTTP. Deployed, functions-framework serves it (functions/src/index.ts, with the
 * raw-body gate put in front of the framework's server); in a process that runs the whole
 * pipeline (cli/src/pipeline.ts) a plain node:http server does, with the same gate in front and
 * the same answers, so the local stack needs neither the framework's process-wide signal
 * handlers nor its test helper.
 */
import { createServer, type Server } from 'node:http';
import {
  handleWebhook,
  type WebhookDeps,
  type WebhookRequest,
  type WebhookResponse,
} from '../handlers/sheet-webhook/handler.ts';
import { gateServer, type WebhookGate } from '../handlers/sheet-webhook/raw-body-gate.ts';
import type { Logger } from '../log.ts';

/**
 * The handler's answer, or a JSON 500 with SHEETSYNC_E623 when it throws (functions-framework
 * would answer its own text page; the script retries a 5xx either way).
 */
export async function answerWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  try {
    return await handleWebhook(request, deps);
  } catch (error) {
    deps.logger.error(`webhook failed: ${(error as Error).message}`, { code: 'SHEETSYNC_E623' });
    return {
      status: 500,
      body: { error: { code: 'SHEETSYNC_E623', message: 'the webhook failed; retry later' } },
    };
  }
}

export interface WebhookServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  server: Server;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves the webhook on `host:port` (port 0: any free one). Every request passes `gate` first
 * (size and signature on the raw body, raw-body-gate.ts), which sets the raw body the handler reads.
 */
export async function serveWebhook(options: {
  deps: WebhookDeps;
  gate: WebhookGate;
  logger: Logger;
  port?: number;
  host?: string;
}): Promise<WebhookServer> {
  const server = createServer((req, res) => {
    const rawBody = (req as { rawBody?: Buffer }).rawBody;
    void answerWebhook(
      { method: req.method ?? 'GET', headers: req.headers, ...(rawBody ? { rawBody } : {}) },
      options.deps,
    ).then(({ status, body }) => {
      const json = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(json),
      });
      res.end(json);
    });
  });
  gateServer(server, options.gate, { failureCode: 'SHEETSYNC_E623', logger: options.logger });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    url: `http://${host}:${typeof address === 'object' && address ? address.port : 0}/`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
