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
import type { Logger } from '../log.ts';
import type { ScriptSpreadsheetBackend } from './backend.ts';
import { type AppsScriptLimits, GOOGLE_LIMITS, type QuotaUsage } from './limits.ts';
import { LimitsModel } from './limits-model.ts';
import { LockTable } from './locks.ts';
import { DEFAULT_COSTS, type ModelCosts } from './model-time.ts';
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
   * Without `limits`, multiplies time-driven trigger periods: 0.001 makes `everyMinutes(1)` fire
   * every 60 ms. With `limits`, paces the model clock (virtual-clock.ts): model time passes no
   * faster than real time / timeScale (default 1, real time); 0 is no pacing, and idle model time
   * then passes only by `advance`.
   */
  timeScale?: number;
  /**
   * Executions running at once, across spreadsheets (more wait for a worker). Default 4. With
   * `limits`, at least the simultaneous limit: a waiting execution would stop the model clock.
   */
  concurrency?: number;
  /**
   * Real milliseconds before an execution is stopped. Without `limits`, of the whole run; with
   * `limits` (where the execution limit is in model time), of computing without calling a
   * service, which takes no model time (a runaway loop). Default 6 minutes.
   */
  executionTimeoutMs?: number;
  /**
   * Opt-in model of Google's quotas and limits (limits.ts): `true` for Google's numbers, or some
   * of them changed. Also: getUi throws outside a menu or editor run, a time-driven trigger starts
   * on schedule while its previous run still runs, and a string signed, digested or sent without a
   * charset must be ASCII (Google does not document the default).
   */
  limits?: true | Partial<AppsScriptLimits>;
  /** With `limits`: the model time a call takes (model-time.ts), e.g. a test webhook's latency. */
  costs?: Partial<ModelCosts>;
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
  /** With `limits`, model time (virtual-clock.ts), as `durationMs`; otherwise real time. */
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
  private readonly locks: LockTable;
  private readonly history: Execution[] = [];
  private readonly logs = new Map<number, string[]>();
  private readonly timeTriggers: TimeTriggers;
  private nextRunId = 1;
  private readonly user: string;
  private readonly model: LimitsModel | undefined;

  constructor(private readonly options: AppsScriptRuntimeOptions) {
    this.user = options.user ?? 'user@example.com';
    if (options.limits) {
      const limits = { ...GOOGLE_LIMITS, ...(options.limits === true ? {} : options.limits) };
      this.model = new LimitsModel(limits, options.timeScale ?? 1, { ...DEFAULT_COSTS, ...options.costs });
    }
    const model = this.model;
    this.locks = new LockTable(model?.lockTimers());
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
      model ? { ledger: model.ledger, time: model.hostTime() } : {},
    );
    const timeoutMs = options.executionTimeoutMs ?? 360_000;
    const concurrency = options.concurrency ?? 4;
    this.pool = model
      ? new WorkerPool(
          model.chargeCalls(serve),
          Math.max(concurrency, model.limits.simultaneousExecutions),
          timeoutMs,
          'compute',
        )
      : new WorkerPool(serve, concurrency, timeoutMs);
    this.timeTriggers = new TimeTriggers({
      backend: options.backend,
      every: model ? (periodMs, tick) => model.every(periodMs, tick) : scaledRealTime(options.timeScale ?? 1),
      overlap: model !== undefined,
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
    return this.model ? this.model.clock.now() : Date.now();
  }

  /**
   * With `limits`: lets `ms` of model time pass at once, firing the time-driven triggers due on
   * the way; resolves when the clock has reached it.
   */
  advance(ms: number): Promise<void> {
    if (!this.model) return Promise.reject(new Error('advance() needs the limits model (`limits`)'));
    return this.model.clock.advance(ms);
  }

  /**
   * With `limits`: runs `fire` once `ms` of model time from now have passed, as an event of the
   * model clock (a person acting at a model time, in a test).
   */
  after(ms: number, fire: () => void): void {
    if (!this.model) throw new Error('after() needs the limits model (`limits`)');
    this.model.clock.schedule(this.now() + ms, fire);
  }

  /** The day's use of the modelled quotas, or undefined without `limits`. */
  quotaUsage(): QuotaUsage | undefined {
    return this.model?.ledger.usage();
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
    this.model?.clock.close();
  }

  private async execute(
    spreadsheetId: string,
    functionName: string,
    type: Execution['type'],
    event: TriggerEventSpec | null,
    args: unknown[] = [],
  ): Promise<Execution> {
    const runId = this.nextRunId++;
    const started = this.now();
    const lines: string[] = [];
    this.logs.set(runId, lines);
    const trigger = type !== 'EDITOR';
    // Synchronously, before any await: from here the execution holds the model clock.
    const refused = this.model?.begin(runId, trigger, (reason) => void this.pool.stop(runId, reason)) ?? null;
    let durationMs = 0;
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
      if (this.model) {
        // Menus and the editor have a person at the sheet; triggers do not.
        const hasUi = type === 'EDITOR' || type === 'ON_OPEN';
        order.limits = { now: started, hasUi };
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
      if (!this.model) durationMs = Date.now() - started;
      else if (!refused) durationMs = this.model.end(runId, trigger);
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
      durationMs,
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
