/**
 * Google's Pub/Sub and Firestore emulators from the Google Cloud SDK, started on a free port
 * and stopped by PID (the java child included, see process-tree.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from './free-port.ts';
import { descendantPids, killTree } from './process-tree.ts';

export type EmulatorKind = 'pubsub' | 'firestore';

export interface RunningEmulator {
  kind: EmulatorKind;
  /** `127.0.0.1:PORT`, the value for PUBSUB_EMULATOR_HOST or FIRESTORE_EMULATOR_HOST. */
  host: string;
  /** The gcloud wrapper's PID. */
  pid: number;
  /** The emulator's own process (java), a descendant of the wrapper; the wrapper's PID if not found. */
  javaPid: number;
  /**
   * Stops the emulator at once: SIGKILL to the java process and the wrapper together (the
   * emulators keep nothing worth a graceful stop: whatever must persist was exported before).
   */
  stop(): Promise<void>;
}

export class EmulatorUnavailableError extends Error {
  override name = 'EmulatorUnavailableError';
  constructor(
    readonly kind: EmulatorKind,
    reason: string,
  ) {
    super(
      `The ${kind} emulator could not be started: ${reason}. Install the Google Cloud SDK with its ` +
        `emulator components (apt-get install google-cloud-cli google-cloud-cli-${kind}-emulator) and Java 11+.`,
    );
  }
}

/** Whether `gcloud` is on the PATH. */
export function hasGcloud(): boolean {
  return spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
}

const READY: Record<EmulatorKind, RegExp> = {
  pubsub: /Server started, listening on/,
  firestore: /Dev App Server is now running/,
};

/** Starts one emulator and resolves when it accepts requests. */
const PORT_TAKEN = /Address already in use|BindException/i;

type EmulatorOptions = {
  port?: number;
  timeoutMs?: number;
  onLog?: (line: string) => void;
  /** Picks the port when `port` is not given (default: one free now). */
  pickPort?: () => Promise<number>;
  /** More arguments for `gcloud … start`, e.g. `--import-data=FILE` or `--data-dir=DIR`. */
  args?: readonly string[];
  /** Told the gcloud wrapper's PID as soon as it runs (before the emulator is ready). */
  onSpawn?: (pid: number) => void;
};

/**
 * Starts an emulator. On a free port of its own choosing (no `port` given) a start that fails
 * because another process took the port between the check and the bind is tried again on another
 * one, up to 3 times (runs that start emulators side by side race for ports).
 */
export async function startEmulator(
  kind: EmulatorKind,
  options: EmulatorOptions = {},
): Promise<RunningEmulator> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEmulatorOnce(kind, options.port ?? (await (options.pickPort ?? freePort)()), options);
    } catch (error) {
      const portTaken = /Address already in use|BindException|address already in use/.test(
        String((error as Error).message),
      );
      if (options.port !== undefined || !portTaken || attempt >= 3) throw error;
      options.onLog?.(`${kind} emulator: its port was taken meanwhile; starting again on another`);
    }
  }
}

async function startEmulatorOnce(
  kind: EmulatorKind,
  port: number,
  options: EmulatorOptions,
): Promise<RunningEmulator> {
  const host = `127.0.0.1:${port}`;
  const args =
    kind === 'pubsub'
      ? ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, '--quiet', ...(options.args ?? [])]
      : ['emulators', 'firestore', 'start', `--host-port=${host}`, '--quiet', ...(options.args ?? [])];
  let child: ChildProcess;
  try {
    child = spawn('gcloud', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (error) {
    throw new EmulatorUnavailableError(kind, String(error));
  }
  const pid = child.pid;
  if (pid === undefined) throw new EmulatorUnavailableError(kind, 'gcloud did not start');
  options.onSpawn?.(pid);
  let javaPid = pid;
  const stop = () => killTree(pid, 0, [javaPid]);

  const timeoutMs = options.timeoutMs ?? 60_000;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new EmulatorUnavailableError(kind, `not ready after ${timeoutMs} ms; it printed:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) options.onLog?.(line);
      if (READY[kind].test(output)) {
        clearTimeout(timer);
        resolve();
      } else if (PORT_TAKEN.test(output)) {
        // The Pub/Sub emulator keeps running without its port: stop it now, not at the timeout.
        clearTimeout(timer);
        void stop();
        reject(new EmulatorUnavailableError(kind, `its port was taken; it printed:\n${output}`));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new EmulatorUnavailableError(kind, error.message));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new EmulatorUnavailableError(kind, `gcloud exited with ${code}; it printed:\n${output}`));
    });
  });
  // Keep draining the pipes so the emulator never blocks on a full pipe.
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  child.removeAllListeners('exit');
  child.unref();
  javaPid = descendantPids(pid).find((p) => commandOf(p) === 'java') ?? pid;
  return { kind, host, pid, javaPid, stop };
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
