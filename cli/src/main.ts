/**
 * The `sheetsync` command. `npm start` runs `sheetsync start`.
 *
 * Exit codes: 0 success, 1 failure (the message says what went wrong and what to do),
 * 2 wrong usage.
 */
import { parseArgs } from 'node:util';
import { CONFLICTS_USAGE, runConflictsCommand } from './conflicts.ts';
import { runSecretCommand, SECRET_USAGE } from './secret.ts';
import { runStatusCommand, STATUS_USAGE } from './status.ts';
import { runSyncCommand, SYNC_USAGE } from './sync-commands.ts';

const USAGE = `usage: sheetsync <command> [options]

commands:
  start        run everything on this machine: PostgreSQL, the emulators, the local sheet,
               the functions and the relay; Ctrl-C stops it all
               --state-dir DIR   where local state lives (default .sheetsync)
               --sheet-port N    the local sheet's port (default: a free one)
               --webhook-port N  sheetWebhook's port (default: a free one)
               --config FILE     a links config (as SHEETSYNC_LINKS) instead of the demo
               --as-deployed     each function in its own functions-framework server, fed
                                 by push as terraform/ deploys it (needs the Cloud SDK)
               SHEETSYNC_STANDINS=1: the in-process bus and version store even with the Cloud
               SDK; PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST: use those emulators
${SYNC_USAGE}${STATUS_USAGE}${CONFLICTS_USAGE}${SECRET_USAGE}  help         this text

exit codes: 0 ok, 1 failure, 2 wrong usage, 3 reconcile --dry-run found drift
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'start') {
    const { values } = parseArgs({
      args: rest,
      options: {
        'state-dir': { type: 'string', default: '.sheetsync' },
        'sheet-port': { type: 'string' },
        'webhook-port': { type: 'string' },
        config: { type: 'string' },
        'as-deployed': { type: 'boolean', default: false },
      },
      strict: true,
    });
    const progress = (message: string) => process.stderr.write(`sheetsync: ${message}\n`);
    // No metadata server here: the Google clients would otherwise probe for one and warn.
    process.env.METADATA_SERVER_DETECTION ??= 'none';
    // A library's error thrown outside any await of ours still ends start-up with a coded
    // message, not a stack trace; the reaper (services/reaper.ts) stops what had started.
    const crash = (error: unknown) => {
      process.stderr.write(`sheetsync: ${startFailure(error)}\n`);
      process.exit(1);
    };
    process.on('uncaughtException', crash);
    process.on('unhandledRejection', crash);
    const { start } = await import('./start.ts');
    const { info, stop } = await start({
      stateDir: values['state-dir']!,
      ...(values['sheet-port'] ? { sheetPort: Number(values['sheet-port']) } : {}),
      ...(values['webhook-port'] ? { webhookPort: Number(values['webhook-port']) } : {}),
      ...(values.config ? { configFile: values.config } : {}),
      ...(values['as-deployed'] ? { asDeployed: true } : {}),
      progress,
    }).catch((error: unknown) => {
      if (codeOf(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw Object.assign(new Error(`the local stack could not start: ${message}`), {
        code: 'SHEETSYNC_E766',
      });
    });
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    process.stdout.write(
      `sheetsync ready: grid ${info.gridUrl} · webhook ${info.webhookUrl} · dashboard ${info.dashboardUrl} · ` +
        `database ${redact(info.databaseUrl)} (details in .sheetsync/local.json)\n`,
    );
    const onMysql = /^(mysql|mariadb):/i.test(info.databaseUrl);
    process.stderr.write(
      `sheetsync: edit the sheet in your browser, or change ${onMysql ? 'leads with the mysql client' : 'public.leads with psql'}; Ctrl-C stops\n`,
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = () => {
        if (stopping) return;
        stopping = true;
        progress('stopping…');
        void stop().then(resolve);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    progress('stopped');
    return 0;
  }
  if (command === 'attach' || command === 'reconcile' || command === 'approve' || command === 'discard') {
    process.env.METADATA_SERVER_DETECTION ??= 'none';
    return runSyncCommand(command, rest);
  }
  if (command === 'status') return runStatusCommand(rest);
  if (command === 'secret') return runSecretCommand(rest);
  if (command === 'conflicts') return runConflictsCommand(rest);
  process.stderr.write(`sheetsync: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SHEETSYNC_') ? code : undefined;
}

/** A start-up failure as one line with its code: its own, or SHEETSYNC_E766 (docs/errors.md). */
function startFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = codeOf(error);
  return code ? `${code}: ${message}` : `SHEETSYNC_E766: the local stack could not start: ${message}`;
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // The stable code (docs/errors.md) lets a user search for the cause and remedy.
    const code = (error as { code?: unknown }).code;
    const prefix = typeof code === 'string' && code.startsWith('SHEETSYNC_') ? `${code}: ` : '';
    process.stderr.write(`sheetsync: ${prefix}${message}\n`);
    process.exit(1);
  },
);
