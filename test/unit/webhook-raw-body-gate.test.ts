/**
 * Where the webhook's raw-body gate goes (raw-body-gate.ts): only in front of the server
 * functions-framework makes for the webhook, which it picks as functions-framework does (the
 * command line's --target, else FUNCTION_TARGET, which Cloud Run's buildpack sets). Its
 * refusals through the framework's real server: test/integration/webhook-raw-body.test.ts.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  answer,
  type GateRefusal,
  gateFrameworkServer,
  servedTarget,
} from '../../functions/src/handlers/sheet-webhook/raw-body-gate.ts';
import { createLogger } from '../../functions/src/log.ts';

const original = http.createServer;
afterEach(() => {
  http.createServer = original;
});

const logger = createLogger({ level: 'ERROR' });
/** A gate that refuses everything (it answers the refusal itself, as webhookGate does). */
const refuseAll = async (_req: http.IncomingMessage, res: http.ServerResponse) => {
  const refusal: GateRefusal = { status: 403, code: 'SHEETSYNC_E621', message: 'no' };
  answer(res, refusal);
  return refusal;
};

describe('the webhook gate', () => {
  it('reads the served function as functions-framework does', () => {
    expect(servedTarget(['node', 'functions-framework'], { FUNCTION_TARGET: 'sheetWebhook' })).toBe(
      'sheetWebhook',
    );
    expect(servedTarget(['node', 'ff', '--target=applyToDb'], { FUNCTION_TARGET: 'sheetWebhook' })).toBe(
      'applyToDb',
    );
    expect(servedTarget(['node', 'ff', '--target', 'reconcile'], {})).toBe('reconcile');
    expect(servedTarget(['node', 'ff'], {})).toBeUndefined();
  });

  it('leaves the servers of the other functions alone', () => {
    gateFrameworkServer('sheetWebhook', refuseAll, {
      failureCode: 'SHEETSYNC_E623',
      logger,
      argv: [],
      env: { FUNCTION_TARGET: 'applyToDb' },
    });
    expect(http.createServer).toBe(original);
  });

  it('gates only the first server with an Express app as its listener, then steps aside', async () => {
    gateFrameworkServer('sheetWebhook', refuseAll, {
      failureCode: 'SHEETSYNC_E623',
      logger,
      argv: [],
      env: { FUNCTION_TARGET: 'sheetWebhook' },
    });
    expect(http.createServer).not.toBe(original);
    // A plain listener (another server the process makes first) is not the framework's.
    const plain = http.createServer((_req, res) => res.end('plain'));
    expect(http.createServer).not.toBe(original);
    const app = Object.assign((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('app'), {
      handle() {},
      set() {},
    });
    const framework = http.createServer(app);
    expect(http.createServer).toBe(original);
    const answers: string[] = [];
    for (const server of [plain, framework]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const response = await fetch(
        `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`,
      );
      answers.push(`${response.status} ${await response.text()}`);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(answers).toEqual(['200 plain', '403 {"error":{"code":"SHEETSYNC_E621","message":"no"}}']);
  });
});
