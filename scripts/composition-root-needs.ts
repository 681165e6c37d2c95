/**
 * What each entry point of the composition root (functions/src/index.ts) reaches, read from its
 * source with the TypeScript parser: the registration `http(name, …)` or `cloudEvent(name, …)`
 * (a Pub/Sub push function: `http(name, pubsubPush({ parse, … }))`),
 * then every top-level binding its expression names, transitively. The services are told by the
 * modules those bindings import (the Firestore client, the Pub/Sub bus, postgres, the Sheets
 * API), the topics by the `*_TOPIC` constants they name, the environment by `env('X')` (required)
 * and `process.env.X` (optional) reads.
 *
 * It over-approximates on purpose: a binding named anywhere in the closure counts, even in a
 * branch that never runs, so a need the code might have is never missed.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { DB_CHANGES_TOPIC } from '../functions/src/wire/db-change.ts';
import { SHEET_CHANGES_TOPIC } from '../functions/src/wire/sheet-change.ts';

export type Service = 'firestore' | 'pubsub' | 'database' | 'sheets';

/** The modules whose values make a client of a Google service or of the database. */
export const SERVICE_MODULES: Readonly<Record<string, Service>> = {
  '@google-cloud/firestore': 'firestore',
  '@google-cloud/pubsub': 'pubsub',
  './adapters/pubsub-bus.ts': 'pubsub',
  postgres: 'database',
  './adapters/postgres-connection.ts': 'database',
  '@googleapis/sheets': 'sheets',
  './adapters/sheets/sheets-api.ts': 'sheets',
};

/** Topic constants the code publishes with, and the topic names they hold. */
const TOPIC_CONSTANTS: Readonly<Record<string, string>> = { SHEET_CHANGES_TOPIC, DB_CHANGES_TOPIC };

export interface EntryPointUse {
  kind: 'http' | 'cloudEvent' | 'pubsubPush';
  /** For a cloudEvent or pubsubPush function: the topic whose messages its parser reads. */
  triggerTopic?: string;
  services: Set<Service>;
  /** Topic names it publishes to (the values of the `*_TOPIC` constants it names). */
  publishes: Set<string>;
  /** `env('X')`: the function fails without X. */
  requiredEnv: Set<string>;
  /** `process.env.X`: read when present. */
  optionalEnv: Set<string>;
  problems: string[];
}

interface Refs {
  names: Set<string>;
  requiredEnv: Set<string>;
  optionalEnv: Set<string>;
}

/** Reads `file` (default functions/src/index.ts) and answers per registered entry point. */
export function entryPointUses(
  file = new URL('../functions/src/index.ts', import.meta.url).pathname,
): Map<string, EntryPointUse> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const imports = new Map<string, string>();
  const bindings = new Map<string, ts.Node>();
  const registrations: Array<{ name: string; kind: EntryPointUse['kind']; handler: ts.Node }> = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (!clause || clause.isTypeOnly || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const from = statement.moduleSpecifier.text;
      if (clause.name) imports.set(clause.name.text, from);
      const named = clause.namedBindings;
      if (named && ts.isNamedImports(named))
        for (const element of named.elements) if (!element.isTypeOnly) imports.set(element.name.text, from);
      if (named && ts.isNamespaceImport(named)) imports.set(named.name.text, from);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name) && declaration.initializer)
          bindings.set(declaration.name.text, declaration.initializer);
    } else if (ts.isFunctionDeclaration(statement) && statement.name) {
      bindings.set(statement.name.text, statement);
    } else if (ts.isExpressionStatement(statement) && ts.isCallExpression(statement.expression)) {
      const call = statement.expression;
      const [name, handler] = call.arguments;
      const callee = ts.isIdentifier(call.expression) ? call.expression.text : '';
      if ((callee === 'http' || callee === 'cloudEvent') && name && handler && ts.isStringLiteral(name)) {
        const push =
          callee === 'http' &&
          ts.isCallExpression(handler) &&
          ts.isIdentifier(handler.expression) &&
          handler.expression.text === 'pubsubPush';
        registrations.push({ name: name.text, kind: push ? 'pubsubPush' : callee, handler });
      }
    }
  }

  const uses = new Map<string, EntryPointUse>();
  for (const { name, kind, handler } of registrations) {
    const use: EntryPointUse = {
      kind,
      services: new Set(),
      publishes: new Set(),
      requiredEnv: new Set(),
      optionalEnv: new Set(),
      problems: [],
    };
    const seen = new Set<string>();
    const queue = [...referencesOf(handler).names];
    const direct = referencesOf(handler);
    for (const env of direct.requiredEnv) use.requiredEnv.add(env);
    for (const env of direct.optionalEnv) use.optionalEnv.add(env);
    while (queue.length > 0) {
      const reached = queue.pop()!;
      if (seen.has(reached)) continue;
      seen.add(reached);
      const from = imports.get(reached);
      if (from !== undefined) {
        const service = SERVICE_MODULES[from];
        if (service) use.services.add(service);
        if (reached in TOPIC_CONSTANTS) use.publishes.add(TOPIC_CONSTANTS[reached]!);
        continue;
      }
      const binding = bindings.get(reached);
      if (!binding) continue;
      const refs = referencesOf(binding);
      queue.push(...refs.names);
      for (const env of refs.requiredEnv) use.requiredEnv.add(env);
      for (const env of refs.optionalEnv) use.optionalEnv.add(env);
    }
    if (kind === 'cloudEvent' || kind === 'pubsubPush') {
      // The parser it names comes from the wire module that also exports the topic's constant.
      const modules = new Set([...direct.names].map((n) => imports.get(n)).filter((m) => m !== undefined));
      const topics = [...imports]
        .filter(([constant, from]) => constant in TOPIC_CONSTANTS && modules.has(from))
        .map(([constant]) => TOPIC_CONSTANTS[constant]!);
      if (topics.length === 1) use.triggerTopic = topics[0]!;
      else use.problems.push(`${name}: cannot tell which topic's messages it reads (${topics.length} found)`);
    }
    if (use.services.has('pubsub') && use.publishes.size === 0)
      use.problems.push(`${name}: reaches the Pub/Sub bus but names no *_TOPIC constant to publish to`);
    if (use.publishes.size > 0 && !use.services.has('pubsub'))
      use.problems.push(`${name}: names a topic constant but reaches no Pub/Sub client`);
    uses.set(name, use);
  }
  return uses;
}

function referencesOf(root: ts.Node): Refs {
  const refs: Refs = { names: new Set(), requiredEnv: new Set(), optionalEnv: new Set() };
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && !isPropertyName(node)) refs.names.add(node.text);
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'env' &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      refs.requiredEnv.add(node.arguments[0].text);
    if (ts.isPropertyAccessExpression(node) && isProcessEnv(node.expression))
      refs.optionalEnv.add(node.name.text);
    if (
      ts.isElementAccessExpression(node) &&
      isProcessEnv(node.expression) &&
      ts.isStringLiteral(node.argumentExpression)
    )
      refs.optionalEnv.add(node.argumentExpression.text);
    ts.forEachChild(node, visit);
  };
  visit(root);
  return refs;
}

/** `a.name`, `{ name: … }`, a declared name: not a reference to a binding called `name`. */
function isPropertyName(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (!parent) return false;
  if (ts.isPropertyAccessExpression(parent)) return parent.name === node;
  if (ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertySignature(parent))
    return parent.name === node;
  if (ts.isParameter(parent) || ts.isVariableDeclaration(parent) || ts.isBindingElement(parent))
    return parent.name === node;
  return false;
}

function isProcessEnv(node: ts.Expression): boolean {
  return (
    ts.isPropertyAccessExpression(node) &&
    node.name.text === 'env' &&
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'process'
  );
}
