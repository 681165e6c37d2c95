/**
 * How CLI commands reach the running `npm start`: its `.sheetsync/local.json` (LocalInfo) names
 * the services and the dashboard, whose HTTP API `status` and `conflicts` call. `attach` and
 * `reconcile` without --config use it too: with Google's Firestore emulator they connect to the
 * services it names; with the in-process version store (which only that process holds) they ask
 * the stack to do the work (POST /api/attach, /api/reconcile; runOnStack).
 *
 * A missing file or a dashboard that does not answer (or answers for another process) is
 * SHEETSYNC_E752 (the stack is not running); an error answer of status and conflicts is
 * SHEETSYNC_E753 with the stack's own code and message inside, one of attach and reconcile is
 * the stack's error itself, as the command would have printed it.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as v from 'valibot';
import { SheetsyncError } from '../../functions/src/errors.ts';

/** `.sheetsync/local.json`, written by `sheetsync start` when it is ready. */
export const LocalInfo = v.object({
  databaseUrl: v.string(),
  sheetsApiUrl: v.string(),
  spreadsheetId: v.string(),
  sheet: v.string(),
  gridUrl: v.string(),
  webhookUrl: v.string(),
  dashboardUrl: v.string(),
  pid: v.number(),
  /** The version store: Google's Firestore emulator, or the in-process one inside `npm start`. */
  store: v.picklist(['firestore-emulator', 'memory']),
  bus: v.picklist(['pubsub-emulator', 'memory']),
  /** With Google's emulators: their `host:port` (FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST). */
  firestoreEmulatorHost: v.optional(v.string()),
  pubsubEmulatorHost: v.optional(v.string()),
  /** The project id the stack uses on the emulators. */
  googleCloudProject: v.optional(v.string()),
  /** The links config the stack runs (the demo's is written beside this file). */
  configFile: v.string(),
});
export type LocalInfo = v.InferOutput<typeof LocalInfo>;

export interface LocalStack {
  dashboardUrl: string;
  databaseUrl: string;
}

export type NotRunningHint = 'state-dir' | 'config';

export function localInfoFile(stateDir: string): string {
  return join(resolve(stateDir), 'local.json');
}

export function readLocalStack(stateDir: string): LocalStack {
  const file = localInfoFile(stateDir);
  let info: Partial<LocalStack>;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalStack>;
  } catch {
    throw notRunning(`${file} not found`);
  }
  if (typeof info.dashboardUrl !== 'string' || typeof info.databaseUrl !== 'string') {
    throw notRunning(`${file} names no dashboardUrl`);
  }
  return { dashboardUrl: info.dashboardUrl, databaseUrl: info.databaseUrl };
}

/** The whole local.json, or undefined when there is none; E752 when it is not what start writes. */
export function readLocalInfo(stateDir: string): LocalInfo | undefined {
  const file = localInfoFile(stateDir);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw notRunning(`${file} cannot be read (${(error as Error).message})`, 'config');
  }
  const parsed = v.safeParse(LocalInfo, json);
  if (!parsed.success) {
    throw notRunning(`${file} was written by another version of sheetsync (restart it)`, 'config');
  }
  return parsed.output;
}

/**
 * Checks that the stack local.json describes is the one answering at its dashboard (same pid):
 * a stale file (the stack stopped, its port maybe reused) is SHEETSYNC_E752.
 */
export async function reachStack(info: LocalInfo, file: string): Promise<void> {
  let answer: { pid?: unknown } | null;
  try {
    const response = await fetch(new URL('/api/stack', info.dashboardUrl), {
      signal: AbortSignal.timeout(5_000),
    });
    answer = response.ok ? ((await response.json()) as { pid?: unknown }) : null;
  } catch (error) {
    throw notRunning(
      `${file} is stale: the dashboard at ${info.dashboardUrl} does not answer (${(error as Error).message})`,
      'config',
    );
  }
  if (answer?.pid !== info.pid) {
    throw notRunning(
      `${file} is stale: the sheetsync of pid ${info.pid} that wrote it no longer answers at ${info.dashboardUrl}`,
      'config',
    );
  }
}

/** Calls the running stack's dashboard API and returns its JSON answer. */
export async function callStack(stack: LocalStack, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(path, stack.dashboardUrl), {
      method: body === undefined ? 'GET' : 'POST',
      signal: AbortSignal.timeout(10_000),
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw notRunning(`the dashboard at ${stack.dashboardUrl} does not answer (${(error as Error).message})`);
  }
  const answer = (await response.json().catch(() => null)) as {
    error?: { code: string | null; message: string };
  } | null;
  if (!response.ok) {
    const inner = answer?.error;
    throw new SheetsyncError(
      'SHEETSYNC_E753',
      `the running stack refused: ${inner?.code ? `${inner.code} ` : ''}${inner?.message ?? `HTTP ${response.status}`}`,
      'permanent',
    );
  }
  return answer;
}

/**
 * `POST {dashboardUrl}/api/{attach|reconcile}` as a stream of progress lines (NDJSON): calls
 * `onProgress` for each and resolves with the result, the JSON the command prints with --json.
 * An error of the run is thrown with the stack's code and message.
 */
export async function runOnStack(
  stack: LocalStack,
  command: 'attach' | 'reconcile' | 'approve' | 'discard',
  body: { link?: string; dryRun?: boolean; id?: string },
  onProgress: (done: number, total: number) => void,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(`/api/${command}`, stack.dashboardUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw notRunning(
      `the dashboard at ${stack.dashboardUrl} does not answer (${(error as Error).message})`,
      'config',
    );
  }
  if (!response.ok || !response.body) {
    const answer = (await response.json().catch(() => null)) as { error?: StackError } | null;
    throw stackError(answer?.error, `HTTP ${response.status}`);
  }
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch((error: unknown) => {
      throw new SheetsyncError(
        'SHEETSYNC_E753',
        `the running stack stopped answering before ${command} finished (${(error as Error).message}); ` +
          `see its output (npm start), then run ${command} again`,
        'permanent',
      );
    });
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (line === '') continue;
      const message = JSON.parse(line) as {
        progress?: { done: number; total: number };
        result?: unknown;
        error?: StackError;
      };
      if (message.progress) onProgress(message.progress.done, message.progress.total);
      if (message.error) throw stackError(message.error, 'unknown error');
      if ('result' in message) return message.result;
    }
  }
  throw new SheetsyncError(
    'SHEETSYNC_E753',
    `the running stack stopped answering before ${command} finished; see its output (npm start), then run ${command} again`,
    'permanent',
  );
}

interface StackError {
  code: string | null;
  message: string;
}

/** The stack's error as the command would have thrown it: its own code and message. */
function stackError(error: StackError | undefined, fallback: string): SheetsyncError {
  if (error?.code && /^SHEETSYNC_E\d+$/.test(error.code)) {
    return new SheetsyncError(error.code as SheetsyncError['code'], error.message, 'permanent');
  }
  return new SheetsyncError(
    'SHEETSYNC_E753',
    `the running stack failed: ${error?.message ?? fallback}`,
    'permanent',
  );
}

export function notRunning(why: string, hint: NotRunningHint = 'state-dir'): SheetsyncError {
  return new SheetsyncError(
    'SHEETSYNC_E752',
    `sheetsync is not running here: ${why}. Start it with \`npm start\` (or pass the --state-dir it uses)` +
      (hint === 'config'
        ? ', or pass --config FILE (with DATABASE_URL, SHEETSYNC_SHEETS_API_URL and FIRESTORE_EMULATOR_HOST or GOOGLE_CLOUD_PROJECT) to work on services of your own'
        : ''),
    'permanent',
  );
}
