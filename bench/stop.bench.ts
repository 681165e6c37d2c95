/**
 * `npm run bench -- stop` (issue 24, item 5): from Ctrl-C to nothing left of the local stack.
 * `sheetsync start` as a child process (test/support/stack-process.ts), with the embedded
 * PostgreSQL and Google's emulators when the Cloud SDK is installed, is awaited until ready, then
 * sent SIGINT; `stopSeconds` is the time until every process it started is gone (median of 3
 * starts). Baseline, same run: the floor, the same stack and processes (restarted on the same
 * state) all sent SIGKILL at once, until the kernel has them all gone.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendantPids } from '../cli/src/services/process-tree.ts';
import { gone, interrupt, startStack } from '../test/support/stack-process.ts';
import { type Benchmark, median } from './lib.ts';

const RUNS = 3;

const bench: Benchmark = {
  name: 'stop',
  description: `Ctrl-C to nothing left of npm start (median of ${RUNS} starts), against SIGKILL to all`,
  async run({ progress }) {
    const stopped: number[] = [];
    const bare: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-stop-'));
      chmodSync(stateDir, 0o755); // as root, the embedded PostgreSQL's user keeps its files here
      try {
        // Stopped by Ctrl-C, then started again on the same state and killed: the same processes
        // (PostgreSQL, the emulators) with the same data.
        for (const direct of [false, true]) {
          const stack = startStack(stateDir);
          await stack.ready();
          const pids = descendantPids(stack.child.pid!);
          const started = performance.now();
          if (direct) {
            for (const pid of [stack.child.pid!, ...pids]) {
              try {
                process.kill(pid, 'SIGKILL');
              } catch {}
            }
          } else await interrupt(stack);
          const left = await gone(pids, 60_000);
          const seconds = (performance.now() - started) / 1000;
          if (left.length > 0) throw new Error(`${left.length} processes still ran 60 s after the signal`);
          (direct ? bare : stopped).push(seconds);
          progress(
            `run ${run + 1}: ${direct ? 'SIGKILL to every process' : 'Ctrl-C'}: ${seconds.toFixed(2)} s`,
          );
        }
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
    const value = median(stopped);
    const baseline = median(bare);
    return {
      stopSeconds: { value, unit: 's', baseline, ratio: value / baseline, target: '≤ 3 s' },
    };
  },
};

export default bench;
