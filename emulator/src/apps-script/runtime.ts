/**
 * The Apps Script runtime of the emulator: the script in `scriptDir` (`*.js`/`*.gs`, the files
 * clasp pushes) is bound to every spreadsheet, with its own properties and triggers per
 * spreadsheet. Executions run in worker threads (worker-pool.ts).
 *
 * Trigger semantics (https://developers.google.com/apps-script/guides/triggers/events):
 * - only user actions fire triggers; API writes and script writes never do;
 * - each installed trigger of the event's type starts its own execution; executions of one
 *   spreadsheet run concurrently as on Google, and scripts serialise with LockService;
 * - an exception in a script is recorded in the execution log, never thrown to the caller.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../functions/src/log.ts';
import type { ScriptSpreadsheetBackend } from './backend.ts';
import { type AppsScriptLimits, GOOGLE_LIMITS, ModelClock, QuotaLedger, type QuotaUsage } from './limits.ts';
import { LockTable } from './locks.ts';
import type { ChangeType, GridBox, RunOrder, TriggerEventSpec, TriggerShape } from './protocol.ts';
import { createScriptHost } from './script-host.ts';
import { scaledRealTime, TimeTriggers } from './time-triggers.ts';
import { WorkerPool } from './worker-pool.ts';

export interface AppsScriptRuntimeOptions {
  /** Directory of the script files, e.g. `apps-script/` or a test fixture directory. */
  scriptDir: string;
  backend: ScriptSpreadsheetBackend;
  /** The person at the keyboard: `e.user` and Session.getActiveUser(). */
  user?: string;
  /**
   * Multiplies time-driven trigger periods: 0.001 makes `everyMinutes(1)` fire every 60 ms. With
   * `limits` it scales the whole model clock (limits.ts): the script's Date and sleeps, lock
   * waits, the execution limit and the daily quotas.
   */
  timeScale?: number;
  /** Executions running at once, across spreadsheets (more wait for a worker). Default 4. */
  concurrency?: number;
  /** Real milliseconds before an execution is stopped, without `limits`. Default 6 minutes. */
  executionTimeoutMs?: number;
  /**
   * Opt-in model of Google's quotas and limits (limits.ts): `true` for Google's numbers, or some
   * of them changed. Also: getUi throws outside a menu or editor run, a time-driven trigger starts
   * on schedule while its previous run still runs, and a string signed, digested or sent without a
   * charset must be ASCII (Google does not document the default).
   */
  limits?: true | Partial<AppsScriptLimits>;
  logger?: Logger;
}

export type ExecutionStatus = 'COMPLETED' | 'FAILED';

/** One execution, as the Apps Script dashboard lists it. */
export interface Execution {
  executionId: number;
  spreadsheetId: string;
  functionName: string;
  /** `EDITOR` for a direct run; otherwise the trigger's event type. */
  type: 'EDITOR' | TriggerShape['eventType'];
  triggerUid: string | null;
  changeType?: ChangeType;
  status: ExecutionStatus;
  error?: string;
  result?: unknown;
  logs: string[];
  startedAt: string;
  durationMs: number;
}

/** The triggers one user action fires: onEdit for a range, onChange with a type, or both. */
export interface UserActionFiring {
  edit?: { box: GridBox; value?: string; oldValue?: string };
  change?: ChangeType;
}

const MAX_KEPT_EXECUTIONS = 1000;

export class AppsScriptRuntime {
  private readonly pool: WorkerPool;
  private readonly locks = new LockTable();
  private readonly history: Execution[] = [];
  private readonly logs = new Map<number, string[]>();
  private readonly timeTriggers: TimeTriggers;
  private nextRunId = 1;
  private readonly user: string;
  private readonly clock: ModelClock | undefined;
  private readonly ledger: QuotaLedger | undefined;

  constructor(private readonly options: AppsScriptRuntimeOptions) {
    this.user = options.user ?? 'user@example.com';
    if (options.limits) {
      this.clock = new ModelClock(options.timeScale ?? 1);
      const limits = { ...GOOGLE_LIMITS, ...(options.limits === true ? {} : options.limits) };
      this.ledger = new QuotaLedger(limits, this.clock);
    }
    const serve = createScriptHost(
      options.backend,
      this.locks,
      {
        log: (runId, level, message) => {
          this.logs.get(runId)?.push(message);
          this.options.logger?.[level === 'warn' ? 'warn' : level]('apps script log', {
            op: 'appsScript',
            runId,
            line: message,
          });
        },
        triggersChanged: (spreadsheetId) => this.timeTriggers.arm(spreadsheetId),
      },
      this.ledger,
    );
    const timeoutMs = this.ledger
      ? this.ledger.clock.realMs(this.ledger.limits.executionMs)
      : (options.executionTimeoutMs ?? 360_000);
    this.pool = new WorkerPool(serve, options.concurrency ?? 4, timeoutMs);
    this.timeTriggers = new TimeTriggers({
      backend: options.backend,
      every: scaledRealTime(options.timeScale ?? 1),
      overlap: this.ledger !== undefined,
      fire: (spreadsheetId, trigger) => {
        const event: TriggerEventSpec = {
          type: 'clock',
          triggerUid: trigger.triggerUid,
          at: this.now(),
          timeZone: 'UTC',
        };
        return this.execute(spreadsheetId, trigger.handlerFunction, 'CLOCK', event);
      },
    });
  }

  /** The time: the model clock's with `limits`, else the real one. */
  now(): number {
    return this.clock ? this.clock.now() : Date.now();
  }

  /** The day's use of the modelled quotas, or undefined without `limits`. */
  quotaUsage(): QuotaUsage | undefined {
    return this.ledger?.usage();
  }

  /** Arms the time-driven triggers saved with existing spreadsheets. */
  start(): void {
    for (const id of this.options.backend.spreadsheetIds()) this.timeTriggers.arm(id);
  }

  /** Runs a function as if chosen in the script editor (e.g. the one that installs triggers). */
  run(spreadsheetId: string, functionName: string, args: unknown[] = []): Promise<Execution> {
    return this.execute(spreadsheetId, functionName, 'EDITOR', null, args);
  }

  /** Fires the installable triggers a person's action fires; resolves when they all ended. */
  async fireUserAction(spreadsheetId: string, firing: UserActionFiring): Promise<Execution[]> {
    const triggers = this.options.backend.loadScriptState(spreadsheetId).triggers;
    const runs: Array<Promise<Execution>> = [];
    for (const trigger of triggers) {
      if (!('sourceId' in trigger) || trigger.sourceId !== spreadsheetId) continue;
      if (trigger.eventType === 'ON_EDIT' && firing.edit) {
        const { box, value, oldValue } = firing.edit;
        const event: TriggerEventSpec = {
          type: 'edit',
          triggerUid: trigger.triggerUid,
          box,
          user: this.user,
        };
        if (value !== undefined) event.value = value;
        if (oldValue !== undefined) event.oldValue = oldValue;
        runs.push(this.execute(spreadsheetId, trigger.handlerFunction, 'ON_EDIT', event));
      }
      if (trigger.eventType === 'ON_CHANGE' && firing.change) {
        const event: TriggerEventSpec = {
          type: 'change',
          triggerUid: trigger.triggerUid,
          changeType: firing.change,
          user: this.user,
        };
        runs.push(this.execute(spreadsheetId, trigger.handlerFunction, 'ON_CHANGE', event));
      }
    }
    return Promise.all(runs);
  }

  /** Executions so far, oldest first (the last 1000). */
  executions(spreadsheetId?: string): Execution[] {
    return this.history.filter((e) => spreadsheetId === undefined || e.spreadsheetId === spreadsheetId);
  }

  async close(): Promise<void> {
    this.timeTriggers.stopAll();
    await this.pool.close();
  }

  private async execute(
    spreadsheetId: string,
    functionName: string,
    type: Execution['type'],
    event: TriggerEventSpec | null,
    args: unknown[] = [],
  ): Promise<Execution> {
    const runId = this.nextRunId++;
    const started = Date.now();
    const lines: string[] = [];
    this.logs.set(runId, lines);
    const trigger = type !== 'EDITOR';
    const refused = this.ledger?.begin(trigger) ?? null;
    let outcome: Awaited<ReturnType<WorkerPool['run']>>;
    try {
      if (refused) throw new Error(refused);
      const shape = this.options.backend.describe(spreadsheetId);
      const order: RunOrder = {
        kind: 'run',
        runId,
        spreadsheetId,
        files: this.loadFiles(),
        functionName,
        event,
        args,
        activeUser: this.user,
        timeZone: shape.timeZone,
      };
      if (this.clock) {
        // Menus and the editor have a person at the sheet; triggers do not.
        const hasUi = type === 'EDITOR' || type === 'ON_OPEN';
        order.limits = { clockOrigin: this.clock.origin, timeScale: this.clock.timeScale, hasUi };
      }
      outcome = await this.pool.run(order);
    } catch (error) {
      outcome = {
        kind: 'done',
        runId,
        ok: false,
        error: { name: 'Error', message: (error as Error).message },
      };
    } finally {
      this.locks.releaseAll(runId);
      this.logs.delete(runId);
      if (this.clock && !refused) this.ledger?.end(trigger, (Date.now() - started) / this.clock.timeScale);
    }
    const execution: Execution = {
      executionId: runId,
      spreadsheetId,
      functionName,
      type,
      triggerUid: event?.triggerUid ?? null,
      ...(event?.type === 'change' ? { changeType: event.changeType } : {}),
      status: outcome.ok ? 'COMPLETED' : 'FAILED',
      ...(outcome.error ? { error: `${outcome.error.name}: ${outcome.error.message}` } : {}),
      ...(outcome.result !== undefined ? { result: outcome.result } : {}),
      logs: lines,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
    };
    this.history.push(execution);
    if (this.history.length > MAX_KEPT_EXECUTIONS) this.history.shift();
    const labels = { op: 'appsScript', spreadsheetId, functionName, type, latencyMs: execution.durationMs };
    if (outcome.ok) this.options.logger?.debug('apps script execution completed', labels);
    else this.options.logger?.warn('apps script execution failed', { ...labels, error: execution.error });
    return execution;
  }

  /** Read on every execution, so a re-pushed script takes effect at the next run, as on Google. */
  private loadFiles(): RunOrder['files'] {
    const names = readdirSync(this.options.scriptDir)
      .filter((name) => name.endsWith('.js') || name.endsWith('.gs'))
      .sort();
    return names.map((name) => ({ name, source: readFileSync(join(this.options.scriptDir, name), 'utf8') }));
  }
}
