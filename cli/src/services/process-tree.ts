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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends SIGTERM to `rootPid` and all its descendants, waits up to `graceMs`, then SIGKILLs
 * whatever is left. Resolves when every one of them is gone.
 */
export async function killTree(rootPid: number, graceMs = 5_000): Promise<void> {
  const pids = [rootPid, ...descendantPids(rootPid)];
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGKILL');
  while (pids.some(isAlive)) await new Promise((r) => setTimeout(r, 20));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
