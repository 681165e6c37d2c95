/**
 * The product code has no import cycle, and the local sheet (emulator/) imports nothing of
 * sheetsync (issue 20, Build 6), read from the sources with the TypeScript resolver
 * (scripts/import-graph.ts). The checker itself is tried on small graphs first.
 */
import { describe, expect, it } from 'vitest';
import {
  emulatorLeaks,
  type ImportGraph,
  importCycles,
  importGraph,
  importProblems,
} from '../../scripts/import-graph.ts';

const graphOf = (edges: Record<string, string[]>): ImportGraph =>
  new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]));

describe('the import checker', () => {
  it('finds each cycle once, as a path back to its first module', () => {
    const graph = graphOf({
      'a.ts': ['b.ts'],
      'b.ts': ['c.ts', 'd.ts'],
      'c.ts': ['a.ts'],
      'd.ts': ['e.ts'],
      'e.ts': ['d.ts'],
      'f.ts': ['f.ts'],
      'g.ts': ['a.ts'],
    });
    expect(importCycles(graph)).toEqual([
      ['a.ts', 'b.ts', 'c.ts', 'a.ts'],
      ['d.ts', 'e.ts', 'd.ts'],
      ['f.ts', 'f.ts'],
    ]);
  });

  it('finds no cycle in a graph without one, however deep', () => {
    const chain = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`m${i}.ts`, [`m${i + 1}.ts`]]),
    );
    expect(importCycles(graphOf({ ...chain, 'x.ts': ['m0.ts', 'm5.ts'] }))).toEqual([]);
  });

  it('finds what the emulator imports from outside emulator/', () => {
    const graph = graphOf({
      'emulator/src/a.ts': ['emulator/src/b.ts', 'functions/src/log.ts'],
      'emulator/src/b.ts': [],
      'cli/src/start.ts': ['emulator/src/a.ts'],
    });
    expect(emulatorLeaks(graph)).toEqual(['emulator/src/a.ts imports functions/src/log.ts']);
  });

  it('reads the real imports, type-only and re-exports too', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    // import type { Logger } from '../log.ts'
    expect(graph.get('emulator/src/apps-script/runtime.ts')).toContain('emulator/src/log.ts');
    // import { SheetsyncError } from '../errors.ts'
    expect(graph.get('functions/src/sync-jobs/attach.ts')).toContain('functions/src/errors.ts');
    // cli/src imports the emulator (allowed: only the other way round is not)
    expect(graph.get('cli/src/start.ts')).toContain('emulator/src/server.ts');
  });
});

describe('functions/src, cli/src and emulator/src', () => {
  it('have no import cycle, and the local sheet stands alone', () => {
    expect(importProblems()).toEqual([]);
  });
});
