/**
 * Child process for test/integration/postgres-driver-patch.test.ts: the backend of a new
 * connection is terminated (57P01) while postgres.js runs its first, internal query (the array
 * types, `fetch_types`), as when PostgreSQL restarts or fails over while a pool warms up
 * (porsager/postgres#1223). A TCP proxy holds that query until pg_terminate_backend has ended the
 * backend. Exits 0 and prints how the user's query ended when the process survives; the unpatched
 * driver dies of an unhandled rejection.
 */
import { connect, createServer, type Socket } from 'node:net';
import postgres from 'postgres';

const url = new URL(process.argv[2]!);
const APP = `types-killed-${process.pid}`;
const admin = postgres(url.href, { max: 1, onnotice: () => {} });
let intercepted = false;

const proxy = createServer((client: Socket) => {
  const server = connect(Number(url.port || 5432), url.hostname);
  server.on('data', (chunk) => client.write(chunk));
  server.on('close', () => client.destroy());
  server.on('error', () => client.destroy());
  client.on('error', () => server.destroy());
  client.on('close', () => server.destroy());
  client.on('data', async (chunk) => {
    if (!intercepted && chunk.includes('typarray')) {
      intercepted = true;
      client.pause();
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${APP}`;
      await new Promise((resolve) => setTimeout(resolve, 300));
      client.resume();
    }
    if (!server.destroyed) server.write(chunk);
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const port = (proxy.address() as { port: number }).port;

const proxied = new URL(url.href);
proxied.hostname = '127.0.0.1';
proxied.port = String(port);
const sql = postgres(proxied.href, { max: 1, onnotice: () => {}, connection: { application_name: APP } });
let first: string;
try {
  await sql`select 1 as n`;
  first = 'ok';
} catch (error) {
  first = `rejected ${(error as { code?: string }).code ?? (error as Error).message}`;
}
// The pool is usable afterwards.
const [row] = await sql<{ n: number }[]>`select 2 as n`;
await sql.end({ timeout: 1 });
await admin.end({ timeout: 1 });
proxy.close();
process.stdout.write(`${JSON.stringify({ intercepted, first, after: row!.n })}\n`);
