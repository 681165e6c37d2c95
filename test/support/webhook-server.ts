/**
 * The real sheetWebhook handler behind a local HTTP server, for tests that run the real
 * apps-script/ code in the local sheet's Apps Script runtime. `intercept` sees each request
 * first and may answer it itself (a webhook that is down).
 */
import { createServer, type IncomingMessage } from 'node:http';
import { handleWebhook, type WebhookDeps } from '../../functions/src/handlers/sheet-webhook/handler.ts';

export interface WebhookServer {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookServer(
  deps: WebhookDeps,
  intercept?: (request: IncomingMessage, rawBody: Buffer) => { status: number } | undefined,
): Promise<WebhookServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks);
      const answered = intercept?.(req, rawBody);
      if (answered) {
        res.writeHead(answered.status).end();
        return;
      }
      const answer = await handleWebhook(
        { method: req.method ?? 'GET', headers: req.headers, rawBody },
        deps,
      );
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Performs user actions in the local sheet (the emulator's userActions endpoint). */
export async function userActions(
  emulatorUrl: string,
  spreadsheetId: string,
  actions: unknown[],
): Promise<Response> {
  return fetch(`${emulatorUrl}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actions }),
  });
}
