/**
 * The postgres.js patch (scripts/patch-postgres.mjs, run by npm's postinstall): a query on a
 * reserved connection whose backend went away is rejected, not a crash of the whole process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../support/postgres.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('postgres.js after its connection closed', () => {
  const db = useTestDatabase();

  it('rejects the queries of a reserved connection whose backend was terminated', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        join(ROOT, 'node_modules/.bin/tsx'),
        [join(ROOT, 'test/support/postgres-closed-write.ts'), db.url],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).not.toContain("Cannot read properties of null (reading 'write')");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).rejected).toBeGreaterThan(0);
  }, 90_000);
});
