// The reaper of `sheetsync start` (reaper.ts): a detached process that outlives the stack only to
// stop what the stack started. The stack holds the other end of our stdin and writes one line per
// process it starts: `watch PID STARTTIME SIGNAL`. When stdin ends, the stack is gone (it exited,
// crashed or was SIGKILLed: the kernel closes its end of the pipe either way), and every listed
// process that is still the one listed (same PID and start time) gets SIGNAL, then SIGKILL after
// 10 s, and so does every process it started (found by walking /proc). Plain JavaScript, so it
// starts without a TypeScript loader.
import { readdirSync, readFileSync } from 'node:fs';

/** @type {Map<number, {start: number, signal: NodeJS.Signals}>} */
const watched = new Map();
let buffered = '';

// Ctrl-C and a closed terminal are for the stack; only the end of stdin stops us.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {});

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline >= 0) {
    const [verb, pid, start, signal] = buffered.slice(0, newline).trim().split(' ');
    buffered = buffered.slice(newline + 1);
    newline = buffered.indexOf('\n');
    if (verb === 'watch') watched.set(Number(pid), { start: Number(start), signal });
    else if (verb === 'forget') watched.delete(Number(pid));
  }
});
process.stdin.on('end', () => void reap());
process.stdin.on('error', () => void reap());

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined when gone. */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie has exited: there is nothing left to stop.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** The live descendants of `root`, found by each process's parent in /proc/PID/stat. */
function descendants(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // exited while we looked
    }
  }
  const found = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function send(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // gone meanwhile
  }
}

let reaping = false;
async function reap() {
  if (reaping) return;
  reaping = true;
  const listed = [...watched].filter(([pid, { start }]) => startTime(pid) === start);
  // What a listed process started goes with it (the emulators' java under gcloud's wrapper).
  const ours = [...listed];
  for (const [pid, { signal }] of listed) {
    // PostgreSQL (SIGINT, a fast shutdown) stops its own backends.
    if (signal !== 'SIGKILL') continue;
    for (const child of descendants(pid)) {
      const start = startTime(child);
      if (start !== undefined && !watched.has(child)) ours.push([child, { start, signal }]);
    }
  }
  for (const [pid, { signal }] of ours) send(pid, signal);
  const deadline = Date.now() + 10_000;
  const left = () => ours.filter(([pid, { start }]) => startTime(pid) === start);
  while (left().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const [pid] of left()) send(pid, 'SIGKILL');
  process.exit(0);
}
