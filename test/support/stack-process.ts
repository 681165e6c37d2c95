/**
 * `sheetsync start` as a child process, as a person runs it (`npm start`, or
 * `npx sheetsync start --config FILE`): started on a state directory, awaited until it prints
 * `sheetsync ready`, then stopped with Ctrl-C (SIGINT) or killed (SIGKILL). The stack starts its
 * own emulators: the environment's emulator hosts are removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalInfo } from '../../cli/src/local-stack.ts';
import { observe } from './sheet-observer.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface StackProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with local.json once the stack printed `sheetsync ready`; rejects if it exits first. */
  ready(timeoutMs?: number): Promise<LocalInfo>;
}

export function startStack(
  stateDir: string,
  options: { databaseUrl?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {},
): StackProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, METADATA_SERVER_DETECTION: 'none', ...options.env };
  for (const name of ['PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST', 'SHEETSYNC_CONFIG', 'DATABASE_URL'])
    delete env[name];
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/src/main.ts', 'start', '--state-dir', stateDir, ...(options.args ?? [])],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async ready(timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.split('\n').some((line) => line.startsWith('sheetsync ready'))) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `sheetsync start exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${err}`,
          );
        if (Date.now() > deadline)
          throw new Error(`sheetsync start not ready after ${timeoutMs} ms:\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as LocalInfo;
    },
  };
}

/** Ctrl-C, and the time until the process exited (ms) with its exit code. */
export async function interrupt(stack: StackProcess): Promise<{ ms: number; code: number | null }> {
  const started = performance.now();
  if (stack.child.exitCode !== null || stack.child.signalCode !== null)
    return { ms: 0, code: stack.child.exitCode };
  stack.child.kill('SIGINT');
  const code = await stack.exited;
  return { ms: performance.now() - started, code };
}

/**
 * Whether the process runs, by /proc: a zombie (exited, not yet reaped by its parent, for an
 * orphan init, which here reaps late) does not.
 */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until none of `pids` runs; resolves with the ones still running. */
export async function gone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return pids.filter(running);
}

/** A tab's values as the Sheets API gives them (UNFORMATTED_VALUE), header row first. */
export async function tabValues(
  sheetsApiUrl: string,
  spreadsheetId: string,
  tab: string,
): Promise<unknown[][]> {
  // Paced, on a quota project of the test's own (sheet-observer.ts), never sheetsync's quota.
  const response = await observe(
    `${sheetsApiUrl}/v4/spreadsheets/${spreadsheetId}/values/${encodeURIComponent(tab)}?valueRenderOption=UNFORMATTED_VALUE`,
  );
  if (response.status === 400) return []; // no such tab
  if (!response.ok) throw new Error(`values.get ${tab}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { values?: unknown[][] }).values ?? [];
}

/** A person's actions in the local sheet (POST /_emulator/v1/spreadsheets/{id}/userActions). */
export async function userActions(
  sheetsApiUrl: string,
  spreadsheetId: string,
  actions: unknown[],
): Promise<void> {
  const response = await fetch(`${sheetsApiUrl}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actions }),
  });
  if (!response.ok) throw new Error(`userActions: HTTP ${response.status} ${await response.text()}`);
}
