/**
 * Custom conflict resolvers (functions/src/custom-resolver.ts): loading the module a link names,
 * and the wrapper that turns a failing resolver into an open manual conflict, through the core's
 * decision (mergeSheetChange), which reads the policy label right after the choice.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conflictPolicyOf, loadConfigFile, parseConfig } from '../../functions/src/config.ts';
import { parseColumnType } from '../../functions/src/core/column-type.ts';
import type { ConflictPolicy } from '../../functions/src/core/conflict-policy.ts';
import { mergeSheetChange } from '../../functions/src/core/merge-sheet-change.ts';
import type { RowDocument } from '../../functions/src/core/row-document.ts';
import {
  customPolicy,
  type LoadedResolver,
  loadResolvers,
  type ResolverFunction,
  ResolverLoadError,
} from '../../functions/src/custom-resolver.ts';
import type { Logger, LogLabels } from '../../functions/src/log.ts';
import type { RowChange } from '../../functions/src/wire/row-change.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
const rowId = '7f1c2d3e-4b5a-4c6d-8e7f-901234567890';
const types = { score: parseColumnType('integer'), notes: parseColumnType('text') };

/** A row whose `score` (10) and `notes` were written by the DB and shown on the sheet at t=100. */
function synced(): RowDocument {
  const dbCell = (value: string | number) => ({
    value,
    dot: 'db:5',
    time: { wall: 90, logical: 0 },
    echoed: true,
    sheetValue: value,
    sheetWrittenAt: 100,
  });
  return {
    rowId,
    key: { id: 1 },
    vv: { sheet: 2, db: 5 },
    cells: { score: dbCell(10), notes: dbCell('called') },
    tombstone: null,
    events: {},
    eventsFloor: 0,
  };
}

/** A sheet edit made at t=99: before the DB value was shown, so concurrent with it. */
function concurrentEdit(cells: RowChange['cells']): RowChange {
  return {
    link: 'crm',
    rowId,
    op: 'upsert',
    cells,
    origin: 'sheet',
    time: { wall: 99, logical: 0 },
    eventId: 'e-99',
  };
}

function recordingLogger() {
  const entries: Array<{ severity: string; message: string; labels: LogLabels }> = [];
  const logger: Logger = {
    debug: (message, labels = {}) => entries.push({ severity: 'DEBUG', message, labels }),
    info: (message, labels = {}) => entries.push({ severity: 'INFO', message, labels }),
    warn: (message, labels = {}) => entries.push({ severity: 'WARNING', message, labels }),
    error: (message, labels = {}) => entries.push({ severity: 'ERROR', message, labels }),
    child: () => logger,
  };
  return { logger, entries };
}

function policyWith(resolve: ResolverFunction, logger: Logger, name = 'rule'): ConflictPolicy {
  const resolver: LoadedResolver = { name, path: `/x/${name}.js`, resolve };
  return {
    default: 'last-writer-wins',
    columns: { score: customPolicy({ link: 'crm', resolver, types, logger }) },
  };
}

function decide(policy: ConflictPolicy, cells: RowChange['cells'] = { score: 7 }) {
  const decision = mergeSheetChange(synced(), concurrentEdit(cells), {
    policy,
    dbRow: { id: 1, score: 10, notes: 'called' },
    now: 1000,
    attempt: 1,
  });
  if (decision.kind !== 'apply') throw new Error(`expected apply, got ${decision.kind}`);
  return decision;
}

describe('a custom resolver, wrapped', () => {
  it('a merged value reaches the table and the row document (the sheet, through the echo)', () => {
    const { logger, entries } = recordingLogger();
    const decision = decide(
      policyWith(({ sheet, db }) => ({ value: Number(sheet.value) + Number(db.value) }), logger, 'sum'),
    );
    expect(decision.cells).toEqual({ score: 17 });
    expect(decision.outcomes).toEqual([{ column: 'score', kind: 'apply', value: 17 }]);
    // Not echoed yet: applyToSheet writes the DB's echo, 17, over the sheet's 7.
    expect(decision.next.cells.score).toMatchObject({ value: 17, echoed: false });
    expect(decision.conflicts).toEqual([
      expect.objectContaining({
        policy: 'custom:sum',
        outcome: 'custom',
        value: 17,
        status: 'resolved',
        sheet: expect.objectContaining({ value: 7 }),
        db: expect.objectContaining({ value: 10, dot: 'db:5' }),
      }),
    ]);
    expect(entries.filter((e) => e.severity === 'ERROR')).toEqual([]);
  });

  it('gives the resolver the link, row, column and both sides', () => {
    const seen: unknown[] = [];
    decide(
      policyWith((conflict) => {
        seen.push(conflict);
        return 'sheet';
      }, recordingLogger().logger),
    );
    expect(seen).toEqual([
      {
        link: 'crm',
        rowId,
        column: 'score',
        sheet: { value: 7, dot: 'sheet:3', time: { wall: 99, logical: 0 } },
        db: { value: 10, dot: 'db:5', time: { wall: 90, logical: 0 } },
      },
    ]);
  });

  it('stores a computed value in the column’s canonical form', () => {
    const decision = decide(policyWith(() => ({ value: '12' }), recordingLogger().logger));
    expect(decision.cells).toEqual({ score: 12 });
  });

  const failures: Array<[string, ResolverFunction, RegExp]> = [
    [
      'throws',
      (c) => {
        throw new Error(`no idea about ${c.sheet.value}`);
      },
      /threw \(Error; its message is logged at DEBUG\)/,
    ],
    [
      'returns a value that does not fit the column',
      () => ({ value: 'lots' }),
      /does not fit the column \(integer\)/,
    ],
    [
      'returns something else',
      () => 'both',
      /returned another string instead of 'sheet', 'db' or \{ value \}/,
    ],
    ['returns undefined', () => undefined, /returned a undefined/],
    ['returns { value: undefined }', () => ({ value: undefined }), /an object with keys \[value\]/],
    ['returns a Promise', async () => 'sheet', /returned a Promise/],
    ['returns a Date', () => ({ value: new Date(0) as never }), /not JSON data/],
    ['returns NaN', () => ({ value: Number.NaN }), /not JSON data/],
  ];
  for (const [what, resolve, problem] of failures) {
    it(`when it ${what}: keeps the DB value, leaves the conflict open under its label, logs E411 without values`, () => {
      const { logger, entries } = recordingLogger();
      const decision = decide(policyWith(resolve, logger));
      expect(decision.cells).toEqual({});
      expect(decision.outcomes).toEqual([{ column: 'score', kind: 'keep-db', value: 10 }]);
      expect(decision.conflicts).toEqual([
        expect.objectContaining({
          policy: expect.stringMatching(/^custom:/),
          outcome: 'db',
          status: 'open',
          value: 10,
          sheet: expect.objectContaining({ value: 7 }),
        }),
      ]);
      const errors = entries.filter((e) => e.severity === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(problem);
      expect(errors[0]!.labels).toEqual({ link: 'crm', rowId, column: 'score', code: 'SHEETSYNC_E411' });
      // Neither cell value appears in what is logged above DEBUG.
      for (const entry of entries.filter((e) => e.severity !== 'DEBUG')) {
        expect(JSON.stringify(entry)).not.toMatch(/\b(7|10)\b/);
      }
    });
  }

  it('a failure leaves only its own decision open; the next is decided and closed', () => {
    const { logger } = recordingLogger();
    let fail = true;
    const policy = policyWith(() => {
      if (fail) throw new Error('first time');
      return 'db';
    }, logger);
    expect(decide(policy).conflicts[0]).toMatchObject({
      policy: expect.stringMatching(/^custom:/),
      status: 'open',
    });
    fail = false;
    expect(decide(policy).conflicts[0]).toMatchObject({
      policy: 'custom:rule',
      status: 'resolved',
      outcome: 'db',
    });
  });

  it('decides a redelivered change the same way (a deterministic resolver gives the same record)', () => {
    const policy = policyWith(
      ({ sheet, db }) => ({ value: Math.max(Number(sheet.value), Number(db.value)) }),
      recordingLogger().logger,
    );
    const first = decide(policy, { score: 12 });
    const again = decide(policy, { score: 12 });
    expect(again).toEqual(first);
    expect(first.cells).toEqual({ score: 12 });
  });

  it('gives the resolver a copy: changing its argument changes nothing decided', () => {
    const decision = decide(
      policyWith((conflict) => {
        conflict.sheet.time.wall = 0;
        conflict.sheet.value = 1000;
        return 'sheet';
      }, recordingLogger().logger),
    );
    expect(decision.cells).toEqual({ score: 7 });
    expect(decision.conflicts[0]).toMatchObject({ sheet: { value: 7, time: { wall: 99, logical: 0 } } });
  });

  it('leaves columns under another policy alone', () => {
    const calls: string[] = [];
    const decision = decide(
      policyWith((c) => {
        calls.push(c.column);
        return 'db';
      }, recordingLogger().logger),
      { notes: 'emailed' },
    );
    expect(calls).toEqual([]);
    expect(decision.conflicts[0]).toMatchObject({ policy: 'last-writer-wins', outcome: 'sheet' });
  });
});

describe('loading resolver modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-resolvers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const link = (name: string, resolver: string) => ({
    name,
    spreadsheetId: 's',
    sheet: 'Leads',
    table: 'public.leads',
    conflict: { policy: 'custom', resolver },
  });

  it('imports a .js and a .ts module relative to the config file, named by file', async () => {
    mkdirSync(join(dir, 'r'), { recursive: true });
    // The TypeScript example imports a type only, which tsx erases.
    copyFileSync(join(repoRoot, 'examples/resolvers/concat-notes.ts'), join(dir, 'r/concat.ts'));
    const keepLarger = join(repoRoot, 'examples/resolvers/keep-larger.js');
    const concat = { policy: 'db-wins', columns: { notes: 'custom' }, resolver: 'r/concat.ts' };
    writeFileSync(
      join(dir, 'links.json'),
      JSON.stringify({ links: [link('a', keepLarger), { ...link('b', ''), conflict: concat }] }),
    );
    const config = loadConfigFile(join(dir, 'links.json'));
    expect(config.links[1]!.conflict.resolver).toBe(join(dir, 'r/concat.ts'));
    const resolvers = await loadResolvers(config, 'links.json');
    expect(resolvers.get('a')!.name).toBe('keep-larger');
    expect(resolvers.get('b')!.name).toBe('concat');
    const side = (value: number | string) => ({ value, dot: 'd', time: { wall: 1, logical: 0 } });
    const conflict = { link: 'a', rowId, column: 'score', sheet: side(3), db: side(9) };
    expect(resolvers.get('a')!.resolve(conflict)).toBe('db');
    expect(resolvers.get('b')!.resolve({ ...conflict, sheet: side('b'), db: side('a') })).toEqual({
      value: 'a\nb',
    });
  });

  it('refuses a missing file, a syntax error and a non-function export, naming each field (E105)', async () => {
    writeFileSync(join(dir, 'broken.js'), 'export default (conflict) => {\n');
    const config = parseConfig(
      {
        links: [
          link('missing', 'nowhere/resolver.js'),
          link('broken', 'broken.js'),
          link('object', join(repoRoot, 'test/fixtures/resolvers/not-a-function.js')),
          { ...link('plain', 'x'), conflict: { policy: 'manual' } },
        ],
      },
      'links.json',
      { baseDir: dir },
    );
    const error = await loadResolvers(config, 'links.json').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ResolverLoadError);
    expect((error as ResolverLoadError).code).toBe('SHEETSYNC_E105');
    expect((error as ResolverLoadError).problems).toEqual([
      expect.stringMatching(
        /^links\[0\]\.conflict\.resolver: no file .*nowhere\/resolver\.js; the path is relative to the config file/,
      ),
      expect.stringMatching(
        /^links\[1\]\.conflict\.resolver: importing .*broken\.js failed: .*; fix the module/,
      ),
      expect.stringMatching(
        /^links\[2\]\.conflict\.resolver: .*not-a-function\.js has no default export function \(found a object\)/,
      ),
    ]);
    expect((error as Error).message).toContain('Cannot load the custom conflict resolvers of links.json');
  });

  it('names the resolver field when custom has none, or a resolver has no custom policy', () => {
    const problems = (conflict: object) => {
      try {
        parseConfig({ links: [{ ...link('x', 'r.js'), conflict }] });
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
      return [];
    };
    expect(problems({ columns: { score: 'custom' } })).toEqual([
      expect.stringMatching(/^links\[0\]\.conflict\.resolver: policy "custom" needs "resolver"/),
    ]);
    expect(problems({ policy: 'manual', resolver: 'r.js' })).toEqual([
      expect.stringMatching(/^links\[0\]\.conflict\.resolver: is set but no policy is "custom"/),
    ]);
  });

  it('refuses a custom policy whose resolver was not loaded (E103), rather than another rule', () => {
    const config = parseConfig({ links: [link('x', 'r.js')] });
    expect(() => conflictPolicyOf(config.links[0]!)).toThrow(
      expect.objectContaining({
        code: 'SHEETSYNC_E103',
        message: expect.stringMatching(/resolver module was not loaded/),
      }),
    );
  });
});
