/**
 * `npm run emulator -- --port 8090 [--host 127.0.0.1] [--state file.json]
 *   [--apps-script apps-script/] [--time-scale 1] [--write-quota 60] [--read-quota 60] [--project-quota 300] [--latency-ms 0] [--error-rate 0]
 *   [--lost-response-rate 0] [--hang-rate 0]`
 * Prints `emulator ready <url>` once it listens.
 */
import { parseArgs } from 'node:util';
import { createEmulator } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8090' },
    host: { type: 'string', default: '127.0.0.1' },
    state: { type: 'string' },
    'read-quota': { type: 'string' },
    'write-quota': { type: 'string' },
    'project-quota': { type: 'string' },
    'no-quotas': { type: 'boolean', default: false },
    'latency-ms': { type: 'string' },
    'error-rate': { type: 'string' },
    'lost-response-rate': { type: 'string' },
    'hang-rate': { type: 'string' },
    'apps-script': { type: 'string' },
    'time-scale': { type: 'string' },
  },
});

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`emulator: --${name} must be a non-negative number, got "${text}"`);
    process.exit(2);
  }
  return n;
}

const projectQuota = numberOption('project-quota', values['project-quota']);
const quotas = Object.fromEntries(
  Object.entries({
    readPerUser: numberOption('read-quota', values['read-quota']),
    writePerUser: numberOption('write-quota', values['write-quota']),
    readPerProject: projectQuota,
    writePerProject: projectQuota,
    enabled: values['no-quotas'] ? false : undefined,
  }).filter(([, v]) => v !== undefined),
);
const faults = Object.fromEntries(
  Object.entries({
    latencyMs: numberOption('latency-ms', values['latency-ms']),
    errorRate: numberOption('error-rate', values['error-rate']),
    lostResponseRate: numberOption('lost-response-rate', values['lost-response-rate']),
    hangRate: numberOption('hang-rate', values['hang-rate']),
  }).filter(([, v]) => v !== undefined),
);

let emulator: Awaited<ReturnType<typeof createEmulator>>;
try {
  emulator = await createEmulator({
    port: numberOption('port', values.port),
    host: values.host,
    state: values.state,
    quotas,
    faults,
    ...(values['apps-script']
      ? {
          appsScript: {
            scriptDir: values['apps-script'],
            timeScale: numberOption('time-scale', values['time-scale']),
          },
        }
      : {}),
  });
} catch (error) {
  // EADDRINUSE, an unreadable state file: say what failed, without a stack trace.
  console.error(`emulator: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
console.log(`emulator ready ${emulator.url}${values.state ? ` (state: ${values.state})` : ''}`);

const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
