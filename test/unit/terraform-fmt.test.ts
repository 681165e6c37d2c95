import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const moduleDir = new URL('../../terraform', import.meta.url).pathname;

describe('terraform fmt', () => {
  it('finds terraform/ formatted (terraform fmt -check -recursive runs offline)', () => {
    // Throws with terraform's list of unformatted files when the check fails.
    const output = execFileSync('terraform', ['fmt', '-check', '-recursive', moduleDir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).toBe('');
  });
});
