/**
 * `npm run package`: bundles the five Cloud Functions (entry functions/src/index.ts) into
 * dist/functions/ and zips it as dist/functions.zip, the archive terraform/functions.tf uploads.
 *
 * - One ESM file for Node 22 (Cloud Functions' `nodejs22`), syntax also valid on Node 20 where
 *   the tests run. Everything is bundled, so a cold start reads one file instead of resolving
 *   thousands in node_modules, except:
 *   - @google-cloud/functions-framework: the runtime loads our file and reads the functions we
 *     registered from its own module instance; a bundled copy would register into a different one.
 *   - @google-cloud/pubsub and @google-cloud/firestore: google-gax and gRPC load proto descriptors
 *     from files next to their own code at run time.
 *   These are listed, at the versions of the root package.json, in the bundle's package.json, and
 *   Cloud Functions' build installs them.
 * - The zip is reproducible (fixed file times, sorted entries), so terraform's content hash of it
 *   changes, and the functions redeploy, only when the bundle does.
 *
 * - Custom conflict resolvers (`--config FILE`, the links config to deploy): every module a link
 *   names in `conflict.resolver` is bundled on its own (TypeScript compiled, its imports inlined)
 *   to `resolvers/<file name>.js` in the archive, imported once to check its default export is a
 *   function, and the config is written again with those paths (relative to the bundle, where the
 *   deployed functions resolve them) to `links.json` beside the archive: terraform's `links_json`.
 *   The module keeps its file name, so records say the same `custom:<name>` as under npm start.
 *
 * Usage: npm run package [-- --entry <file>] [-- --out <dir>] [-- --config <links.json>]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { loadConfigFile, parseConfig } from '../functions/src/config.ts';
import { loadResolvers, resolverName } from '../functions/src/custom-resolver.ts';
import type { SheetsyncConfig } from '../functions/src/wire/config.ts';

const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '..');

export const EXTERNAL_PACKAGES = [
  '@google-cloud/functions-framework',
  '@google-cloud/pubsub',
  '@google-cloud/firestore',
] as const;

/** Bundled ESM still meets CommonJS dependencies that call require() or read __dirname. */
const CJS_SHIMS = [
  "import { createRequire as __sheetsyncCreateRequire } from 'node:module';",
  "import { fileURLToPath as __sheetsyncFileURLToPath } from 'node:url';",
  "import { dirname as __sheetsyncDirname } from 'node:path';",
  'const require = __sheetsyncCreateRequire(import.meta.url);',
  'const __filename = __sheetsyncFileURLToPath(import.meta.url);',
  'const __dirname = __sheetsyncDirname(__filename);',
].join('\n');

/** Fixed file time inside the zip (zip cannot store times before 1980). */
const ZIP_TIME = new Date('2000-01-01T00:00:00Z');

export interface PackageResult {
  outDir: string;
  zipPath: string;
  bundleBytes: number;
  zipBytes: number;
  /** With `config`: the config to deploy (`links_json`), resolver paths inside the bundle. */
  linksPath?: string;
  /** With `config`: the bundled resolver modules, relative to outDir. */
  resolvers: string[];
}

export async function packageFunctions(
  options: {
    entry?: string;
    outDir?: string;
    zipPath?: string;
    /** A links config whose custom conflict resolvers go into the archive. */
    config?: string;
    /** Where the rewritten config goes. Default: links.json beside the archive. */
    linksPath?: string;
  } = {},
): Promise<PackageResult> {
  const entry = resolve(options.entry ?? join(repoRoot, 'functions/src/index.ts'));
  const outDir = resolve(options.outDir ?? join(repoRoot, 'dist/functions'));
  const zipPath = resolve(options.zipPath ?? join(dirname(outDir), 'functions.zip'));
  if (!existsFile(entry)) throw new Error(`package: entry ${entry} does not exist`);
  // A wrong config (or a resolver path to no file) fails here, before anything is built.
  const config = options.config ? loadConfigFile(options.config) : undefined;
  // Its resolver modules are imported as they are, so a problem is named in the user's file.
  if (config) await loadResolvers(config, options.config);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...EXTERNAL_PACKAGES],
    banner: { js: CJS_SHIMS },
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
  });

  const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of EXTERNAL_PACKAGES) {
    const version = rootPackage.dependencies[name];
    if (!version)
      throw new Error(`package: ${name} is external to the bundle but not a dependency in package.json`);
    dependencies[name] = version;
  }
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'sheetsync-functions',
        version: rootPackage.version,
        private: true,
        type: 'module',
        main: 'index.js',
        engines: { node: '>=20' },
        dependencies,
      },
      null,
      2,
    )}\n`,
  );

  const resolvers = config
    ? await bundleResolvers(
        config,
        options.config!,
        outDir,
        options.linksPath ?? join(dirname(zipPath), 'links.json'),
      )
    : undefined;

  const files = [
    'index.js',
    'index.js.map',
    'index.js.LEGAL.txt',
    'package.json',
    ...(resolvers?.files ?? []),
  ].filter((file) => existsFile(join(outDir, file)));
  for (const file of files) utimesSync(join(outDir, file), ZIP_TIME, ZIP_TIME);
  rmSync(zipPath, { force: true });
  // -X: no extra attributes (uid/gid, extended times), so equal inputs give equal bytes.
  execFileSync('zip', ['-q', '-X', '-D', zipPath, ...files], { cwd: outDir, stdio: 'inherit' });
  return {
    outDir,
    zipPath,
    bundleBytes: statSync(join(outDir, 'index.js')).size,
    zipBytes: statSync(zipPath).size,
    ...(resolvers ? { linksPath: resolvers.linksPath } : {}),
    resolvers: resolvers?.files ?? [],
  };
}

/**
 * Bundles each resolver module of `config` into `outDir/resolvers/`, checks the bundled modules
 * load as the functions will load them, and writes the config with their bundle-relative paths.
 */
async function bundleResolvers(
  config: SheetsyncConfig,
  source: string,
  outDir: string,
  linksPath: string,
): Promise<{ files: string[]; linksPath: string }> {
  const bundled = new Map<string, string>();
  const taken = new Set<string>();
  for (const link of config.links) {
    const path = link.conflict.resolver;
    if (path === undefined || bundled.has(path)) continue;
    // Two modules of one file name (in different folders) each get a folder of their own.
    const name = resolverName(path);
    let file = `resolvers/${name}.js`;
    for (let n = 2; taken.has(file); n++) file = `resolvers/${n}/${name}.js`;
    taken.add(file);
    bundled.set(path, file);
  }
  for (const [path, file] of bundled) {
    await build({
      entryPoints: [path],
      outfile: join(outDir, file),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      banner: { js: CJS_SHIMS },
      legalComments: 'inline',
      logLevel: 'warning',
    });
  }
  const raw = JSON.parse(readFileSync(source, 'utf8')) as {
    links: Array<{ conflict?: { resolver?: string } }>;
  };
  config.links.forEach((link, i) => {
    const conflict = raw.links[i]?.conflict;
    if (conflict?.resolver !== undefined) conflict.resolver = bundled.get(link.conflict.resolver!)!;
  });
  // The functions resolve these paths against the bundle's folder: check they load there.
  await loadResolvers(parseConfig(raw, linksPath, { baseDir: outDir }), linksPath);
  mkdirSync(dirname(linksPath), { recursive: true });
  writeFileSync(linksPath, `${JSON.stringify(raw, null, 2)}\n`);
  return { files: [...bundled.values()].sort(), linksPath };
}

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { entry: { type: 'string' }, out: { type: 'string' }, config: { type: 'string' } },
  });
  const result = await packageFunctions({
    entry: values.entry,
    outDir: values.out,
    config: values.config,
  }).catch((error: Error & { code?: string }) => {
    // A wrong config or resolver: its message says what to fix; no stack trace.
    console.error(`${error.code ? `${error.code}: ` : ''}${error.message}`);
    process.exit(1);
  });
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  console.log(
    `bundled ${relative(process.cwd(), result.outDir)}/index.js (${kib(result.bundleBytes)}), ` +
      `zipped ${relative(process.cwd(), result.zipPath)} (${kib(result.zipBytes)})`,
  );
  if (result.linksPath) {
    console.log(
      `bundled ${result.resolvers.length} conflict resolver(s); deploy with links_json = ` +
        `file("${relative(join(repoRoot, 'terraform'), result.linksPath)}") (terraform/README.md)`,
    );
  }
}
