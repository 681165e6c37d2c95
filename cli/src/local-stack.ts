/**
 * How `status` and `conflicts` reach the running `npm start`: its `.sheetsync/local.json` names
 * the dashboard, whose HTTP API they call. A missing file or a dashboard that does not answer is
 * SHEETSYNC_E752 (the stack is not running); an error answer is SHEETSYNC_E753 with the stack's
 * own code and message inside.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SheetsyncError } from '../../functions/src/errors.ts';

export interface LocalStack {
  dashboardUrl: string;
  databaseUrl: string;
}

export function readLocalStack(stateDir: string): LocalStack {
  const file = join(resolve(stateDir), 'local.json');
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

function notRunning(why: string): SheetsyncError {
  return new SheetsyncError(
    'SHEETSYNC_E752',
    `sheetsync is not running here: ${why}. Start it with \`npm start\` (or pass the --state-dir it uses)`,
    'permanent',
  );
}
