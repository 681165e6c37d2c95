/**
 * sql/install.sql is a list of parts (psql's `\ir`, relative to the file); installSchema inlines
 * them as psql does. Every part must be installed, once, in its numbered order: a part left out
 * of the list would leave its functions at an older version on every upgrade.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installScript } from '../../functions/src/adapters/postgres-schema.ts';

const PARTS = join(import.meta.dirname, '../../sql/postgres');

describe('the PostgreSQL install script', () => {
  const script = installScript();
  const parts = readdirSync(PARTS)
    .filter((f) => f.endsWith('.sql'))
    .sort();

  it('inlines every include, leaving no psql command for postgres.js to choke on', () => {
    expect(script).not.toMatch(/^\\/m);
  });

  it('installs every part of sql/postgres once, in the order of their numbers', () => {
    expect(parts.length).toBeGreaterThan(1);
    const at = parts.map((part) => {
      const text = readFileSync(join(PARTS, part), 'utf8');
      const first = script.indexOf(text);
      expect(first, `${part} is not in sql/install.sql`).toBeGreaterThanOrEqual(0);
      expect(script.indexOf(text, first + 1), `${part} is installed twice`).toBe(-1);
      return first;
    });
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it('takes the install lock before anything else', () => {
    const statements = script.replace(/^--.*$/gm, '').trim();
    expect(statements.startsWith("select pg_advisory_xact_lock(hashtext('sheetsync.install'));")).toBe(true);
  });
});
