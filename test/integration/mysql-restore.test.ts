/**
 * The restore at start (functions/src/sync-jobs/restore-link.ts) on MariaDB, through the MySQL
 * SyncDatabase (adapters/mysql/mysql-sync-database.ts, mysql-restore.ts), as
 * restore-link.test.ts holds it on PostgreSQL: documents a lost store held are rebuilt from the
 * sheet's ids and the table's keys, the outbox's changes are marked seen, and the watermark
 * waits for a transaction still writing a watched table.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { installMysqlCapture, watchMysqlTable } from '../../functions/src/adapters/mysql/mysql-capture.ts';
import { notOnMysql } from '../../functions/src/adapters/mysql/mysql-database.ts';
import { describeMysqlTable } from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { mysqlSyncDatabase } from '../../functions/src/adapters/mysql/mysql-sync-database.ts';
import type { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { parseConfig } from '../../functions/src/config.ts';
import type { SyncDatabase } from '../../functions/src/ports/sync-database.ts';
import { attachLink } from '../../functions/src/sync-jobs/attach.ts';
import { restoreLink } from '../../functions/src/sync-jobs/restore-link.ts';
import { emulatorVersionStore, startLocalSheet } from '../support/local-sheet.ts';
import { useMysqlDatabase } from '../support/mysql.ts';
import { uniqueName } from '../support/names.ts';
import { tabValues } from '../support/sheet-state.ts';

describe('the restore at start on MariaDB', () => {
  const db = useMysqlDatabase();
  let emulator: Emulator;
  let firestore: Firestore;
  let api: SheetsApi;
  let database: SyncDatabase;
  const spreadsheetId = uniqueName('mysql-restore');

  beforeAll(async () => {
    ({ emulator, api } = await startLocalSheet(spreadsheetId, ['Lost']));
    ({ firestore } = emulatorVersionStore());
    await installMysqlCapture(db.pool, db.name);
    database = mysqlSyncDatabase(db.pool, { outboxDatabase: db.name });
  });
  afterAll(async () => {
    await firestore?.terminate();
    await emulator?.close();
  });

  const newStore = () => new FirestoreVersionStore({ firestore, root: uniqueName('links') });
  const deps = () => ({ sql: notOnMysql<never>('a PostgreSQL client'), database, sheetsApi: api });
  const sheet = () => tabValues(emulator, spreadsheetId, 'Lost').slice(1);
  const lastChange = async () => {
    const [rows] = (await db.pool.query(`select max(id) as id from \`${db.name}\`.outbox`)) as unknown as [
      Array<{ id: string | number }>,
    ];
    return Number(rows[0]!.id) * 1000;
  };

  it('rebuilds the documents a lost store held, marks the outbox changes seen, and waits for open writers', async () => {
    await db.pool.query(
      'create table lost (id bigint not null auto_increment primary key, name varchar(40), status varchar(20))',
    );
    await watchMysqlTable(db.pool, await describeMysqlTable(db.pool, 'lost'), 'lost', db.name);
    await db.pool.query(
      "insert into lost (name, status) values ('Ada', 'new'), ('Grace', 'new'), ('Kathy', 'new'), ('Alan', 'new')",
    );
    const link = parseConfig({
      links: [{ name: 'lost', spreadsheetId, sheet: 'Lost', table: 'lost', conflict: { policy: 'manual' } }],
    }).links[0]!;
    expect(await attachLink({ ...deps(), store: newStore(), link })).toMatchObject({ rows: 4 });
    const ids = sheet().map((row) => String(row[3]));

    // A writer still open when the restore starts: the watermark waits for it, then covers it.
    const writer = await db.pool.getConnection();
    try {
      await writer.query('start transaction');
      await writer.query("update lost set status = 'open' where id = 4");
      let settled = false;
      const watermark = database.outboxWatermark().finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      await writer.query('commit');
      expect(await watermark).toBeGreaterThanOrEqual(await lastChange());
    } finally {
      writer.release();
    }

    const store = newStore(); // the store is lost
    const watermark = await database.outboxWatermark();
    const result = await restoreLink({ ...deps(), store, link }, watermark);
    // 4 INSERTs and the UPDATE wait in the outbox (no relay ran).
    expect(result).toMatchObject({ rowsRebuilt: 4, pendingChanges: 5 });
    expect(result.reconcile).toMatchObject({ rowsAppendedToSheet: 0, rowsInsertedInDb: 0 });
    expect(sheet()).toHaveLength(4);
    const byKey = await store.rowIdsForKeys(
      'lost',
      [1, 2, 3, 4].map((id) => ({ id: String(id) })),
    );
    expect([...byKey.values()]).toEqual(ids);
    // Their replays are dropped, not applied again: every document has seen them.
    const docs = await store.readRows('lost', ids);
    expect([...docs.values()].every((doc) => doc.vv.db >= watermark)).toBe(true);
    // The table's value of row 4 is what the sheet shows now (the restore ran reconcile).
    expect(sheet()[3]!.slice(1, 3)).toEqual(['Alan', 'open']);
  });
});
