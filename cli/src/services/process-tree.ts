/**
 * Stopping a process and everything it started.
 *
 * `gcloud emulators … start` is a Python wrapper that starts a shell script that starts java,
 * and the wrapper puts itself in a new process group. Killing the wrapper (or its group)
 * leaves the java child running, so we walk /proc for every descendant and signal each PID.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The PIDs of every live descendant of `rootPid`, children before grandchildren. */
export function descendantPids(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Field 2 (comm) may hold spaces and parentheses; the fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Whether the process still runs. A zombie (exited, not yet reaped by its parent, which for an
 * orphan is init, on its own schedule) does not: it holds no port, file or memory.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Sends SIGTERM to `rootPid`, all its descendants and `also` (processes known to belong to it
 * that may have left its tree), waits up to `graceMs`, then SIGKILLs whatever is left; with
 * `graceMs` 0, SIGKILL at once. Resolves when every one of them is gone.
 */
export async function killTree(
  rootPid: number,
  graceMs = 5_000,
  also: readonly number[] = [],
): Promise<void> {
  const pids = [...new Set([rootPid, ...descendantPids(rootPid), ...also])];
  if (graceMs > 0) {
    for (const pid of pids) signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && pids.some(isAlive)) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGKILL');
  while (pids.some(isAlive)) await new Promise((r) => setTimeout(r, 20));
}

/**
 * When the process started, in clock ticks since boot (/proc/PID/stat field 22), or undefined
 * when it is gone (or a zombie). With the PID it names one process: a PID alone may be reused.
 */
export function startTime(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
    return after[0] === 'Z' ? undefined : Number(after[19]);
  } catch {
    return undefined;
  }
}

/** The process's command line, its arguments joined by spaces ('' when it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
