/**
 * The import graph of the product code (functions/src, cli/src, emulator/src), read with the
 * TypeScript parser and resolver, and two rules over it:
 * - no import cycle: a cycle makes module start-up order matter (a `const` read before its module
 *   ran is `undefined` or a TDZ error) and ties the modules into one unit of change;
 * - the local sheet stands alone: emulator/ stands in for Google and knows nothing of sheetsync,
 *   so nothing under emulator/ imports from the rest of the repository (only itself and packages).
 *
 * Every import counts, `import type` and `export … from` and `import()` too: a type-only cycle is
 * harmless at run time but couples the modules all the same.
 *
 * Usage: `npx tsx scripts/import-graph.ts`; prints each problem, exit 1 when there is one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = new URL('..', import.meta.url).pathname;

/** The directories whose modules make the graph, relative to the repository. */
export const PRODUCT_DIRS = ['functions/src', 'cli/src', 'emulator/src'] as const;

/** Module → the repository modules it imports; paths relative to `root`, with `/`. */
export type ImportGraph = Map<string, Set<string>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Reads the modules under `dirs` and resolves their imports as tsconfig.json does. */
export function importGraph(root = ROOT, dirs: readonly string[] = PRODUCT_DIRS): ImportGraph {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const options = config?.options ?? { module: ts.ModuleKind.NodeNext };
  const host = ts.createCompilerHost(options);
  const graph: ImportGraph = new Map();
  for (const file of dirs.flatMap((dir) => sourceFiles(join(root, dir)))) {
    const edges = new Set<string>();
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, options, host).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) continue;
      const target = relative(root, resolved.resolvedFileName).split('\\').join('/');
      if (!target.startsWith('..') && !target.includes('node_modules/')) edges.add(target);
    }
    graph.set(relative(root, file).split('\\').join('/'), edges);
  }
  return graph;
}

/**
 * The cycles of `graph`: one per strongly connected component of two or more modules (or a module
 * that imports itself), as a path that starts and ends at its first module in sort order.
 */
export function importCycles(graph: ImportGraph): string[][] {
  return tangles(graph).map((component) => cyclePath(graph, new Set(component)));
}

/** The strongly connected components that hold a cycle, each sorted, in sort order. */
function tangles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a deep chain of imports cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const edgesOf = (node: string) => [...(graph.get(node) ?? [])].sort();
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; edges: string[]; at: number }> = [];
    const enter = (node: string) => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: edgesOf(node), at: 0 });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.at < frame.edges.length) {
        const to = frame.edges[frame.at++]!;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1 || graph.get(frame.node)?.has(frame.node)) components.push(component);
    }
  }
  return components.map((component) => component.sort()).sort((x, y) => (x[0]! < y[0]! ? -1 : 1));
}

/** A shortest path from the component's first module back to itself, inside the component. */
function cyclePath(graph: ImportGraph, component: Set<string>): string[] {
  const first = [...component].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [first];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of [...(graph.get(node) ?? [])].sort()) {
      if (!component.has(to)) continue;
      if (to === first) {
        const path = [first];
        for (let at: string | undefined = node; at !== undefined && at !== first; at = cameFrom.get(at))
          path.splice(1, 0, at);
        return [...path, first];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [first, first];
}

/** Imports from emulator/ of anything in the repository outside emulator/. */
export function emulatorLeaks(graph: ImportGraph): string[] {
  const leaks: string[] = [];
  for (const [from, edges] of graph) {
    if (!from.startsWith('emulator/')) continue;
    for (const to of edges) if (!to.startsWith('emulator/')) leaks.push(`${from} imports ${to}`);
  }
  return leaks.sort();
}

/** Every broken rule, one line each. */
export function importProblems(graph = importGraph()): string[] {
  return [
    ...tangles(graph).map((component) => {
      const cycle = cyclePath(graph, new Set(component));
      const others = component.filter((module) => !cycle.includes(module));
      const also = others.length > 0 ? ` (tangled with it: ${others.join(', ')})` : '';
      return `import cycle: ${cycle.join(' → ')}${also}`;
    }),
    ...emulatorLeaks(graph).map((leak) => `the local sheet must stand alone: ${leak}`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const graph = importGraph();
  const problems = importProblems(graph);
  for (const problem of problems) console.error(problem);
  console.log(`import graph: ${graph.size} modules, ${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
