/**
 * `POST /_emulator/v1/spreadsheets/{spreadsheetId}/userActions`: what a person does in the
 * sheet, for tests and the grid. Actions apply in order, each as its own change (a person's
 * actions are not a transaction: when action i fails, actions before it stay applied and the
 * 400 names `actions[i]`). After each action its triggers run to the end before the next
 * action applies, and the response comes after the last action's triggers, so tests can assert
 * on the script's effects as soon as the response arrives.
 */
import * as v from 'valibot';
import type { Execution, UserActionFiring } from '../apps-script/runtime.ts';
import type { RouteContext } from '../http/router.ts';
import { invalidArgument, SheetsApiError } from '../model/errors.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { applyUserAction } from './apply-action.ts';
import { UserActionsRequestSchema } from './schema.ts';

/** Whatever fires the installable triggers (the Apps Script runtime), when one is attached. */
export interface TriggerFirer {
  fireUserAction(spreadsheetId: string, firing: UserActionFiring): Promise<Execution[]>;
}

export interface UserActionsHost {
  model: SpreadsheetStore;
  addRoute(method: string, pattern: string, handler: (context: RouteContext) => unknown): void;
}

export function mountUserActions(host: UserActionsHost, triggers: () => TriggerFirer | undefined): void {
  host.addRoute('POST', '/_emulator/v1/spreadsheets/{spreadsheetId}/userActions', async (context) => {
    const spreadsheetId = context.params.spreadsheetId ?? '';
    host.model.get(spreadsheetId);
    const parsed = v.safeParse(UserActionsRequestSchema, await context.body());
    if (!parsed.success) throw invalidArgument(describeIssue(parsed.issues[0]));
    const results: Array<Record<string, unknown>> = [];
    for (const [i, action] of parsed.output.actions.entries()) {
      let applied: ReturnType<typeof applyUserAction>;
      try {
        applied = applyUserAction(host.model, spreadsheetId, action);
      } catch (error) {
        if (error instanceof SheetsApiError) {
          throw new SheetsApiError(
            error.status,
            `Invalid actions[${i}] (${action.type}): ${error.message}`,
            error.extra,
            error.httpCode,
          );
        }
        throw error;
      }
      const executions = (await triggers()?.fireUserAction(spreadsheetId, applied.firing)) ?? [];
      results.push({
        type: action.type,
        ...applied.result,
        triggers: executions.map((e) => ({
          functionName: e.functionName,
          eventType: e.type,
          ...(e.changeType ? { changeType: e.changeType } : {}),
          status: e.status,
          ...(e.error ? { error: e.error } : {}),
        })),
      });
    }
    return { spreadsheetId, results };
  });
}

/** Google-style wording: `Invalid value at 'actions[0].index' (…): <reason>`. */
function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return 'Invalid JSON payload received.';
  const path = (issue.path ?? [])
    .map((item) => (typeof item.key === 'number' ? `[${item.key}]` : `.${String(item.key)}`))
    .join('')
    .replace(/^\./, '');
  return `Invalid value at '${path || 'body'}': ${issue.message}`;
}
