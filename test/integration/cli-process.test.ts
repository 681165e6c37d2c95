/**
 * The `sheetsync` CLI as a real process (`npx tsx cli/src/main.ts …`), against PostgreSQL, the
 * Firestore emulator and the local sheet: attach, reconcile (--dry-run, --json), status and
 * conflicts list (--json) of a running dashboard, wrong configs, and the exit codes
 * (0 ok, 1 failure, 2 wrong usage, 3 reconcile --dry-run found drift).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Metrics } from '../../cli/src/dashboard/metrics.ts';
import { conflictDesk } from '../../cli/src/dashboard/open-conflicts.ts';
import { type Dashboard, startDashboard } from '../../cli/src/dashboard/server.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createMemoryBus } from '../../functions/src/adapters/memory-bus.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';

const ROOT = join(import.meta.dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the sheetsync CLI as a process', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('cli');
  // Its own Firestore project: the CLI's version store uses the default root collection.
  const project = uniqueName('cli-project');
  const dir = mkdtempSync(join(tmpdir(), 'sheetsync-cli-'));
  const config = join(dir, 'links.json');
  let emulator: Emulator;
  let env: NodeJS.ProcessEnv;

  /**
   * `npx tsx cli/src/main.ts …` (or, with `bin`, `npx sheetsync …` through the package's bin,
   * cli/bin/sheetsync.js); resolves with the exit code and output, never rejects.
   */
  function sheetsync(args: string[], extraEnv: NodeJS.ProcessEnv = {}, bin = false): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        'npx',
        bin ? ['sheetsync', ...args] : ['tsx', 'cli/src/main.ts', ...args],
        { cwd: ROOT, env: { ...env, ...extraEnv }, timeout: 120_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  const names = async () =>
    (
      await db.sql<
        { id: string; name: string; score: number }[]
      >`select id, name, score from public.people order by id`
    ).map((r) => [Number(r.id), r.name, r.score]);

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0 });
    emulator.model.create(
      {
        spreadsheetId,
        sheets: [
          { title: 'People', sheetId: 0 },
          { title: 'Other', sheetId: 1 },
        ],
      },
      'api',
    );
    await db.sql`create table public.people (id bigint primary key, name text, score integer)`;
    await db.sql`insert into public.people select i, 'person ' || i, i from generate_series(1, 20) i`;
    const link = (name: string, sheet: string, table: string, policy = 'manual') => ({
      name,
      spreadsheetId,
      sheet,
      table,
      conflict: { policy },
    });
    writeFileSync(
      config,
      JSON.stringify({
        links: [
          link('people', 'People', 'public.people'),
          link('ghost', 'Other', 'public.nope'),
          link('tabless', 'Missing', 'public.people'),
        ],
      }),
    );
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      SHEETSYNC_SHEETS_API_URL: emulator.url,
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
      GOOGLE_CLOUD_PROJECT: project,
      METADATA_SERVER_DETECTION: 'none',
    };
    delete env.SHEETSYNC_CONFIG;
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('says how to use it: exit code 2 for wrong usage, 0 for help', async () => {
    const [help, none, unknown, noLink, dryAttach, badFlag, noStack] = await Promise.all([
      sheetsync(['help']),
      sheetsync([]),
      sheetsync(['sync-everything']),
      sheetsync(['reconcile', '--config', config]),
      sheetsync(['attach', '--link', 'people', '--config', config, '--dry-run']),
      sheetsync(['reconcile', '--link', 'people', '--config', config, '--bogus']),
      // No --config: the running `npm start` of the state directory, and none runs there.
      sheetsync(['reconcile', '--link', 'people', '--state-dir', join(dir, 'no-stack')]),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      'exit codes: 0 ok, 1 failure, 2 wrong usage, 3 reconcile --dry-run found drift',
    );
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "sync-everything"');
    expect(noLink.code).toBe(2);
    expect(noLink.stderr).toContain('--link NAME is required');
    expect(dryAttach.code).toBe(2);
    expect(dryAttach.stderr).toContain('--dry-run is an option of reconcile');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/bogus/);
    expect(noStack.code).toBe(1);
    expect(noStack.stderr).toContain('SHEETSYNC_E752');
    expect(noStack.stderr).toContain('no-stack/local.json not found');
    expect(noStack.stderr).toContain('`npm start`');
    expect(noStack.stderr).toContain('or pass --config FILE');
  }, 180_000);

  it('attaches, finds drift with --dry-run (exit 3, nothing changed), repairs it, then finds none', async () => {
    const attach = await sheetsync(['attach', '--link', 'people', '--config', config, '--json']);
    expect(attach.code, attach.stderr).toBe(0);
    expect(JSON.parse(attach.stdout)).toMatchObject({ mode: 'table-to-sheet', rows: 20 });
    const sheet = tabValues(emulator, spreadsheetId, 'People');
    expect(sheet[0]).toEqual(['id', 'name', 'score', '_sheetsync_id']);
    expect(sheet).toHaveLength(21);

    const clean = await sheetsync(['reconcile', '--link', 'people', '--config', config, '--dry-run']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('20 rows compared (dry run: nothing changed)');
    expect(clean.stdout).toContain('cells: would write 0 to the table, 0 to the sheet; 0 conflicts');

    // Drift behind the pipeline's back: the DB without its triggers, the sheet through the API.
    await db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.people set name = 'db drift' where id = 3`;
      await tx`update public.people set score = 999 where id = 10`;
    });
    const api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger });
    await api.client.spreadsheets.values.batchUpdate({
      spreadsheetId,
      requestBody: {
        valueInputOption: 'RAW',
        data: [
          { range: 'People!B6', values: [['sheet drift']] },
          { range: 'People!C11', values: [[111]] },
        ],
      },
    });

    const dryJson = await sheetsync([
      'reconcile',
      '--link',
      'people',
      '--config',
      config,
      '--dry-run',
      '--json',
    ]);
    expect(dryJson.code, dryJson.stderr).toBe(3);
    expect(JSON.parse(dryJson.stdout)).toMatchObject({
      dryRun: true,
      rowsCompared: 20,
      cellsToDb: 1,
      cellsToSheet: 1,
      conflicts: 1,
    });
    // Through the package's bin (`npx sheetsync`), which must pass the exit code on.
    const dry = await sheetsync(['reconcile', '--link', 'people', '--config', config, '--dry-run'], {}, true);
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.stdout).toContain('cells: would write 1 to the table, 1 to the sheet; 1 conflicts');
    // A dry run changes nothing on either side.
    expect((await names()).slice(2, 5)).toEqual([
      [3, 'db drift', 3],
      [4, 'person 4', 4],
      [5, 'person 5', 5],
    ]);
    expect(tabValues(emulator, spreadsheetId, 'People!B4:B6')).toEqual([
      ['person 3'],
      ['person 4'],
      ['sheet drift'],
    ]);

    const repair = await sheetsync(['reconcile', '--link', 'people', '--config', config]);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain('20 rows compared\n');
    expect(repair.stdout).toContain('cells: wrote 1 to the table, 1 to the sheet; 1 conflicts');
    expect((await names()).filter(([id]) => id === 3 || id === 5 || id === 10)).toEqual([
      [3, 'db drift', 3],
      [5, 'sheet drift', 5],
      [10, 'person 10', 999],
    ]);
    // Both sides changed score of row 10: under `manual` the DB value stays, on both sides.
    expect(tabValues(emulator, spreadsheetId, 'People!B4:C11')[0]).toEqual(['db drift', 3]);
    expect(tabValues(emulator, spreadsheetId, 'People!C11')).toEqual([[999]]);

    const after = await sheetsync([
      'reconcile',
      '--link',
      'people',
      '--config',
      config,
      '--dry-run',
      '--json',
    ]);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ cellsToDb: 0, cellsToSheet: 0, conflicts: 0 });
  }, 300_000);

  it('status and conflicts list of a running stack, human and --json; exit 1 when none runs', async () => {
    // The dashboard of a running `npm start`, over the version store the CLI wrote to above.
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    const firestore = new Firestore({ projectId: project, host, port: Number(port), ssl: false });
    const store = new FirestoreVersionStore({ firestore });
    const bus = createMemoryBus();
    let dashboard: Dashboard | undefined;
    try {
      dashboard = await startDashboard({
        metrics: new Metrics(),
        conflicts: conflictDesk({ store, bus, links: ['people'] }),
        sql: db.sql,
        links: ['people'],
        bus: 'in-process',
      });
      const stateDir = join(dir, 'state');
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(
        join(stateDir, 'local.json'),
        JSON.stringify({ dashboardUrl: dashboard.url, databaseUrl: db.url }),
      );

      const [listJson, list, statusJson, status] = await Promise.all([
        sheetsync(['conflicts', 'list', '--json', '--state-dir', stateDir]),
        sheetsync(['conflicts', 'list', '--state-dir', stateDir]),
        sheetsync(['status', '--json', '--state-dir', stateDir]),
        sheetsync(['status', '--state-dir', stateDir]),
      ]);
      expect(listJson.code, listJson.stderr).toBe(0);
      const conflicts = JSON.parse(listJson.stdout) as Array<Record<string, unknown>>;
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]).toMatchObject({
        link: 'people',
        column: 'score',
        status: 'open',
        policy: 'manual',
        sheet: { value: 111 },
        db: { value: 999 },
        value: 999,
      });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(`${conflicts[0]!.id as string}  people row`);
      expect(list.stdout).toContain('sheet: 111   db: 999   now: 999');
      expect(list.stdout).toContain('1 open; resolve with: sheetsync conflicts resolve ID');

      expect(statusJson.code, statusJson.stderr).toBe(0);
      expect(JSON.parse(statusJson.stdout)).toMatchObject({
        links: ['people'],
        bus: 'in-process',
        openConflicts: 1,
      });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/open conflicts\s+1 \(sheetsync conflicts list\)/);

      const [noChoice, unknownId, gone] = await Promise.all([
        sheetsync(['conflicts', 'resolve', conflicts[0]!.id as string, '--state-dir', stateDir]),
        sheetsync(['conflicts', 'resolve', 'no-such-conflict', '--take', 'db', '--state-dir', stateDir]),
        sheetsync(['status', '--json', '--state-dir', join(dir, 'nowhere')]),
      ]);
      expect(noChoice.code).toBe(2);
      expect(noChoice.stderr).toContain('give either --take or --value');
      expect(unknownId.code).toBe(1);
      expect(unknownId.stderr).toContain('SHEETSYNC_E401');
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain('SHEETSYNC_E752');
      expect(gone.stderr).toContain('npm start');
    } finally {
      await dashboard?.close();
      await bus.close();
      await firestore.terminate();
    }
  }, 180_000);

  it('stops on a wrong link with exit code 1 and a message naming the field', async () => {
    const duplicate = join(dir, 'duplicate.json');
    writeFileSync(
      duplicate,
      JSON.stringify({
        links: [
          { name: 'x', spreadsheetId, sheet: 'People', table: 'public.people' },
          { name: 'x', spreadsheetId, sheet: 'Other', table: 'public.people' },
        ],
      }),
    );
    const [unknownTable, missingTab, attachMissingTab, attachNoTable, twice, nobody] = await Promise.all([
      sheetsync(['reconcile', '--link', 'ghost', '--config', config]),
      sheetsync(['reconcile', '--link', 'tabless', '--config', config, '--dry-run']),
      sheetsync(['attach', '--link', 'tabless', '--config', config]),
      sheetsync(['attach', '--link', 'ghost', '--config', config]),
      sheetsync(['reconcile', '--link', 'x', '--config', duplicate]),
      sheetsync(['reconcile', '--link', 'nobody', '--config', config]),
    ]);
    expect(unknownTable.code).toBe(1);
    expect(unknownTable.stderr).toContain('links[1].table');
    expect(unknownTable.stderr).toContain('SHEETSYNC_E250');
    expect(missingTab.code).toBe(1);
    expect(missingTab.stderr).toContain('links[2].sheet');
    expect(missingTab.stderr).toContain('has no tab titled "Missing"');
    expect(attachMissingTab.code).toBe(1);
    expect(attachMissingTab.stderr).toContain('links[2].sheet');
    // attach creates a missing table from the sheet's rows; the tab "Other" has none.
    expect(attachNoTable.code).toBe(1);
    expect(attachNoTable.stderr).toContain('links[1].table');
    expect(attachNoTable.stderr).toContain('no rows to create it from');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('links[1].name: duplicate link name "x"');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('no link named "nobody"');
    // Nothing was created or written.
    expect((await db.sql`select to_regclass('public.nope') as t`)[0]!.t).toBeNull();
    expect(tabValues(emulator, spreadsheetId, 'Other')).toEqual([]);
  }, 180_000);

  it('stops `sheetsync start --config` on an unknown table and a missing tab, naming both fields', async () => {
    const stateDir = join(dir, 'start-state');
    // The spreadsheet exists before start, as a user's would: saved in the local sheet's state.
    const seed = await createEmulator({ port: 0, state: join(stateDir, 'sheets.json') });
    seed.model.create({ spreadsheetId: 'start-check', sheets: [{ title: 'People' }] }, 'api');
    await seed.close();
    const file = join(dir, 'start-links.json');
    writeFileSync(
      file,
      JSON.stringify({
        links: [
          { name: 'people', spreadsheetId: 'start-check', sheet: 'People', table: 'public.people' },
          { name: 'ghost', spreadsheetId: 'start-check', sheet: 'People', table: 'public.nope' },
          { name: 'tabless', spreadsheetId: 'start-check', sheet: 'Missing', table: 'public.people' },
        ],
      }),
    );
    const started = await sheetsync(['start', '--config', file, '--state-dir', stateDir]);
    expect(started.code, started.stderr).toBe(1);
    expect(started.stdout).not.toContain('sheetsync ready');
    expect(started.stderr).toContain('links[1].table');
    expect(started.stderr).toContain(
      'links[2].sheet: link "tabless": spreadsheet start-check has no tab titled "Missing"',
    );
    expect(started.stderr).toMatch(/SHEETSYNC_E250/);
  }, 180_000);
});
