/**
 * Custom conflict resolvers through the whole pipeline (docs/design/custom-resolvers.md), over
 * the real services (PostgreSQL, Google's Pub/Sub and Firestore emulators, the local sheet with
 * the real apps-script/): one spreadsheet, three tabs, three links, each with a resolver module named by a
 * path relative to the config's directory. A cell changed in the table and, before that change
 * reached the sheet, on the sheet too (a concurrent edit) ends with the resolver's value in both
 * the table and the sheet, and the conflict record keeps both losing values. A resolver that throws
 * leaves an open manual conflict. A resolver module that cannot be loaded stops
 * `sheetsync start --config`, naming the field.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Pipeline, startPipeline } from '../../cli/src/pipeline.ts';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { decodeConflict } from '../../functions/src/adapters/firestore-codec.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { parseConfig } from '../../functions/src/config.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { createLogger, silentLogger } from '../../functions/src/log.ts';
import type { Bus } from '../../functions/src/ports.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { observeValues } from '../support/sheet-observer.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('custom conflict resolvers', () => {
  const db = useTestDatabase();
  const spreadsheetId = uniqueName('custom');
  const root = uniqueName('links');
  const names = {
    sheetTopic: uniqueName('sheet-changes'),
    dbTopic: uniqueName('db-changes'),
    applyToDb: uniqueName('apply-to-db'),
    applyToSheet: uniqueName('apply-to-sheet'),
  };
  const logLines: string[] = [];
  let firestore: Firestore;
  let bus: Bus;
  let emulator: Emulator;
  let pipeline: Pipeline;

  async function tab(title: string): Promise<string[][]> {
    return (await observeValues(emulator.url, spreadsheetId, title)) as string[][];
  }

  async function sheetValue(title: string, name: string, column: string): Promise<string | undefined> {
    const rows = await tab(title);
    const header = rows[0] ?? [];
    return rows.find((r) => r[header.indexOf('name')] === name)?.[header.indexOf(column)];
  }

  async function cellOf(title: string, name: string, column: string): Promise<string> {
    const rows = await tab(title);
    const header = rows[0] ?? [];
    const row = rows.findIndex((r) => r[header.indexOf('name')] === name);
    expect(row).toBeGreaterThan(0);
    return `${title}!${String.fromCharCode(65 + header.indexOf(column))}${row + 1}`;
  }

  async function conflicts(link: string): Promise<ConflictRecord[]> {
    const snapshot = await firestore.collection(root).doc(link).collection('conflicts').get();
    return snapshot.docs.map((d) => decodeConflict(d.data()));
  }

  /**
   * A concurrent edit of one cell: the table changes it and, before that change reaches the
   * sheet, a person edits it there. Resolves with the conflict record once applyToDb decided it.
   */
  async function concurrentEdit(
    link: string,
    title: string,
    table: string,
    column: string,
    dbValue: string | number,
    sheetValue: string | number,
  ): Promise<ConflictRecord> {
    const range = await cellOf(title, 'Ada', column);
    await db.sql`update ${db.sql(table)} set ${db.sql(column)} = ${dbValue} where name = 'Ada'`;
    const response = await fetch(`${emulator.url}/_emulator/v1/spreadsheets/${spreadsheetId}/userActions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions: [{ type: 'edit', range, values: [[sheetValue]] }] }),
    });
    expect(response.status).toBe(200);
    return waitFor(
      `the conflict on ${link}.${column}`,
      async () => (await conflicts(link)).find((c) => c.column === column && c.reason === 'concurrent'),
      60_000,
    );
  }

  const dbValue = async (table: string, column: string) =>
    (await db.sql`select ${db.sql(column)} as v from ${db.sql(table)} where name = 'Ada'`)[0]?.v;

  beforeAll(async () => {
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
    const store = new FirestoreVersionStore({ firestore, root });
    bus = createPubSubBus({
      projectId: 'sheetsync-test',
      apiEndpoint: inject('pubsubEmulatorHost'),
      logger: silentLogger,
    });
    emulator = await createEmulator({
      port: 0,
      quotas: { enabled: false },
      appsScript: { scriptDir: 'apps-script' },
    });
    emulator.model.create(
      { spreadsheetId, sheets: [{ title: 'Notes' }, { title: 'Scores' }, { title: 'Flaky' }] },
      'api',
    );
    await db.sql`create table public.notes (
      id bigint generated by default as identity primary key, name text not null, notes text)`;
    await db.sql`create table public.scores (
      id bigint generated by default as identity primary key, name text not null, score integer)`;
    await db.sql`create table public.flaky (
      id bigint generated by default as identity primary key, name text not null, status text)`;
    const link = (name: string, sheet: string, conflict: object) => ({
      name,
      spreadsheetId,
      sheet,
      table: `public.${name}`,
      conflict,
    });
    // Resolver paths are relative to the config's directory, here the repository root.
    const config = parseConfig(
      {
        links: [
          link('notes', 'Notes', {
            policy: 'last-writer-wins',
            columns: { notes: 'custom' },
            resolver: 'examples/resolvers/concat-notes.ts',
          }),
          link('scores', 'Scores', { policy: 'custom', resolver: 'examples/resolvers/keep-larger.js' }),
          link('flaky', 'Flaky', { policy: 'custom', resolver: 'test/fixtures/resolvers/throws.js' }),
        ],
      },
      'custom-resolver.test',
      { baseDir: ROOT },
    );
    const secret = 'custom-resolver-test-secret';
    pipeline = await startPipeline({
      databaseUrl: db.url,
      bus,
      store,
      sheetsApiUrl: emulator.url,
      config,
      webhookSecret: secret,
      logger: createLogger({ level: 'WARNING', write: (line) => logLines.push(line) }),
      names,
      relayPollMs: 200,
    });
    const setup = await emulator.appsScript!.run(spreadsheetId, 'setup', [
      pipeline.webhookUrl,
      spreadsheetSecret(secret, spreadsheetId),
      'Notes,Scores,Flaky',
    ]);
    expect(setup.status, setup.error).toBe('COMPLETED');
    await db.sql`insert into public.notes (name, notes) values ('Ada', 'met at the fair')`;
    await db.sql`insert into public.scores (name, score) values ('Ada', 10)`;
    await db.sql`insert into public.flaky (name, status) values ('Ada', 'new')`;
    for (const title of ['Notes', 'Scores', 'Flaky']) {
      await waitFor(`Ada in the ${title} tab`, async () => (await tab(title)).length === 2, 60_000);
    }
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await emulator?.close();
    await bus?.close();
    await firestore?.terminate();
  });

  it('a merge (concat-notes.ts) reaches the table and the sheet; the record keeps both values', async () => {
    const record = await concurrentEdit('notes', 'Notes', 'notes', 'notes', 'called', 'emailed');
    expect(record).toMatchObject({
      policy: 'custom:concat-notes',
      outcome: 'custom',
      value: 'called\nemailed',
      status: 'resolved',
      sheet: { value: 'emailed' },
      db: { value: 'called' },
    });
    await waitFor(
      'the merge in the table',
      async () => (await dbValue('notes', 'notes')) === 'called\nemailed',
    );
    await waitFor(
      'the merge in the sheet',
      async () => (await sheetValue('Notes', 'Ada', 'notes')) === 'called\nemailed',
      30_000,
    );
    // And it stays: the sheet's edit and the table's change both settled on the merge.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await dbValue('notes', 'notes')).toBe('called\nemailed');
    expect(await sheetValue('Notes', 'Ada', 'notes')).toBe('called\nemailed');
  }, 120_000);

  it('keep-larger.js keeps the table’s 50 over the sheet’s later 30 (last-writer-wins would not)', async () => {
    const record = await concurrentEdit('scores', 'Scores', 'scores', 'score', 50, 30);
    expect(record).toMatchObject({
      policy: 'custom:keep-larger',
      outcome: 'db',
      value: 50,
      status: 'resolved',
      sheet: { value: 30 },
      db: { value: 50 },
    });
    await waitFor(
      '50 in the sheet',
      async () => (await sheetValue('Scores', 'Ada', 'score')) === '50',
      30_000,
    );
    expect(await dbValue('scores', 'score')).toBe(50);
  }, 120_000);

  it('a resolver that throws leaves the conflict open (as manual does), the table’s value on both sides', async () => {
    const record = await concurrentEdit('flaky', 'Flaky', 'flaky', 'status', 'db-side', 'sheet-side');
    expect(record).toMatchObject({
      policy: expect.stringMatching(/^custom:/),
      outcome: 'db',
      status: 'open',
      sheet: { value: 'sheet-side' },
      db: { value: 'db-side' },
    });
    await waitFor(
      'the table’s value in the sheet',
      async () => (await sheetValue('Flaky', 'Ada', 'status')) === 'db-side',
      30_000,
    );
    expect(await dbValue('flaky', 'status')).toBe('db-side');
    const errors = logLines.map((l) => JSON.parse(l)).filter((e) => e.code === 'SHEETSYNC_E411');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({
      severity: 'ERROR',
      link: 'flaky',
      rowId: record.rowId,
      column: 'status',
    });
    expect(errors[0].message).toMatch(/custom conflict resolver throws threw/);
    // The resolver's message quoted both values; neither reached the log at WARNING and above.
    for (const line of logLines) expect(line).not.toMatch(/sheet-side|db-side/);
  }, 120_000);

  it('stops `sheetsync start --config` on a resolver module that cannot be loaded, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sheetsync-resolver-'));
    writeFileSync(join(dir, 'broken.js'), 'export default (conflict) => {\n');
    const file = join(dir, 'links.json');
    writeFileSync(
      file,
      JSON.stringify({
        links: [
          {
            name: 'leads',
            spreadsheetId: 'x',
            sheet: 'Leads',
            table: 'public.leads',
            conflict: { policy: 'manual', columns: { notes: 'custom' }, resolver: 'broken.js' },
          },
        ],
      }),
    );
    const failure = (await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'cli/src/main.ts', 'start', '--config', file, '--state-dir', join(dir, 'state')],
      { cwd: ROOT, timeout: 60_000 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('SHEETSYNC_E105');
    expect(failure.stderr).toMatch(/links\[0\]\.conflict\.resolver: importing .*broken\.js failed/);
  }, 90_000);
});
