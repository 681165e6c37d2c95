/**
 * A pass-through HTTP proxy in front of the local sheet that records each write request's body
 * size and the cells it writes, for `cellsPerWriteRequest` and `maxWriteRequestBytes` (issue
 * 24: no request over 2 MB). Reads (GET) are passed on without being recorded.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WriteRecord {
  path: string;
  bytes: number;
  cells: number;
}

export interface RequestMeter {
  url: string;
  writes: WriteRecord[];
  close(): Promise<void>;
}

export async function startRequestMeter(target: string): Promise<RequestMeter> {
  const to = new URL(target);
  const writes: WriteRecord[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method !== 'GET')
        writes.push({ path: req.url ?? '', bytes: body.length, cells: cellsIn(body) });
      const forward = request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: to.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    writes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The cells a write sets: `values` as rows of values (values.update, values.batchUpdate) or as
 * CellData (updateCells, appendCells in spreadsheets.batchUpdate).
 */
export function cellsIn(body: Buffer): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 0;
  }
  const walk = (node: unknown): number => {
    if (Array.isArray(node)) return node.reduce((n: number, v) => n + walk(v), 0);
    if (node === null || typeof node !== 'object') return 0;
    let n = 0;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'values' && Array.isArray(value)) {
        n += value.reduce((m: number, v) => m + (Array.isArray(v) ? v.length : 1), 0);
      } else n += walk(value);
    }
    return n;
  };
  return walk(parsed);
}
