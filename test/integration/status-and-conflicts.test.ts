/**
 * `sheetsync status`, `sheetsync conflicts list|resolve` and the dashboard, against a running
 * pipeline over the real services (PostgreSQL, Google's Pub/Sub and Firestore emulators, the local
 * sheet with the real apps-script/): the counters follow real traffic, and a conflict resolved with
 * the dashboard's button (headless Chromium) or the CLI reaches both the table and the sheet.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listConflicts, resolveConflict } from '../../cli/src/conflicts.ts';
import { meteredBus } from '../../cli/src/dashboard/metered-bus.ts';
import { Metrics } from '../../cli/src/dashboard/metrics.ts';
import { conflictDesk } from '../../cli/src/dashboard/open-conflicts.ts';
import { type Dashboard, startDashboard } from '../../cli/src/dashboard/server.ts';
import { type Pipeline, startPipeline } from '../../cli/src/pipeline.ts';
import { formatStatus, readStatus } from '../../cli/src/status.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { parseConfig } from '../../functions/src/config.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { Bus } from '../../functions/src/ports.ts';
import { launchChromium } from '../support/chromium.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { observeValues } from '../support/sheet-observer.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Runs the real CLI; resolves with its exit code and output (it never rejects on exit codes). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'cli/src/main.ts'), ...args],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('status, conflicts and the dashboard', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('status');
  const names = {
    sheetTopic: uniqueName('sheet-changes'),
    dbTopic: uniqueName('db-changes'),
    applyToDb: uniqueName('apply-to-db'),
    applyToSheet: uniqueName('apply-to-sheet'),
  };
  const stateDir = mkdtempSync(join(tmpdir(), 'sheetsync-status-'));
  let firestore: Firestore;
  let store: FirestoreVersionStore;
  let bus: Bus;
  let emulator: Emulator;
  let pipeline: Pipeline;
  let dashboard: Dashboard;
  let browser: Browser | undefined;

  /** The tab's rows (header first) as the Sheets API returns them. */
  async function tab(): Promise<string[][]> {
    return (await observeValues(emulator.url, spreadsheetId, 'Leads')) as string[][];
  }

  /** A1 address of `column` in the row whose name is `name`. */
  async function cellOf(name: string, column: string): Promise<string> {
    const rows = await tab();
    const header = rows[0] ?? [];
    const row = rows.findIndex((r) => r[header.indexOf('name')] === name);
    expect(row).toBeGreaterThan(0);
    return `Leads!${String.fromCharCode(65 + header.indexOf(column))}${row + 1}`;
  }

  async function sheetValue(name: string, column: string): Promise<string | undefined> {
    const rows = await tab();
    const header = rows[0] ?? [];
    return rows.find((r) => r[header.indexOf('name')] === name)?.[header.indexOf(column)];
  }

  const dbStatus = async (name: string) =>
    (await db.sql<{ status: string }[]>`select status from public.leads where name = ${name}`)[0]?.status;

  async function act(actions: unknown[]): Promise<void> {
    const response = await fetch(`${emulator.url}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions }),
    });
    expect(response.status).toBe(200);
  }

  /**
   * Makes a concurrent conflict: the DB changes a cell and, before that change reaches the sheet,
   * a person edits the same cell there. Under the link's `manual` policy applyToDb keeps the DB
   * value and records an open conflict with both values.
   */
  async function plantConflict(name: string, dbValue: string, sheetValue: string): Promise<string> {
    const range = await cellOf(name, 'status');
    await db.sql`update public.leads set status = ${dbValue} where name = ${name}`;
    await act([{ type: 'edit', range, values: [[sheetValue]] }]);
    const conflict = await waitFor(
      `an open conflict on ${name}`,
      async () => (await listConflicts(stateDir)).find((c) => c.sheet.value === sheetValue),
      60_000,
    );
    expect(conflict.db.value).toBe(dbValue);
    expect(conflict.column).toBe('status');
    return conflict.id;
  }

  beforeAll(async () => {
    const metrics = new Metrics();
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
    store = new FirestoreVersionStore({ firestore, root: uniqueName('links') });
    bus = meteredBus(
      createPubSubBus({
        projectId: 'sheetsync-test',
        apiEndpoint: inject('pubsubEmulatorHost'),
        logger: silentLogger,
      }),
      metrics,
      names,
    );
    emulator = await createEmulator({
      port: 0,
      quotas: { enabled: false },
      appsScript: { scriptDir: 'apps-script' },
    });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
    await db.sql`create table public.leads (
      id bigint generated by default as identity primary key, name text not null, status text)`;
    const config = parseConfig({
      links: [
        {
          name: 'leads',
          spreadsheetId,
          sheet: 'Leads',
          table: 'public.leads',
          conflict: { policy: 'manual' },
        },
      ],
    });
    const secret = 'status-test-secret';
    pipeline = await startPipeline({
      databaseUrl: db.url,
      bus,
      store,
      sheetsApiUrl: emulator.url,
      config,
      webhookSecret: secret,
      logger: silentLogger,
      names,
      relayPollMs: 200,
    });
    const setup = await emulator.appsScript!.run(spreadsheetId, 'setup', [
      pipeline.webhookUrl,
      spreadsheetSecret(secret, spreadsheetId),
      'Leads',
    ]);
    expect(setup.status, setup.error).toBe('COMPLETED');
    metrics.watchRelay(() => pipeline.relay.counters());
    dashboard = await startDashboard({
      metrics,
      conflicts: conflictDesk({ store, bus, links: ['leads'], sheetTopic: names.sheetTopic }),
      sql: db.sql,
      links: ['leads'],
      bus: 'pubsub-emulator',
    });
    writeFileSync(
      join(stateDir, 'local.json'),
      JSON.stringify({ dashboardUrl: dashboard.url, databaseUrl: db.url }),
    );
    await db.sql`insert into public.leads (name, status) values ('Ada', 'new'), ('Grace', 'new'), ('Alan', 'new')`;
    await waitFor('the three rows in the sheet', async () => (await tab()).length === 4, 60_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await pipeline?.stop();
    await emulator?.close();
    await bus?.close();
    await firestore?.terminate();
  });

  it('status counts the changes each way, reads the outbox, and says n/a for dead letters', async () => {
    // The sheet shows the rows a moment before applyToSheet's deliveries are acknowledged.
    const before = await waitFor('the three DB changes counted', async () => {
      const report = await readStatus(stateDir);
      return report.totals.dbToSheet >= 3 && report;
    });
    expect(before.relay?.published).toBeGreaterThanOrEqual(3);
    expect(before.outbox).toEqual({ rows: 0, changes: 0, oldestAgeMs: null });
    expect(before.deadLettered).toBeNull();

    await act([{ type: 'edit', range: await cellOf('Grace', 'status'), values: [['qualified']] }]);
    await waitFor('Grace qualified in the table', async () => (await dbStatus('Grace')) === 'qualified');
    const after = await waitFor('the sheet change counted', async () => {
      const report = await readStatus(stateDir);
      return report.totals.sheetToDb > before.totals.sheetToDb && report;
    });
    expect(after.inFlight.sheetChanges).toBe(0);
    expect(formatStatus(after)).toMatch(/dead-lettered\s+n\/a/);
    expect(formatStatus(after)).toMatch(/relay\s+active, lag \d+ ms/);

    const json = await cli(['status', '--json', '--state-dir', stateDir]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).totals.sheetToDb).toBeGreaterThanOrEqual(after.totals.sheetToDb);
    const missing = await cli(['status', '--state-dir', join(stateDir, 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/SHEETSYNC_E752|not running/);
    expect(missing.stderr).toContain('npm start');
    const usage = await cli(['status', '--bogus']);
    expect(usage.code).toBe(2);
  }, 120_000);

  // The sheet shows the kept DB value ('lost'); the resolution's echo must write 'won' there.
  it('a click on the dashboard keeps the sheet value: it reaches the table, the sheet keeps it', async () => {
    const id = await plantConflict('Ada', 'lost', 'won');
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(dashboard.url);
    const row = page.locator(`tr[data-conflict="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('lost');
    await page.waitForFunction(() => document.getElementById('feed')?.textContent === 'live');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-conflict.png') });
    await row.locator('button[data-take="sheet"]').click();
    await row.waitFor({ state: 'detached', timeout: 15_000 });
    await waitFor('Ada won in the table', async () => (await dbStatus('Ada')) === 'won', 30_000);
    await waitFor('Ada won in the sheet', async () => (await sheetValue('Ada', 'status')) === 'won', 30_000);
    expect(await listConflicts(stateDir)).toEqual([]);
  }, 120_000);

  it('conflicts resolve --take db keeps the DB value on both sides', async () => {
    const id = await plantConflict('Grace', 'db-kept', 'sheet-lost');
    const resolved = await cli([
      'conflicts',
      'resolve',
      id,
      '--take',
      'db',
      '--json',
      '--state-dir',
      stateDir,
    ]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({
      id,
      status: 'resolved',
      resolution: { choice: 'db', value: 'db-kept' },
    });
    await waitFor(
      'Grace db-kept in the sheet',
      async () => (await sheetValue('Grace', 'status')) === 'db-kept',
      30_000,
    );
    expect(await dbStatus('Grace')).toBe('db-kept');
    expect((await listConflicts(stateDir)).map((c) => c.id)).not.toContain(id);
  }, 120_000);

  it('conflicts list and resolve --value from the CLI; a second resolve is refused', async () => {
    const id = await plantConflict('Alan', 'db-said', 'sheet-said');
    const list = await cli(['conflicts', 'list', '--json', '--state-dir', stateDir]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((c) => c.id)).toEqual([id]);

    const resolved = await cli(['conflicts', 'resolve', id, '--value', 'agreed', '--state-dir', stateDir]);
    expect(resolved.code, resolved.stderr).toBe(0);
    await waitFor('Alan agreed in the table', async () => (await dbStatus('Alan')) === 'agreed', 30_000);
    await waitFor(
      'Alan agreed in the sheet',
      async () => (await sheetValue('Alan', 'status')) === 'agreed',
      30_000,
    );

    const again = await resolveConflict(stateDir, id, { take: 'db' }).catch((e: Error) => e);
    expect(again).toBeInstanceOf(Error);
    expect((again as Error).message).toMatch(/SHEETSYNC_E40[12]/);
    const noChoice = await cli(['conflicts', 'resolve', id, '--state-dir', stateDir]);
    expect(noChoice.code).toBe(2);
  }, 180_000);
});
