/**
 * Child process for test/integration/postgres-driver-patch.test.ts: a reserved connection whose
 * backend is terminated, then queried again, as the relay and `sql.begin` do when PostgreSQL
 * restarts. Exits 0 when every query after the close is rejected (catchable); the unpatched
 * driver dies with an uncaught TypeError from a setImmediate write.
 */
import postgres from 'postgres';

const url = process.argv[2]!;
const sql = postgres(url, { max: 2, onnotice: () => {} });
const admin = postgres(url, { max: 1, onnotice: () => {} });
const reserved = await sql.reserve();
const [backend] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
const pid = backend!.pid;
let rejected = 0;
for (let i = 0; i < 20; i++) {
  if (i === 2) await admin`select pg_terminate_backend(${pid})`;
  // Small queries go through write()'s setImmediate path.
  await reserved`select ${i}::int as n`.catch(() => {
    rejected++;
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
}
reserved.release();
await sql.end({ timeout: 1 });
await admin.end({ timeout: 1 });
process.stdout.write(`${JSON.stringify({ rejected })}\n`);
