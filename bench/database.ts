/**
 * A database of its own for one benchmark run, on the server `adminUrl` points at, with the
 * sheetsync schema installed. `drop()` closes the client and drops the database.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { installSchema } from '../functions/src/adapters/postgres-schema.ts';

export async function benchDatabase(
  adminUrl: string,
): Promise<{ url: string; sql: postgres.Sql; drop(): Promise<void> }> {
  const name = `sheetsync_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin`create database ${admin(name)}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  await installSchema(sql);
  return {
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.end();
    },
  };
}
