/**
 * `sheetsync secret --spreadsheet ID` prints the secret that spreadsheet's script signs with: the
 * one the webhook derives for it (signature.ts), at its links' secretVersion.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';

const ROOT = join(import.meta.dirname, '../..');

function sheetsync(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      join(ROOT, 'node_modules/.bin/tsx'),
      [join(ROOT, 'cli/src/main.ts'), ...args],
      { cwd: mkdtempSync(join(tmpdir(), 'sheetsync-secret-')), env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('sheetsync secret', () => {
  it("prints a spreadsheet's own secret, at its links' version", async () => {
    const master = 'the-webhook-secret-0123456789';
    const config = join(mkdtempSync(join(tmpdir(), 'sheetsync-config-')), 'links.json');
    writeFileSync(
      config,
      JSON.stringify({
        links: [{ name: 'b', spreadsheetId: 'sheet-b', sheet: 'Leads', table: 'public.b', secretVersion: 3 }],
      }),
    );
    const plain = await sheetsync(['secret', '--spreadsheet', 'sheet-a'], {
      SHEETSYNC_WEBHOOK_SECRET: master,
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.trim()).toBe(spreadsheetSecret(master, 'sheet-a'));
    const rotated = await sheetsync(['secret', '--spreadsheet', 'sheet-b', '--config', config], {
      SHEETSYNC_WEBHOOK_SECRET: master,
    });
    expect(rotated.stdout.trim()).toBe(spreadsheetSecret(master, 'sheet-b', 3));
    expect(rotated.stdout).not.toContain(master);
  }, 60_000);

  it('without a webhook secret, exits 1 saying where to find one', async () => {
    const run = await sheetsync(['secret', '--spreadsheet', 'x'], { SHEETSYNC_WEBHOOK_SECRET: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SHEETSYNC_E110');
    expect(run.stderr).toContain('SHEETSYNC_WEBHOOK_SECRET');
  }, 60_000);
});
