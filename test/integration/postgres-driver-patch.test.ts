/**
 * The postgres.js patches (scripts/patch-postgres.mjs, run by npm's postinstall): a query on a
 * reserved connection whose backend went away is rejected, and a backend terminated while a new
 * connection fetches its types is survived, neither a crash of the whole process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';

const ROOT = join(import.meta.dirname, '../..');

function runChild(script: string, url: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      join(ROOT, 'node_modules/.bin/tsx'),
      [join(ROOT, 'test/support', script), url],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('postgres.js after its connection closed', () => {
  const db = useTestDatabase();

  it('rejects the queries of a reserved connection whose backend was terminated', async () => {
    const run = await runChild('postgres-closed-write.ts', db.url);
    expect(run.stderr).not.toContain("Cannot read properties of null (reading 'write')");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).rejected).toBeGreaterThan(0);
  }, 90_000);

  it('survives a backend terminated while a new connection fetches its array types', async () => {
    const run = await runChild('postgres-types-killed.ts', db.url);
    expect(run.stderr).not.toContain('terminating connection due to administrator command');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.intercepted).toBe(true);
    expect(result.after).toBe(2);
  }, 90_000);
});
