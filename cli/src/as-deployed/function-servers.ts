/**
 * The five entry points of functions/src/index.ts, each served by functions-framework's own
 * command in its own process (with tsx for the TypeScript), as Cloud Run serves the deployed
 * bundle: one HTTP server per function, configured only through the environment terraform/main.tf
 * gives it (function_env and the function's secrets), pointed at the local services.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../services/free-port.ts';

const ROOT = join(import.meta.dirname, '../../..');
const FRAMEWORK = join(ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
const SOURCE = join(ROOT, 'functions/src/index.ts');

/**
 * terraform/main.tf's local.functions: entry point, request concurrency and timeout (seconds).
 * One local instance each, so `concurrency` bounds the requests one function handles at once
 * (test/unit/push-subscriptions.test.ts checks these against main.tf).
 */
export const DEPLOYED_FUNCTIONS = {
  sheet_webhook: { entryPoint: 'sheetWebhook', signature: 'http', concurrency: 1, timeout: 60 },
  apply_to_db: { entryPoint: 'applyToDb', signature: 'http', concurrency: 40, timeout: 120 },
  apply_to_sheet: { entryPoint: 'applyToSheet', signature: 'http', concurrency: 80, timeout: 120 },
  outbox_relay: { entryPoint: 'outboxRelay', signature: 'http', concurrency: 1, timeout: 135 },
  reconcile: { entryPoint: 'reconcile', signature: 'http', concurrency: 1, timeout: 1800 },
} as const;
export type FunctionKey = keyof typeof DEPLOYED_FUNCTIONS;

export interface FunctionServer {
  key: FunctionKey;
  url: string;
  pid: number;
  /** From spawn to functions-framework's "Serving function" line: module load, before any client. */
  startMs: number;
}

export interface FunctionServersOptions {
  /** The environment every function gets (main.tf's function_env and secrets, made local). */
  env: Record<string, string>;
  /** A fixed port for some functions (the webhook's, which the script is given). */
  ports?: Partial<Record<FunctionKey, number>>;
  /** Each child as it starts, e.g. for the reaper. */
  onSpawn?: (pid: number, key: FunctionKey) => void;
  /** A function's log line (its stdout and stderr). */
  onLog?: (key: FunctionKey, line: string, stream: 'stdout' | 'stderr') => void;
}

export interface FunctionServers {
  servers: Record<FunctionKey, FunctionServer>;
  stop(): Promise<void>;
}

export async function startFunctionServers(options: FunctionServersOptions): Promise<FunctionServers> {
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
  };
  try {
    const started = await Promise.all(
      (Object.keys(DEPLOYED_FUNCTIONS) as FunctionKey[]).map(async (key) => {
        const port = options.ports?.[key] ?? (await freePort());
        return serve(key, port, options, (child) => children.push(child));
      }),
    );
    return {
      servers: Object.fromEntries(started.map((s) => [s.key, s])) as FunctionServers['servers'],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function serve(
  key: FunctionKey,
  port: number,
  options: FunctionServersOptions,
  track: (child: ChildProcess) => void,
): Promise<FunctionServer> {
  const fn = DEPLOYED_FUNCTIONS[key];
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      FRAMEWORK,
      `--source=${SOURCE}`,
      `--target=${fn.entryPoint}`,
      `--signature-type=${fn.signature}`,
      `--port=${port}`,
    ],
    {
      cwd: ROOT,
      // Only what a deployed function has: no variable of the stack's own process leaks in.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...options.env,
        FUNCTION_TARGET: fn.entryPoint,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  track(child);
  if (child.pid) options.onSpawn?.(child.pid, key);
  return new Promise((resolve, reject) => {
    let output = '';
    const onLine = (stream: 'stdout' | 'stderr') => {
      let buffered = '';
      return (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
          if (line.startsWith('Serving function')) {
            resolve({
              key,
              url: `http://127.0.0.1:${port}`,
              pid: child.pid!,
              startMs: Math.round(performance.now() - spawnedAt),
            });
          } else if (output.length < 4_000) output += `${line}\n`;
          // functions-framework's banner lines are not logs.
          if (!/^(Serving function|Function:|Signature type:|URL:)/.test(line))
            options.onLog?.(key, line, stream);
        }
      };
    };
    child.stdout!.on('data', onLine('stdout'));
    child.stderr!.on('data', onLine('stderr'));
    child.on('exit', (code) =>
      reject(new Error(`the function ${fn.entryPoint} exited (${code}) before serving:\n${output}`)),
    );
    child.on('error', reject);
  });
}

/** SIGTERM (functions-framework closes its server and exits), then SIGKILL after 3 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
