/**
 * `npm run package` builds the archive Cloud Functions deploys, and the archive runs the way
 * Cloud Functions runs it: functions-framework, started on the unpacked bundle with
 * `--target=<entry point>`, finds each of the five functions with its signature type. With
 * `--config`, the links config's custom conflict resolvers are in the archive and the functions
 * load them from there.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXTERNAL_PACKAGES, type PackageResult, packageFunctions } from '../../scripts/package-functions.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const frameworkMain = join(require.resolve('@google-cloud/functions-framework'), '..', 'main.js');

/**
 * terraform/main.tf deploys these entry points, all HTTP: called by Apps Script, Cloud Scheduler
 * and Pub/Sub's push subscriptions (applyToDb, applyToSheet: runtime/pubsub-push.ts).
 */
const FUNCTIONS = {
  sheetWebhook: 'http',
  applyToDb: 'http',
  applyToSheet: 'http',
  outboxRelay: 'http',
  reconcile: 'http',
} as const;

let packaged: PackageResult;
let workDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // Inside the repository, so the bundle's external packages resolve from its node_modules, as
  // they will from the node_modules that Cloud Functions' build installs next to it.
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  workDir = mkdtempSync(join(repoRoot, 'dist', 'package-test-'));
  packaged = await packageFunctions({ outDir: join(workDir, 'functions') });
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const LINKS = {
  links: [{ name: 'leads', spreadsheetId: 'sheet-1', sheet: 'Leads', table: 'public.leads' }],
};

/**
 * Starts functions-framework on the unpacked archive; resolves with its start-up output. Without
 * a `port` it stops the server once started; with one, the server keeps answering there.
 */
function serve(dir: string, target: string, links: object = LINKS, port?: number): Promise<string> {
  const child = spawn(
    process.execPath,
    [frameworkMain, `--target=${target}`, `--source=${dir}`, `--port=${port ?? 0}`],
    {
      env: {
        ...process.env,
        SHEETSYNC_LINKS: JSON.stringify(links),
        DATABASE_URL: inject('databaseUrl'),
        PUBSUB_EMULATOR_HOST: inject('pubsubEmulatorHost'),
        FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
        GOOGLE_CLOUD_PROJECT: 'sheetsync-test',
        SHEETSYNC_WEBHOOK_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${target} did not start in 60 s:\n${output}`)), 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (/URL: http/.test(output)) {
        clearTimeout(timer);
        if (port === undefined) child.kill('SIGKILL');
        resolve(output);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${target}: functions-framework exited with ${code}:\n${output}`));
    });
  });
}

describe('npm run package', () => {
  it('writes a bundle with a package.json that Cloud Functions can build, and a zip of it', () => {
    const manifest = JSON.parse(readFileSync(join(packaged.outDir, 'package.json'), 'utf8'));
    expect(manifest.main).toBe('index.js');
    expect(manifest.type).toBe('module');
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...EXTERNAL_PACKAGES].sort());
    const listing = execFileSync('unzip', ['-Z1', packaged.zipPath], { encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(expect.arrayContaining(['index.js', 'package.json']));
  });

  it('bundles the code and its dependencies rather than leaving them to node_modules', () => {
    const bundle = readFileSync(join(packaged.outDir, 'index.js'), 'utf8');
    const imported = [...bundle.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
    const packages = imported
      .filter((specifier) => !isBuiltin(specifier))
      .map((specifier) =>
        specifier
          .split('/')
          .slice(0, specifier.startsWith('@') ? 2 : 1)
          .join('/'),
      );
    expect(packages.length).toBeGreaterThan(0);
    for (const name of packages) expect(EXTERNAL_PACKAGES).toContain(name);
  });

  it('is reproducible: packaging twice gives the same zip bytes', async () => {
    const first = readFileSync(packaged.zipPath);
    const again = await packageFunctions({ outDir: join(workDir, 'functions') });
    expect(readFileSync(again.zipPath).equals(first)).toBe(true);
  });

  for (const [target, signature] of Object.entries(FUNCTIONS)) {
    it(`serves ${target} as a ${signature} function from the unpacked archive`, async () => {
      const unpacked = join(workDir, `unzip-${target}`);
      execFileSync('unzip', ['-q', packaged.zipPath, '-d', unpacked]);
      const output = await serve(unpacked, target);
      expect(output).toContain(`Function: ${target}`);
      expect(output).toContain(`Signature type: ${signature}`);
    });
  }

  it('serves the webhook behind its raw-body gate: malformed JSON gets a JSON refusal, not HTML', async () => {
    // As deployed: functions-framework's own main, the target from its command line.
    const unpacked = join(workDir, 'unzip-webhook-gate');
    execFileSync('unzip', ['-q', packaged.zipPath, '-d', unpacked]);
    const port = await freePort();
    await serve(unpacked, 'sheetWebhook', LINKS, port);
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"v":1,',
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'SHEETSYNC_E603', message: expect.any(String) } });
  });

  describe('with --config naming custom conflict resolvers', () => {
    let custom: PackageResult;
    let links: { links: Array<{ conflict?: { resolver?: string } }> };
    let unpacked: string;

    beforeAll(async () => {
      // The config names the modules relative to its own folder, as a user's sheetsync.json would.
      const config = join(workDir, 'sheetsync.json');
      writeFileSync(
        config,
        JSON.stringify({
          links: [
            {
              ...LINKS.links[0],
              conflict: {
                policy: 'manual',
                columns: { notes: 'custom' },
                resolver: '../../examples/resolvers/concat-notes.ts',
              },
            },
            {
              name: 'scores',
              spreadsheetId: 'sheet-1',
              sheet: 'Scores',
              table: 'public.scores',
              conflict: { policy: 'custom', resolver: join(repoRoot, 'examples/resolvers/keep-larger.js') },
            },
          ],
        }),
      );
      custom = await packageFunctions({ outDir: join(workDir, 'custom', 'functions'), config });
      links = JSON.parse(readFileSync(custom.linksPath!, 'utf8'));
      unpacked = join(workDir, 'unzip-custom');
      execFileSync('unzip', ['-q', custom.zipPath, '-d', unpacked]);
    });

    it('puts each resolver in the archive and writes the config to deploy with their paths', () => {
      expect(custom.linksPath).toBe(join(workDir, 'custom', 'links.json'));
      expect(custom.resolvers).toEqual(['resolvers/concat-notes.js', 'resolvers/keep-larger.js']);
      const listing = execFileSync('unzip', ['-Z1', custom.zipPath], { encoding: 'utf8' }).split('\n');
      expect(listing).toEqual(expect.arrayContaining(['index.js', ...custom.resolvers]));
      expect(links.links.map((l) => l.conflict?.resolver)).toEqual(custom.resolvers);
    });

    it('bundles a TypeScript resolver into plain JavaScript that runs from the archive', async () => {
      const module = await import(pathToFileURL(join(unpacked, 'resolvers/concat-notes.js')).href);
      const side = (value: string) => ({ value, dot: 'd', time: { wall: 1, logical: 0 } });
      expect(
        module.default({ link: 'leads', rowId: 'r', column: 'notes', sheet: side('b'), db: side('a') }),
      ).toEqual({ value: 'a\nb' });
    });

    it('serves applyToDb from the unpacked archive with the resolvers loaded', async () => {
      const output = await serve(unpacked, 'applyToDb', links);
      expect(output).toContain('Function: applyToDb');
    });

    it('refuses to start when a resolver named in the config is not in the archive (E105)', async () => {
      const missing = {
        links: [{ ...links.links[1], conflict: { policy: 'custom', resolver: 'resolvers/nope.js' } }],
      };
      const failure = await serve(unpacked, 'applyToDb', missing).then(
        () => '',
        (error: Error) => error.message,
      );
      expect(failure).toContain('SHEETSYNC_E105');
      expect(failure).toMatch(/links\[0\]\.conflict\.resolver: no file .*resolvers\/nope\.js/);
    });

    it('names the field when the config names a resolver file that does not exist', async () => {
      const config = join(workDir, 'missing.json');
      writeFileSync(
        config,
        JSON.stringify({
          links: [{ ...LINKS.links[0], conflict: { policy: 'custom', resolver: 'gone.js' } }],
        }),
      );
      const error = await packageFunctions({ outDir: join(workDir, 'missing', 'functions'), config }).then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(error?.code).toBe('SHEETSYNC_E105');
      expect(error?.message).toMatch(
        /resolvers of .*missing\.json:\n {2}- links\[0\]\.conflict\.resolver: no file .*gone\.js/,
      );
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
