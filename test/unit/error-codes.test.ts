/**
 * Every error code the code can raise is documented in docs/errors.md (its cause and remedy), and
 * every documented code is still raised somewhere: a user searching a code from the logs finds it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const SOURCES = ['functions/src', 'cli/src', 'apps-script', 'sql', 'emulator/src', 'terraform'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const codesIn = (text: string) => new Set(text.match(/SHEETSYNC_E\d{3}/g) ?? []);

describe('error codes', () => {
  const documented = new Set(
    [...readFileSync(join(root, 'docs/errors.md'), 'utf8').matchAll(/\*\*(SHEETSYNC_E\d{3}) — /g)].map(
      (m) => m[1]!,
    ),
  );
  const used = new Set<string>();
  for (const dir of SOURCES) {
    for (const file of files(join(root, dir))) {
      if (!/\.(ts|js|sql|tf|gs)$/.test(file)) continue;
      for (const code of codesIn(readFileSync(file, 'utf8'))) used.add(code);
    }
  }

  it('documents every code the code raises', () => {
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((code) => !documented.has(code)).sort()).toEqual([]);
  });

  it('raises every documented code somewhere', () => {
    expect([...documented].filter((code) => !used.has(code)).sort()).toEqual([]);
  });
});
