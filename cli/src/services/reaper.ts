/**
 * Nothing that `sheetsync start` starts outlives it, however it ends.
 *
 * A clean stop (Ctrl-C) stops every service itself. A SIGKILL (or a crash) runs no code of
 * ours, and the services live on in processes of their own: the emulators' java processes (the
 * gcloud wrapper starts them in a process group of their own) and the embedded PostgreSQL, whose
 * lock on its data directory makes the next start fail. Two safeguards:
 * - the reaper (reaper-child.mjs), a small detached process whose stdin is a pipe from the stack;
 *   when the pipe closes it stops every process the stack listed, so they die with the stack;
 * - `.sheetsync/processes.json`, the same list on disk: the next start stops whatever is still
 *   running from it (the reaper itself killed too), before it starts anything.
 * A process is named by its PID and its start time, so a reused PID is never signalled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendantPids, isAlive, startTime } from './process-tree.ts';

/** How to stop a listed process: emulators keep nothing (SIGKILL); PostgreSQL shuts down fast (SIGINT). */
export type StopSignal = 'SIGKILL' | 'SIGINT';

interface Listed {
  pid: number;
  start: number;
  signal: StopSignal;
  what: string;
}

export interface Reaper {
  /** Lists a process to stop if the stack dies before it stops it. */
  watch(pid: number, signal: StopSignal, what: string): void;
  /** The stack stopped everything itself: the reaper ends, the list on disk is cleared. */
  close(): void;
}

const CHILD = fileURLToPath(new URL('./reaper-child.mjs', import.meta.url));

/** Starts the reaper for the stack of `stateDir`. */
export function startReaper(stateDir: string): Reaper {
  const file = join(stateDir, 'processes.json');
  const listed: Listed[] = [];
  let child: ChildProcess | undefined = spawn(process.execPath, [CHILD], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => {
    child = undefined; // processes.json still lets the next start stop them
  });
  child.stdin?.on('error', () => {});
  child.unref();
  const save = () => {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(listed)}\n`);
    renameSync(temporary, file);
  };
  save();
  return {
    watch(pid, signal, what) {
      const start = startTime(pid);
      if (start === undefined) return;
      listed.push({ pid, start, signal, what });
      child?.stdin?.write(`watch ${pid} ${start} ${signal}\n`);
      save();
    },
    close() {
      listed.length = 0;
      save();
      child?.stdin?.end();
      child = undefined;
    },
  };
}

/**
 * Stops what an earlier stack of `stateDir` left running (processes.json), waiting up to 10 s
 * for each (then SIGKILL). Returns what it stopped, for the start-up message.
 */
export async function reapLeftovers(stateDir: string): Promise<string[]> {
  let listed: Listed[];
  try {
    listed = JSON.parse(readFileSync(join(stateDir, 'processes.json'), 'utf8')) as Listed[];
  } catch {
    return [];
  }
  const ours = listed.filter((p) => startTime(p.pid) === p.start);
  // What a listed emulator wrapper started goes with it (PostgreSQL stops its own backends).
  for (const p of [...ours]) {
    if (p.signal !== 'SIGKILL') continue;
    for (const pid of descendantPids(p.pid)) {
      const start = startTime(pid);
      if (start !== undefined) ours.push({ pid, start, signal: 'SIGKILL', what: p.what });
    }
  }
  for (const p of ours) signal(p.pid, p.signal);
  const deadline = Date.now() + 10_000;
  while (ours.some((p) => isAlive(p.pid) && startTime(p.pid) === p.start) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const p of ours) if (startTime(p.pid) === p.start) signal(p.pid, 'SIGKILL');
  return ours.map((p) => `${p.what} (pid ${p.pid})`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}
