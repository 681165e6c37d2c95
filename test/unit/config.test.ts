import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../functions/src/config.ts';

const link = { name: 'leads', spreadsheetId: 'abc', sheet: 'Leads', table: 'public.leads' };

function problems(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('SHEETSYNC_E101');
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

describe('parseConfig', () => {
  it('fills in defaults', () => {
    const config = parseConfig({ links: [link] });
    expect(config.links[0]).toEqual({
      ...link,
      conflict: { policy: 'last-writer-wins', columns: {} },
      addMissingHeaders: false,
      addMissingColumns: false,
      safety: { maxDeleteRows: 20, maxDeleteShare: 0.1 },
      secretVersion: 1,
    });
  });

  it("takes a link's mass-change thresholds and names a wrong one", () => {
    const config = parseConfig({ links: [{ ...link, safety: { maxDeleteRows: 5 } }] });
    expect(config.links[0]!.safety).toEqual({ maxDeleteRows: 5, maxDeleteShare: 0.1 });
    expect(problems({ links: [{ ...link, safety: { maxDeleteShare: 2 } }] })).toEqual([
      'links[0].safety.maxDeleteShare: must be between 0 and 1',
    ]);
  });

  it('takes addMissingColumns (issue 19) and names a wrong value', () => {
    expect(parseConfig({ links: [{ ...link, addMissingColumns: true }] }).links[0]!.addMissingColumns).toBe(
      true,
    );
    expect(problems({ links: [{ ...link, addMissingColumns: 'yes' }] })).toEqual([
      expect.stringMatching(/^links\[0\]\.addMissingColumns: must be true or false/),
    ]);
  });

  it('names a missing field', () => {
    expect(problems({ links: [{ ...link, table: undefined }] })).toEqual([
      expect.stringMatching(/^links\[0\]\.table: is required/),
    ]);
  });

  it('names a misspelt field', () => {
    expect(problems({ links: [{ ...link, tabel: 'x' }] })).toEqual([
      expect.stringMatching(/^links\[0\]\.tabel: unknown field/),
    ]);
  });

  it('names a duplicate link name', () => {
    expect(problems({ links: [link, { ...link, sheet: 'Other' }] })).toEqual([
      'links[1].name: duplicate link name "leads" (also used by links[0]); link names must be unique',
    ]);
  });

  it('refuses a quoted or spaced table name', () => {
    expect(problems({ links: [{ ...link, table: 'public."le ads"' }] })[0]).toMatch(
      /^links\[0\]\.table: must be/,
    );
  });

  it('wants a resolver for the custom policy', () => {
    expect(problems({ links: [{ ...link, conflict: { policy: 'custom' } }] })[0]).toMatch(/needs "resolver"/);
  });

  it('reports every problem at once', () => {
    expect(problems({ links: [{ name: 'Bad Name' }] }).length).toBeGreaterThanOrEqual(4);
  });
});
