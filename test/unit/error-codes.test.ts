/**
 * Every error code the code can raise is documented in docs/errors.md (its cause and remedy), and
 * every documented code is still raised somewhere: a user searching a code from the logs finds it.
 * The registry (functions/src/error-codes.ts) types the codes of the TypeScript; docs/errors.md and
 * it list exactly the same codes under the same titles. What the type cannot reach (the Apps
 * Script, which cannot import it, the SQL and the terraform) is checked against it here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from '../../functions/src/error-codes.ts';

const root = join(import.meta.dirname, '../..');
const SOURCES = ['functions/src', 'cli/src', 'apps-script', 'sql', 'emulator/src', 'terraform'];
/** The registry names every code; counting it as a use would make "raised somewhere" vacuous. */
const REGISTRY = 'functions/src/error-codes.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const codesIn = (text: string) => new Set(text.match(/SHEETSYNC_E\d{3}/g) ?? []);

/** The codes used in the files of `dirs`, outside the registry. */
function usedIn(dirs: readonly string[]): Set<string> {
  const used = new Set<string>();
  for (const dir of dirs) {
    for (const file of files(join(root, dir))) {
      if (!/\.(ts|js|sql|tf|gs)$/.test(file) || relative(root, file) === REGISTRY) continue;
      for (const code of codesIn(readFileSync(file, 'utf8'))) used.add(code);
    }
  }
  return used;
}

/** `**SHEETSYNC_Ennn — title.**` entries of docs/errors.md, by code. */
function documentedTitles(): Map<string, string> {
  const text = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  return new Map(
    [...text.matchAll(/\*\*(SHEETSYNC_E\d{3}) — (.+?)\.?\*\*/g)].map((m) => [m[1]!, m[2]!] as const),
  );
}

const notIn = (codes: Iterable<string>, set: { has(code: string): boolean }) =>
  [...codes].filter((code) => !set.has(code)).sort();

describe('error codes', () => {
  const documented = new Set(
    [...readFileSync(join(root, 'docs/errors.md'), 'utf8').matchAll(/\*\*(SHEETSYNC_E\d{3}) — /g)].map(
      (m) => m[1]!,
    ),
  );
  const used = usedIn(SOURCES);
  const registry = new Set(Object.keys(ERROR_CODES));

  it('documents every code the code raises', () => {
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((code) => !documented.has(code)).sort()).toEqual([]);
  });

  it('raises every documented code somewhere', () => {
    expect([...documented].filter((code) => !used.has(code)).sort()).toEqual([]);
  });

  it('has the same codes in the registry as in docs/errors.md', () => {
    expect(registry.size).toBeGreaterThan(30);
    expect({ onlyInRegistry: notIn(registry, documented), onlyInDocs: notIn(documented, registry) }).toEqual({
      onlyInRegistry: [],
      onlyInDocs: [],
    });
  });

  it('gives each code the title docs/errors.md gives it', () => {
    const titles = documentedTitles();
    const differing = Object.entries(ERROR_CODES)
      .filter(([code, title]) => titles.get(code) !== title)
      .map(([code, title]) => ({ code, registry: title, docs: titles.get(code) }));
    expect(differing).toEqual([]);
  });

  it('has every code the Apps Script, the SQL and the terraform use in the registry', () => {
    for (const dir of ['apps-script', 'sql', 'terraform']) {
      const codes = usedIn([dir]);
      if (dir !== 'terraform') expect(codes.size, dir).toBeGreaterThan(0);
      expect(notIn(codes, registry), dir).toEqual([]);
    }
  });

  it('has every code any source uses in the registry', () => {
    expect(notIn(used, registry)).toEqual([]);
  });

  it('tells registry codes from other strings', () => {
    expect(isErrorCode('SHEETSYNC_E101')).toBe(true);
    expect(isErrorCode('SHEETSYNC_E999')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(101)).toBe(false);
  });
});
