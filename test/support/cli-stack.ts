/**
 * `sheetsync start` as a person runs it, for tests of the CLI against a running stack: a child
 * process in a directory of its own that looks like a clone (symlinks to this checkout), with the
 * environment of a person's shell, and `sheetsync …` commands run there as `npx tsx
 * cli/src/main.ts …`, finding everything through `.sheetsync/local.json`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A directory that looks like a clone of this checkout, without its `.sheetsync`. */
export function cloneLikeDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-clone-'));
  for (const entry of readdirSync(ROOT)) {
    if (entry === '.sheetsync' || entry === '.git' || entry === 'test-artifacts') continue;
    symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  return dir;
}

/** The environment of a person's shell: none of the variables that name services. */
export function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, METADATA_SERVER_DETECTION: 'none' };
  for (const name of [
    'DATABASE_URL',
    'SHEETSYNC_SHEETS_API_URL',
    'SHEETSYNC_CONFIG',
    'SHEETSYNC_STANDINS',
    'FIRESTORE_EMULATOR_HOST',
    'PUBSUB_EMULATOR_HOST',
    'GOOGLE_CLOUD_PROJECT',
  ]) {
    delete env[name];
  }
  return env;
}

/** Runs `sheetsync …` in `cwd`, as a person would, with no service variables. */
export function sheetsyncIn(cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'cli/src/main.ts', ...args],
      { cwd, env: bareEnv(), timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface CliStack {
  cwd: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** What the stack printed so far, stdout and stderr. */
  output(): string;
  /** local.json, once ready. */
  info: Record<string, unknown>;
  sheetsync(args: string[]): Promise<Run>;
  /** SIGINT, and waits for the exit. */
  stop(): Promise<void>;
}

export interface CliStackOptions {
  /** More arguments of `sheetsync start` (e.g. `--config FILE`). */
  args?: string[];
  /** Runs in the clone-like directory before the stack starts (e.g. to write `.sheetsync/` files). */
  prepare?: (cwd: string) => Promise<void>;
}

/**
 * Starts `sheetsync start` (the demo, unless `options.args` names a config) in a clone-like
 * directory with `env` added to a bare shell's, and waits until it is ready and its rows have synced.
 */
export async function startCliStack(
  env: NodeJS.ProcessEnv,
  options: CliStackOptions = {},
): Promise<CliStack> {
  const cwd = cloneLikeDirectory();
  await options.prepare?.(cwd);
  let output = '';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/src/main.ts', 'start', ...(options.args ?? [])],
    {
      cwd,
      env: { ...bareEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const failed = exited.then((code) => {
    throw new Error(`sheetsync start exited ${code} before it was ready:\n${output}`);
  });
  failed.catch(() => {});
  await Promise.race([
    waitFor('"sheetsync ready"', async () => output.includes('\nsheetsync ready'), 150_000),
    failed,
  ]);
  const info = JSON.parse(readFileSync(join(cwd, '.sheetsync/local.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  // The demo rows were applied: nothing published and not yet applied, the outbox drained.
  await waitFor(
    'the demo rows synced',
    async () => {
      const status = (await (await fetch(new URL('/api/status', info.dashboardUrl as string))).json()) as {
        inFlight: { sheetChanges: number; dbChanges: number };
        outbox: { changes: number } | null;
      };
      return (
        status.inFlight.dbChanges === 0 && status.inFlight.sheetChanges === 0 && status.outbox?.changes === 0
      );
    },
    60_000,
  );
  return {
    cwd,
    process: child,
    exited,
    output: () => output,
    info,
    sheetsync: (args) => sheetsyncIn(cwd, args),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await exited;
      }
    },
  };
}
