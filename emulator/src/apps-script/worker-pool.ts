/**
 * A pool of script worker threads. Executions run concurrently up to the pool size (Google runs
 * trigger executions of one script concurrently; LockService is how scripts serialise), and
 * queue beyond it. An execution that overruns its time limit, or is stopped, loses its worker,
 * which is replaced.
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import type { RunOrder, RunOutcome, ServiceCall, ServiceReply, WorkerReady } from './protocol.ts';

/** Serves one service call of execution `runId`. */
export type ServeCall = (call: ServiceCall, runId: number) => Promise<ServiceReply>;

interface Slot {
  worker: Worker;
  replyPort: MessageChannel['port1'];
  flag: Int32Array;
  /** Set when the worker has loaded and listens; the time limit counts from dispatch, after this. */
  ready: boolean;
  running: { order: RunOrder; finish: (outcome: RunOutcome) => void; timer: NodeJS.Timeout } | null;
}

let workerSource: string | undefined;

/**
 * The worker's code, bundled once per process. A worker thread does not inherit tsx's loader
 * (under vitest it was never installed), and loading tsx in each worker costs about 2 s; an
 * esbuild bundle evaluated as CommonJS starts in about 0.2 s.
 */
function bundledWorker(): string {
  workerSource ??= buildSync({
    entryPoints: [fileURLToPath(new URL('./script-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
  }).outputFiles[0]!.text;
  return workerSource;
}

/**
 * What the real-time limit counts: the whole run, or only the time the script computes without
 * calling a service (a runaway loop, when the limits model keeps the time: limits.ts).
 */
export type Watch = 'run' | 'compute';

const EXECUTION_TIME = 'Exceeded maximum execution time';

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Array<{ order: RunOrder; finish: (outcome: RunOutcome) => void }> = [];
  private closed = false;

  constructor(
    private readonly serve: ServeCall,
    private readonly size: number,
    private readonly timeoutMs: number,
    private readonly watch: Watch = 'run',
  ) {}

  /** Stops a running execution where it is, as Google stops one at its time limit. */
  async stop(runId: number, reason: string): Promise<void> {
    const slot = this.slots.find((s) => s.running?.order.runId === runId);
    if (!slot) return;
    await this.retire(slot, reason);
    this.dispatch();
  }

  run(order: RunOrder): Promise<RunOutcome> {
    if (this.closed) return Promise.resolve(failed(order, 'The Apps Script runtime is closed.'));
    return new Promise((finish) => {
      this.queue.push({ order, finish });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0))
      pending.finish(failed(pending.order, 'The Apps Script runtime closed.'));
    await Promise.all(
      this.slots.splice(0).map((slot) => this.retire(slot, 'The Apps Script runtime closed.')),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.ready && s.running === null);
      if (!slot) {
        // Start as many workers as queued runs can use; each dispatches again once ready.
        let starting = this.slots.filter((s) => !s.ready).length;
        while (this.slots.length < this.size && starting < this.queue.length) {
          this.spawn();
          starting++;
        }
        return;
      }
      const next = this.queue.shift()!;
      slot.running = { ...next, timer: this.limit(slot) };
      slot.worker.postMessage(next.order);
    }
  }

  private limit(slot: Slot): NodeJS.Timeout {
    return setTimeout(() => {
      void this.retire(slot, EXECUTION_TIME);
      this.dispatch();
    }, this.timeoutMs);
  }

  private spawn(): Slot {
    const channel = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(bundledWorker(), {
      eval: true,
      workerData: { replyPort: channel.port2, flag },
      transferList: [channel.port2],
    });
    const slot: Slot = {
      worker,
      replyPort: channel.port1,
      flag: new Int32Array(flag),
      ready: false,
      running: null,
    };
    worker.on('message', (message: ServiceCall | RunOutcome | WorkerReady) => {
      if (message.kind === 'ready') {
        slot.ready = true;
        this.dispatch();
        return;
      }
      if (message.kind === 'call') {
        const running = slot.running;
        if (running && this.watch === 'compute') clearTimeout(running.timer);
        void this.serve(message, running?.order.runId ?? -1).then((reply) => {
          if (running && slot.running === running && this.watch === 'compute')
            running.timer = this.limit(slot);
          slot.replyPort.postMessage(reply);
          Atomics.store(slot.flag, 0, 1);
          Atomics.notify(slot.flag, 0);
        });
        return;
      }
      const running = slot.running;
      if (!running || running.order.runId !== message.runId) return;
      clearTimeout(running.timer);
      slot.running = null;
      running.finish(message);
      this.dispatch();
    });
    worker.on(
      'error',
      (error) =>
        void this.retire(slot, `The script worker failed: ${error.message}`).then(() => this.dispatch()),
    );
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private async retire(slot: Slot, reason: string): Promise<void> {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    const running = slot.running;
    slot.running = null;
    if (running) {
      clearTimeout(running.timer);
      running.finish(failed(running.order, reason));
    }
    slot.replyPort.close();
    await slot.worker.terminate();
  }
}

function failed(order: RunOrder, message: string): RunOutcome {
  return { kind: 'done', runId: order.runId, ok: false, error: { name: 'Exception', message } };
}
