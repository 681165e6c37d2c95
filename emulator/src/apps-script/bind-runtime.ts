/**
 * Binds the Apps Script runtime to a running emulator, with two admin routes:
 * - `POST /_emulator/v1/spreadsheets/{id}/script:run` `{function, args?}`: runs a function as
 *   the script editor's Run button does (e.g. the one that installs the triggers); answers the
 *   execution record, with `result` when the function returned a JSON value.
 * - `GET /_emulator/v1/spreadsheets/{id}/executions`: the execution log, oldest first.
 */
import * as v from 'valibot';
import type { RouteContext } from '../http/router.ts';
import { invalidArgument } from '../model/errors.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { createModelBackend } from './model-backend.ts';
import { AppsScriptRuntime, type AppsScriptRuntimeOptions } from './runtime.ts';

export interface AppsScriptHost {
  model: SpreadsheetStore;
  url: string;
  addRoute(method: string, pattern: string, handler: (context: RouteContext) => unknown): void;
}

/** The runtime's options (runtime.ts) but its backend, which is the emulator's model. */
export type AttachAppsScriptOptions = Omit<AppsScriptRuntimeOptions, 'backend'>;

const RunRequest = v.strictObject({
  function: v.pipe(v.string(), v.regex(/^[A-Za-z_$][\w$]*$/, 'must be a function name')),
  args: v.optional(v.array(v.unknown()), []),
});

export function attachAppsScript(host: AppsScriptHost, options: AttachAppsScriptOptions): AppsScriptRuntime {
  const runtime = new AppsScriptRuntime({
    ...options,
    backend: createModelBackend(host.model, () => host.url),
  });
  runtime.start();
  host.addRoute('POST', '/_emulator/v1/spreadsheets/{spreadsheetId}/script:run', async (context) => {
    const spreadsheetId = context.params.spreadsheetId ?? '';
    host.model.get(spreadsheetId);
    const parsed = v.safeParse(RunRequest, await context.body());
    if (!parsed.success) throw invalidArgument(`Invalid script:run request: ${parsed.issues[0]?.message}`);
    return runtime.run(spreadsheetId, parsed.output.function, parsed.output.args);
  });
  host.addRoute('GET', '/_emulator/v1/spreadsheets/{spreadsheetId}/executions', (context) => {
    const spreadsheetId = context.params.spreadsheetId ?? '';
    host.model.get(spreadsheetId);
    return { executions: runtime.executions(spreadsheetId) };
  });
  return runtime;
}
