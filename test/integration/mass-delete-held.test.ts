/**
 * Issue 17, "Done when": a person deleting 30 of a 40-row tab's rows in one action deletes nothing
 * in the table until `sheetsync approve ID`; `sheetsync status --json` lists the change under
 * `held`; `sheetsync discard ID` puts the rows back on the sheet. Deleting the hidden id column
 * deletes nothing in the table, and discarding that held change gives the rows their ids back. Through the whole local stack
 * (`sheetsync start` as a child process, the real Apps Script in the local sheet, the webhook,
 * the version store), with the CLI as a person runs it, in both modes of the stack: the CLI
 * connects to Google's Firestore emulator itself, or asks the stack that holds the in-process
 * store.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliStack, startCliStack } from '../support/cli-stack.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

const modes = [
  { mode: 'in-process stand-ins', env: (): NodeJS.ProcessEnv => ({ SHEETSYNC_STANDINS: '1' }) },
  {
    mode: "Google's emulators",
    env: (): NodeJS.ProcessEnv => ({
      PUBSUB_EMULATOR_HOST: inject('pubsubEmulatorHost'),
      FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
      GOOGLE_CLOUD_PROJECT: uniqueName('held'),
    }),
  },
] as const;

interface Held {
  id: string;
  link: string;
  count: number;
  side: string;
}

describe.each(modes)('a mass delete in the sheet waits for a person ($mode)', ({ env }) => {
  const db = useTestDatabase();
  let cli: CliStack;

  const sheetRowCount = async () => {
    const url = `${cli.info.sheetsApiUrl as string}/v4/spreadsheets/sheetsync-demo/values/Leads!A2:A`;
    return (((await (await fetch(url)).json()) as { values?: unknown[][] }).values ?? []).length;
  };
  const tableCount = async () => Number((await db.sql`select count(*) from public.leads`)[0]!.count);
  const held = async (): Promise<Held[]> => {
    const status = await cli.sheetsync(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    return (JSON.parse(status.stdout) as { held: Held[] }).held;
  };
  const deleteRows = async (count: number) => {
    const response = await fetch(
      `${cli.info.sheetsApiUrl as string}/_emulator/v1/spreadsheets/sheetsync-demo/userActions`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ actions: [{ type: 'deleteRows', sheet: 'Leads', index: 1, count }] }),
      },
    );
    expect(response.status).toBe(200);
  };

  beforeAll(async () => {
    cli = await startCliStack({ DATABASE_URL: db.url, ...env() });
    // 36 more leads next to the demo's 4: 40 rows on both sides.
    await db.sql`
      insert into public.leads (name, email, company, status, score)
      select 'Lead ' || i, 'lead' || i || '@example.com', 'Acme', 'new', i from generate_series(1, 36) i`;
    await waitFor('40 rows on the sheet', async () => (await sheetRowCount()) === 40, 30_000);
  }, 300_000);
  afterAll(() => cli?.stop());

  it('holds 30 of 40 deleted rows; discard puts them back on the sheet', async () => {
    await deleteRows(30);
    const [change] = await waitFor('the change held', async () => {
      const list = await held();
      return list.length > 0 && list;
    });
    expect(change).toMatchObject({ link: 'leads', count: 30, side: 'db' });
    expect(change!.id).toMatch(/^h[0-9a-f]{15}$/);
    expect(await sheetRowCount()).toBe(10);
    expect(await tableCount()).toBe(40);

    const discard = await cli.sheetsync(['discard', change!.id]);
    expect(discard.code, discard.stderr).toBe(0);
    expect(discard.stdout).toContain(`discarded held change ${change!.id} of link leads`);
    await waitFor('the rows back on the sheet', async () => (await sheetRowCount()) === 40, 30_000);
    expect(await tableCount()).toBe(40);
    expect(await held()).toEqual([]);
    // A second decision on it is refused.
    const again = await cli.sheetsync(['approve', change!.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SHEETSYNC_E421');
  }, 180_000);

  it('approve deletes the held rows from the table', async () => {
    await deleteRows(30);
    const [change] = await waitFor('the change held', async () => {
      const list = await held();
      return list.length > 0 && list;
    });
    expect(await tableCount()).toBe(40);
    const approve = await cli.sheetsync(['approve', change!.id, '--json']);
    expect(approve.code, approve.stderr).toBe(0);
    expect(JSON.parse(approve.stdout)).toMatchObject({
      change: { id: change!.id, status: 'approved' },
      reconcile: { rowsDeletedFromDb: 30 },
    });
    expect(await tableCount()).toBe(10);
    expect(await sheetRowCount()).toBe(10);
    expect(await held()).toEqual([]);
  }, 180_000);

  it('deleting the hidden id column deletes nothing; discard gives the rows their ids back', async () => {
    const base = `${cli.info.sheetsApiUrl as string}/v4/spreadsheets/sheetsync-demo/values`;
    const grid = async () =>
      ((await (await fetch(`${base}/Leads`)).json()) as { values: unknown[][] }).values;
    const before = await grid();
    const idColumn = (before[0] as string[]).indexOf('_sheetsync_id');
    expect(idColumn).toBeGreaterThan(0);
    const response = await fetch(
      `${cli.info.sheetsApiUrl as string}/_emulator/v1/spreadsheets/sheetsync-demo/userActions`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          actions: [{ type: 'deleteColumns', sheet: 'Leads', index: idColumn, count: 1 }],
        }),
      },
    );
    expect(response.status).toBe(200);
    const [change] = await waitFor('the change held', async () => {
      const list = await held();
      return list.length > 0 && list;
    });
    expect(change).toMatchObject({ count: 10, side: 'db' });
    expect(await tableCount()).toBe(10);

    const discard = await cli.sheetsync(['discard', change!.id]);
    expect(discard.code, discard.stderr).toBe(0);
    // Matched by their key: the same rows under the same ids, nothing inserted or appended.
    expect(discard.stdout).toContain('rows: 0 inserted in the table, 0 appended to the sheet, 0 deleted');
    const after = await grid();
    const byKey = (rows: unknown[][], at: number) =>
      new Map(rows.slice(1).map((r) => [String(r[0]), String(r[at] ?? '')]));
    const afterIdColumn = (after[0] as string[]).indexOf('_sheetsync_id');
    expect(byKey(after, afterIdColumn)).toEqual(byKey(before, idColumn));
    expect(await tableCount()).toBe(10);
    expect(await held()).toEqual([]);
  }, 180_000);
});
