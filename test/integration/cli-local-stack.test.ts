/**
 * The `sheetsync` CLI against a running `npm start`, with no flags and no environment: the stack
 * (`sheetsync start` as a child process) runs in a directory of its own that looks like a clone
 * (symlinks to this checkout), and the CLI runs there as `npx tsx cli/src/main.ts …`, finding
 * everything through `.sheetsync/local.json`. Both modes of the local stack:
 * - in-process stand-ins (SHEETSYNC_STANDINS=1): the version store lives inside the stack, so
 *   attach and reconcile run there, asked over the dashboard's API;
 * - Google's emulators (the ones the global setup started, handed over as PUBSUB_EMULATOR_HOST and
 *   FIRESTORE_EMULATOR_HOST): the CLI connects to the Firestore emulator local.json names.
 * Drift planted in PostgreSQL behind the capture triggers is reported by `reconcile --dry-run`
 * (exit 3, nothing changed) and repaired by `reconcile`; once the stack stops, the commands exit 1
 * with SHEETSYNC_E752 saying to run `npm start` or pass --config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliStack, startCliStack } from '../support/cli-stack.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';

const modes = [
  {
    mode: 'in-process stand-ins',
    store: 'memory',
    bus: 'memory',
    env: (): NodeJS.ProcessEnv => ({ SHEETSYNC_STANDINS: '1' }),
  },
  {
    mode: "Google's emulators",
    store: 'firestore-emulator',
    bus: 'pubsub-emulator',
    env: (): NodeJS.ProcessEnv => ({
      PUBSUB_EMULATOR_HOST: inject('pubsubEmulatorHost'),
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
      // Its own project on the shared emulators: its own topics and documents.
      GOOGLE_CLOUD_PROJECT: uniqueName('stack'),
    }),
  },
] as const;

describe.each(modes)('the CLI against a running npm start ($mode)', ({ store, bus, env: modeEnv }) => {
  const db = useTestDatabase();
  let cli: CliStack;
  let info: Record<string, unknown>;
  const sheetsync = (args: string[]) => cli.sheetsync(args);

  /** The demo tab's rows by name: name → [email, score]. */
  async function sheetRows(): Promise<Map<string, [string, string]>> {
    const response = await fetch(
      `${info.sheetsApiUrl as string}/v4/spreadsheets/sheetsync-demo/values/Leads`,
    );
    const [header = [], ...rows] = ((await response.json()) as { values?: string[][] }).values ?? [];
    const at = (name: string) => header.indexOf(name);
    return new Map(
      rows.map((r) => [String(r[at('name')]), [String(r[at('email')]), String(r[at('score')])]] as const),
    );
  }

  beforeAll(async () => {
    cli = await startCliStack({ DATABASE_URL: db.url, ...modeEnv() });
    info = cli.info;
  }, 240_000);

  afterAll(() => cli?.stop());

  it('local.json says how to reach the services, and no secret', () => {
    expect(info).toMatchObject({
      databaseUrl: db.url,
      spreadsheetId: 'sheetsync-demo',
      sheet: 'Leads',
      pid: cli.process.pid,
      store,
      bus,
      configFile: join(cli.cwd, '.sheetsync/links.json'),
    });
    for (const field of ['sheetsApiUrl', 'gridUrl', 'webhookUrl', 'dashboardUrl']) {
      expect(info[field]).toMatch(/^http:\/\/127\.0\.0\.1:\d+(\/|$)/);
    }
    if (store === 'firestore-emulator') {
      expect(info.firestoreEmulatorHost).toBe(inject('firestoreEmulatorHost'));
      expect(info.pubsubEmulatorHost).toBe(inject('pubsubEmulatorHost'));
      expect(info.googleCloudProject).toMatch(/^stack/);
    } else {
      expect(info).not.toHaveProperty('firestoreEmulatorHost');
      expect(info).not.toHaveProperty('pubsubEmulatorHost');
    }
    const secret = readFileSync(join(cli.cwd, '.sheetsync/webhook-secret'), 'utf8').trim();
    expect(secret.length).toBeGreaterThan(10);
    expect(readFileSync(join(cli.cwd, '.sheetsync/local.json'), 'utf8')).not.toContain(secret);
    expect(cli.output()).not.toContain(secret);
  });

  it('status --json and a clean reconcile --dry-run --json, with no flags', async () => {
    const [status, clean] = await Promise.all([
      sheetsync(['status', '--json']),
      sheetsync(['reconcile', '--link', 'leads', '--dry-run', '--json']),
    ]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      links: ['leads'],
      bus: bus === 'memory' ? 'in-process' : 'pubsub-emulator',
      openConflicts: 0,
      outbox: { changes: 0 },
    });
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toEqual({
      rowsCompared: 4,
      cellsToDb: 0,
      cellsToSheet: 0,
      conflicts: 0,
      rowsInsertedInDb: 0,
      rowsAppendedToSheet: 0,
      rowsDeletedFromDb: 0,
      rowsDeletedFromSheet: 0,
      idsAssigned: 0,
      deletesRefused: [],
      badCells: [],
      held: [],
      dryRun: true,
    });
  }, 120_000);

  it('drift planted behind the triggers: --dry-run reports it (exit 3), reconcile repairs it', async () => {
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.leads set score = 5 where name = 'Ada Lovelace'`;
      await tx`update public.leads set email = 'grace@drift.example' where name = 'Grace Hopper'`;
    });
    const dry = await sheetsync(['reconcile', '--link', 'leads', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(3);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      rowsCompared: 4,
      cellsToDb: 0,
      cellsToSheet: 2,
      conflicts: 0,
    });
    // Nothing changed on the sheet.
    expect((await sheetRows()).get('Ada Lovelace')).toEqual(['ada@example.com', '92']);

    const repair = await sheetsync(['reconcile', '--link', 'leads']);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain('4 rows compared\n');
    expect(repair.stdout).toContain('cells: wrote 0 to the table, 2 to the sheet; 0 conflicts');
    const rows = await sheetRows();
    expect(rows.get('Ada Lovelace')).toEqual(['ada@example.com', '5']);
    expect(rows.get('Grace Hopper')).toEqual(['grace@drift.example', '88']);

    const [after, attach] = [
      await sheetsync(['reconcile', '--link', 'leads', '--dry-run', '--json']),
      await sheetsync(['attach', '--link', 'leads', '--json']),
    ];
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ cellsToDb: 0, cellsToSheet: 0, conflicts: 0 });
    // Both sides hold rows: attach reconciles, and finds nothing left to do.
    expect(attach.code, attach.stderr).toBe(0);
    expect(JSON.parse(attach.stdout)).toMatchObject({
      mode: 'reconcile',
      reconcile: { rowsCompared: 4, cellsToDb: 0, cellsToSheet: 0, dryRun: false },
    });
  }, 180_000);

  it('an unknown link exits 1 naming the links there are', async () => {
    const run = await sheetsync(['reconcile', '--link', 'nobody', '--dry-run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SHEETSYNC_E101: no link named "nobody"');
    expect(run.stderr).toContain('(it has "leads")');
  }, 60_000);

  it('once the stack stopped, local.json is stale: exit 1, run npm start or pass --config', async () => {
    cli.process.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    const [reconcile, attach, status] = await Promise.all([
      sheetsync(['reconcile', '--link', 'leads', '--dry-run']),
      sheetsync(['attach', '--link', 'leads']),
      sheetsync(['status', '--json']),
    ]);
    for (const run of [reconcile, attach]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('SHEETSYNC_E752');
      expect(run.stderr).toContain('local.json is stale');
      expect(run.stderr).toContain('npm start');
      expect(run.stderr).toContain('--config');
    }
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('SHEETSYNC_E752');
    expect(status.stderr).toContain('npm start');
  }, 120_000);
});
