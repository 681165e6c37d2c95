/**
 * The local Cloud Scheduler of `sheetsync start --as-deployed` (cli/src/as-deployed/scheduler.ts):
 * an outboxRelay drain starts at once with the body terraform/relay.tf sends ({"ms": drain}),
 * the drain's answer feeds the dashboard's relay counters, and a failed start is counted.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startScheduler } from '../../cli/src/as-deployed/scheduler.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { waitFor } from '../support/wait.ts';

let server: Server | undefined;
afterEach(() => server?.close());

async function listen(answer: (path: string, body: string) => { status: number; json: unknown }) {
  const seen: Array<{ path: string; body: string }> = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body });
      const { status, json } = answer(req.url ?? '', body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen };
}

describe('the local Cloud Scheduler', () => {
  it('starts a relay drain at once with {"ms": drain} and counts what it published', async () => {
    const { url, seen } = await listen(() => ({
      status: 200,
      json: { acquired: true, published: 7, batches: 2, remaining: false },
    }));
    const scheduler = startScheduler({
      relayUrl: `${url}/relay`,
      reconcileUrl: `${url}/reconcile`,
      relayDrainSeconds: 75,
      reconcileEveryMinutes: 30,
      logger: silentLogger,
    });
    try {
      await waitFor('the drain answered', async () => scheduler.relayCounters().published === 7, 5_000);
      expect(seen).toEqual([{ path: '/relay', body: JSON.stringify({ ms: 75_000 }) }]);
      expect(scheduler.relayCounters()).toMatchObject({ batches: 2, errors: 0, active: false });
    } finally {
      scheduler.stop();
    }
  });

  it('counts a drain start the relay refuses', async () => {
    const { url } = await listen(() => ({ status: 500, json: { error: 'no database' } }));
    const scheduler = startScheduler({
      relayUrl: url,
      reconcileUrl: url,
      relayDrainSeconds: 75,
      reconcileEveryMinutes: 30,
      logger: silentLogger,
    });
    try {
      await waitFor('the failure counted', async () => scheduler.relayCounters().errors === 1, 5_000);
      expect(scheduler.relayCounters().published).toBe(0);
    } finally {
      scheduler.stop();
    }
  });
});
